//! The operating-system layer: every call that differs between Linux, macOS and Windows
//! lives here, one file per concern, so that the rest of the crate is written once.
//!
//! Each function states what it guarantees on each platform. Where a platform has no
//! equivalent, the function either falls back to something weaker that is still correct
//! (and says so), reports the figure as absent (`None`), or returns an error with a
//! stable code (`ENOTSUP`, as libuv names it) at the call that needs it. The table of
//! what works where is `docs/platforms.md`.
//!
//! - `fs`: opening files so that rotation can rename them while others hold them open,
//!   file identity (is the open file still the one at the path?), folder fsync.
//! - `lock`: the exclusive lock (advisory on Unix, mandatory on Windows) that
//!   serialises writers across processes.
//! - `fd`: writing to stdout, stderr, an app's descriptor or an open file, and the
//!   operations that keep lines whole there (kind, size, offset, last byte, reserve, cut).
//! - `cpu`: CPU time of the process and of the calling thread.
//! - `stack`: whether the calling thread is in Node's out-of-memory handler (for the
//!   SIGABRT handler).
//! - `thread`: lowering the calling thread's priority for background work.
//! - `error`: the errno-style names (`ENOSPC`) of OS errors, as Node reports them.

pub mod cpu;
pub mod error;
pub mod fd;
pub mod fs;
pub mod lock;
pub mod stack;
pub mod thread;
