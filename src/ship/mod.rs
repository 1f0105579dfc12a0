//! Shipping: prodkit sends its own log files to a log store, disk first. The log file is
//! the buffer; a thread follows it (and its rotated files, plain and `.gz`) and moves a
//! durable checkpoint only when the store has acknowledged a batch. At-least-once, at most
//! one batch repeated per interruption (crash, kill, store failure). See docs/shipping.md.
//!
//! - `target`: the interface between the shipper and a store.
//! - `http`: the HTTP log stores (ClickHouse, Elasticsearch, Loki, Splunk HEC, OTLP).
//! - `targets`: target URLs and the dispatch of a URL to its target; `net`: connections.
//! - `syslog`: syslog over TCP or TLS, octet counting, RFC 5424; `tls`: its rustls setup.
//! - `relp`: RELP (rsyslog's acknowledged protocol), the same RFC 5424 messages.
//! - `checkpoint`: the durable checkpoint, and what retention asks of it.
//! - `follow`: reading the files in rotation order, whole lines only.
//! - `shipper`: the thread: batches, retries with backoff, rejected lines, stats.
//! - `napi`: the class JS starts a shipper with.

pub mod checkpoint;
pub mod follow;
pub mod http;
pub mod net;
pub mod relp;
pub mod shipper;
pub mod syslog;
pub mod target;
pub mod targets;
pub mod tls;

#[cfg(not(test))]
pub mod napi;
