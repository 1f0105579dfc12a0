//! The log writer: JS serialises lines and hands them over in batches (chunks of whole
//! lines); a Rust thread appends them to the destination, one write per batch.
//!
//! - `chunk`: the batch format JS hands over (UTF-16 with shared line heads) and its decoder.
//! - `sealing`: encrypting the fields the batch marks as sealed (`log.encrypt`).
//! - `queue`: the bounded byte queue between the JS thread and the writer thread.
//! - `destination`: where bytes go (stdout, stderr, a file path, a file descriptor).
//! - `writer`: the writer thread: batching, retry on errors, the dropped-lines notice.
//! - `rotate`: rotation by size and/or interval, decided by the writer before each batch;
//!   `lockfile` (the flock that makes it safe across processes) and `naming` (names of
//!   rotated files).
//! - `archive`: the thread that compresses rotated files (`compress`) and applies
//!   retention.
//! - `pending`: the lines JS has logged and not yet handed over, in memory Rust owns;
//!   `emergency`: writing them (and the queue) on abort, exit() and env teardown.
//! - `sink`: the napi class JS talks to.

pub mod archive;
pub mod chunk;
pub mod compress;
pub mod destination;
pub mod emergency;
pub mod lockfile;
pub mod naming;
pub mod notice;
pub mod pending;
pub mod queue;
pub mod rotate;
pub mod sealing;
pub mod shutdown;
pub mod writer;

#[cfg(not(test))]
pub mod sink;
