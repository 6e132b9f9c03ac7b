//! The live side: registers the catalogue in a `prometheus::Registry`, hands out recording
//! handles and serves `/metrics`. (Stub: the library issue fills this in.)

/// Every catalogue metric, registered and ready to record.
pub struct Metrics {}
