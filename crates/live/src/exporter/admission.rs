//! Admission: the connection cap, and which idle connection makes room for a new one.
//!
//! See the exporter's module docs for the policy; the accept loop asks [`Connections::admit`] for
//! a place per connection and answers the ones without a place with [`refuse`].

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::net::TcpStream;
use tokio::sync::Notify;

/// The answer to a connection beyond the cap when none can be closed to make room for it.
const BUSY_RESPONSE: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\n\
Content-Type: text/plain; charset=utf-8\r\nContent-Length: 25\r\nConnection: close\r\n\r\n\
every connection is busy\n";
/// How many evicted connections may linger to answer the request on their way, per place under
/// the cap. Each lingers at most the eviction grace, or while its last request is handled, so
/// this bounds sockets, not time. Four times the cap: clients that reconnect at once after each
/// close (as `wrk -c200` does at three times the cap) all find a place, so none is closed with
/// its request unanswered.
const LINGER_PLACES_PER_CONNECTION: usize = 4;
/// How long a refused connection is given to read [`BUSY_RESPONSE`] before it is dropped.
const REFUSAL_LINGER: Duration = Duration::from_secs(1);

/// The open connections, so that at the cap a new one can take the place of an idle one.
pub(super) struct Connections {
    max: usize,
    open: Mutex<HashMap<u64, Arc<Tracker>>>,
    next_id: AtomicU64,
    /// Refused connections still being answered; bounded too, so a flood costs nothing extra.
    refusing: Arc<AtomicUsize>,
    /// Evicted connections given the grace to answer the request on its way; bounded likewise.
    lingering: Arc<AtomicUsize>,
    /// Where the idle clock ([`Tracker::idle_since`]) starts.
    epoch: Instant,
}

/// What the accept loop knows about one connection.
pub(super) struct Tracker {
    /// Requests being handled on the connection (hyper handles one at a time), and [`EVICTED`].
    /// One word, so that eviction (only of a connection with no request being handled) and the
    /// end of a request (which must learn whether its answer is the connection's last) cannot
    /// pass each other.
    state: AtomicUsize,
    /// When the connection last became idle (opened, or finished a request), in microseconds
    /// since `epoch`.
    idle_since: AtomicU64,
    /// [`Connections::epoch`], so that [`Busy`] can update `idle_since` on its own.
    epoch: Instant,
    /// Wakes the connection's task to close it, making room for a new one.
    pub(super) evict: Notify,
    /// Wakes the waiters (an evicted connection's task) whenever a request starts being handled.
    started: Notify,
}

/// A connection's place in [`Connections`]; dropping it frees the place.
pub(super) struct Slot {
    id: u64,
    pub(super) tracker: Arc<Tracker>,
    pub(super) connections: Arc<Connections>,
}

/// Marks a connection busy while one of its requests is being handled; [`Busy::finish`] ends it.
pub(super) struct Busy(Option<Arc<Tracker>>);

/// The bit of [`Tracker::state`] set when the connection's place was given to a new one.
const EVICTED: usize = 1 << (usize::BITS - 1);

/// A place among the lingering refusals (or evictions); dropping it frees the place.
pub(super) struct Refusal(Arc<AtomicUsize>);

impl Connections {
    pub(super) fn new(max: usize) -> Connections {
        Connections {
            max,
            open: Mutex::new(HashMap::new()),
            next_id: AtomicU64::new(0),
            refusing: Arc::new(AtomicUsize::new(0)),
            lingering: Arc::new(AtomicUsize::new(0)),
            epoch: Instant::now(),
        }
    }

