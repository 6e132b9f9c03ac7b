//! The webhook receiver (of Alertmanager's notifications, and of Sockudo's webhooks): a std
//! `TcpListener` thread that answers every POST with one status (200, or an error to play a
//! failing endpoint) and keeps the JSON bodies with the path each was posted to, so the test can
//! see which alerts or events reached the end of the pipeline, and through which receiver.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use serde_json::Value;

/// The running sink. Its thread lives until the test process ends; it only ever blocks on
/// `accept`, so it holds nothing up.
pub struct WebhookSink {
    pub port: u16,
    bodies: Arc<Mutex<Vec<(String, Value)>>>,
}

impl WebhookSink {
    /// A sink answering 200.
    pub fn start() -> Result<WebhookSink, String> {
        WebhookSink::answering(200)
    }

    /// A sink answering every request with `status` (and keeping the bodies all the same).
    pub fn answering(status: u16) -> Result<WebhookSink, String> {
        let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| format!("webhook sink: {e}"))?;
        let port = listener.local_addr().map_err(|e| e.to_string())?.port();
        let bodies = Arc::new(Mutex::new(Vec::new()));
        let store = Arc::clone(&bodies);
        thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let store = Arc::clone(&store);
                thread::spawn(move || serve_connection(stream, &store, status));
            }
        });
        Ok(WebhookSink { port, bodies })
    }

    /// The URL of the sink at `path` (which starts with `/`).
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// Every notification received so far, oldest first.
    pub fn notifications(&self) -> Vec<Value> {
        self.bodies
            .lock()
            .unwrap()
            .iter()
            .map(|(_, body)| body.clone())
            .collect()
    }

    /// Every body received so far with the path it was posted to, oldest first.
    pub fn posts(&self) -> Vec<(String, Value)> {
        self.bodies.lock().unwrap().clone()
    }

    /// Every notification posted to `path`, oldest first.
    pub fn notifications_to(&self, path: &str) -> Vec<Value> {
        let bodies = self.bodies.lock().unwrap();
        bodies
            .iter()
            .filter(|(p, _)| p == path)
            .map(|(_, body)| body.clone())
            .collect()
    }

    /// The alerts of every notification with the given `alertname` and `status`.
    pub fn alerts_named(&self, alertname: &str, status: &str) -> Vec<Value> {
        alerts_of(&self.notifications())
            .filter(|a| a["labels"]["alertname"] == alertname && a["status"] == status)
            .collect()
    }
}

/// The alerts of `notifications`, in order.
pub fn alerts_of(notifications: &[Value]) -> impl Iterator<Item = Value> + '_ {
    notifications
        .iter()
        .filter_map(|n| n["alerts"].as_array())
        .flatten()
        .cloned()
}

/// Reads HTTP/1.1 requests off one connection (keep-alive), answering each with `status`.
fn serve_connection(stream: TcpStream, store: &Mutex<Vec<(String, Value)>>, status: u16) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
    let Ok(mut writer) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(stream);
    loop {
        let mut content_length = 0;
        let mut line = String::new();
        let mut path = None;
        loop {
            line.clear();
            match reader.read_line(&mut line) {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
            let header = line.trim_end();
            if header.is_empty() {
                if path.is_some() {
                    break;
                }
                continue;
            }
            if path.is_none() {
                // The request line: `POST /path HTTP/1.1`.
                path = Some(header.split(' ').nth(1).unwrap_or("/").to_string());
                continue;
            }
            if let Some((name, value)) = header.split_once(':') {
                if name.eq_ignore_ascii_case("content-length") {
                    content_length = value.trim().parse().unwrap_or(0);
                }
            }
        }
        let mut body = vec![0; content_length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let value = serde_json::from_slice(&body)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&body).into_owned()));
        store.lock().unwrap().push((path.unwrap_or_default(), value));
        let answer = format!("HTTP/1.1 {status} Sink\r\nContent-Length: 0\r\n\r\n");
        if writer.write_all(answer.as_bytes()).is_err() {
            return;
        }
    }
}
