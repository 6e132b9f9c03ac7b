//! The Alertmanager webhook receiver: a std `TcpListener` thread that answers every POST with 200
//! and keeps the JSON bodies, so the test can see which alerts reached the end of the pipeline.

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
    bodies: Arc<Mutex<Vec<Value>>>,
}

impl WebhookSink {
    pub fn start() -> Result<WebhookSink, String> {
        let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| format!("webhook sink: {e}"))?;
        let port = listener.local_addr().map_err(|e| e.to_string())?.port();
        let bodies = Arc::new(Mutex::new(Vec::new()));
        let store = Arc::clone(&bodies);
        thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let store = Arc::clone(&store);
                thread::spawn(move || serve_connection(stream, &store));
            }
        });
        Ok(WebhookSink { port, bodies })
    }

    /// Every notification received so far, oldest first.
    pub fn notifications(&self) -> Vec<Value> {
        self.bodies.lock().unwrap().clone()
    }

    /// The alerts of every notification with the given `alertname` and `status`.
    pub fn alerts_named(&self, alertname: &str, status: &str) -> Vec<Value> {
        self.notifications()
            .iter()
            .filter_map(|n| n["alerts"].as_array())
            .flatten()
            .filter(|a| a["labels"]["alertname"] == alertname && a["status"] == status)
            .cloned()
            .collect()
    }
}

/// Reads HTTP/1.1 requests off one connection (keep-alive), answering each with 200.
fn serve_connection(stream: TcpStream, store: &Mutex<Vec<Value>>) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
    let Ok(mut writer) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(stream);
    loop {
        let mut content_length = 0;
        let mut line = String::new();
        let mut saw_request_line = false;
        loop {
            line.clear();
            match reader.read_line(&mut line) {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
            let header = line.trim_end();
            if header.is_empty() {
                if saw_request_line {
                    break;
                }
                continue;
            }
            saw_request_line = true;
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
        store.lock().unwrap().push(value);
        let answer = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
        if writer.write_all(answer.as_bytes()).is_err() {
            return;
        }
    }
}