    /// A place for a new connection: a free one, or the place of the connection idle the longest
    /// (told to close). `None` when every connection is in the middle of a request.
    pub(super) fn admit(self: &Arc<Self>) -> Option<Slot> {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        while open.len() >= self.max {
            let (&victim, tracker) = open
                .iter()
                .filter(|(_, tracker)| tracker.state.load(Ordering::Acquire) == 0)
                .min_by_key(|(_, tracker)| tracker.idle_since.load(Ordering::Relaxed))?;
            // Fails when a request started on it meanwhile; then look again without it.
            if tracker
                .state
                .compare_exchange(0, EVICTED, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
            {
                // `notify_one` keeps the wake-up if the task is not waiting yet.
                open.remove(&victim)?.evict.notify_one();
            }
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let tracker = Arc::new(Tracker {
            state: AtomicUsize::new(0),
            idle_since: AtomicU64::new(micros_since(self.epoch, Instant::now())),
            epoch: self.epoch,
            evict: Notify::new(),
            started: Notify::new(),
        });
        open.insert(id, tracker.clone());
        Some(Slot {
            id,
            tracker,
            connections: self.clone(),
        })
    }

    /// A place among the lingering refusals, if there is one (as many as connections).
    pub(super) fn refusal(&self) -> Option<Refusal> {
        take_place(&self.refusing, self.max)
    }

    /// A place among the evicted connections answering their last request
    /// ([`LINGER_PLACES_PER_CONNECTION`] per connection); without one, the evicted connection
    /// closes at once.
    pub(super) fn linger(&self) -> Option<Refusal> {
        take_place(
            &self.lingering,
            self.max.saturating_mul(LINGER_PLACES_PER_CONNECTION),
        )
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = self.connections.open.lock().unwrap_or_else(|e| e.into_inner());
        // An evicted connection's place was already given away.
        if open.get(&self.id).is_some_and(|t| Arc::ptr_eq(t, &self.tracker)) {
            open.remove(&self.id);
        }
    }
}

/// One of `max` places counted by `count`, released when the returned guard drops.
fn take_place(count: &Arc<AtomicUsize>, max: usize) -> Option<Refusal> {
    count
        .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
            (n < max).then_some(n + 1)
        })
        .ok()
        .map(|_| Refusal(count.clone()))
}

impl Tracker {
    /// Marks the connection in the middle of a request until the returned guard finishes.
    pub(super) fn request_started(self: &Arc<Self>) -> Busy {
        self.state.fetch_add(1, Ordering::AcqRel);
        self.started.notify_waiters();
        Busy(Some(self.clone()))
    }

    /// Whether a request is being handled on the connection now, or starts within `grace`.
    /// `closed` is polled meanwhile (it is what drives the connection, so the request can start
    /// at all); `false` as soon as it completes.
    pub(super) async fn request_within(&self, grace: Duration, closed: impl Future<Output = ()>) -> bool {
        let started = self.started.notified();
        tokio::pin!(started);
        // Registered before the check, so a request starting in between still wakes it.
        started.as_mut().enable();
        if self.state.load(Ordering::Acquire) & !EVICTED > 0 {
            return true;
        }
        let waited = tokio::time::timeout(grace, async {
            tokio::select! {
                biased;
                () = started => true,
                () = closed => false,
            }
        });
        waited.await == Ok(true)
    }
}

impl Busy {
    /// Ends the request; `true` when the connection was evicted, so its answer must be its last
    /// (`Connection: close`): the connection is closed once it is written.
    pub(super) fn finish(mut self) -> bool {
        self.end()
    }

    fn end(&mut self) -> bool {
        let Some(tracker) = self.0.take() else {
            return false;
        };
        tracker
            .idle_since
            .store(micros_since(tracker.epoch, Instant::now()), Ordering::Relaxed);
        tracker.state.fetch_sub(1, Ordering::AcqRel) & EVICTED != 0
    }
}

impl Drop for Busy {
    /// A request dropped unfinished (its connection closed) ends too.
    fn drop(&mut self) {
        self.end();
    }
}

/// Microseconds from `epoch` to `at`: the idle clock, which only orders connections.
fn micros_since(epoch: Instant, at: Instant) -> u64 {
    u64::try_from(at.saturating_duration_since(epoch).as_micros()).unwrap_or(u64::MAX)
}

impl Drop for Refusal {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Answers a connection beyond the cap with [`BUSY_RESPONSE`], then half-closes and drains what
/// the client sent before dropping it, so that it sees a FIN after the 503 rather than a reset,
/// which can discard the 503 unread. Gives up after [`REFUSAL_LINGER`].
pub(super) async fn refuse(mut stream: TcpStream, refusal: Refusal) {
    let _refusal = refusal;
    let _ = tokio::time::timeout(REFUSAL_LINGER, async {
        let mut written = 0;
        while written < BUSY_RESPONSE.len() {
            stream.writable().await?;
            match stream.try_write(&BUSY_RESPONSE[written..]) {
                Ok(n) => written += n,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(e) => return Err(e),
            }
        }
        std::future::poll_fn(|cx| tokio::io::AsyncWrite::poll_shutdown(Pin::new(&mut stream), cx)).await?;
        let mut sink = [0u8; 1024];
        loop {
            stream.readable().await?;
            match stream.try_read(&mut sink) {
                Ok(0) => return Ok(()),
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(e) => return Err(e),
            }
        }
    })
    .await;
}
