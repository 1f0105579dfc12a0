//! The metrics sampler: a Rust thread samples the process and the system (sysinfo and
//! getrusage) every interval and renders the result once, as Prometheus text and as JSON,
//! so that JS only picks up finished strings.
//!
//! - `sample`: what one sample holds, and taking it.
//! - `render`: Prometheus exposition text and the JSON snapshot of a sample.
//! - `sampler`: the napi class and its thread.

pub mod render;
pub mod sample;

#[cfg(not(test))]
pub mod sampler;
