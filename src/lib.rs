//! Native core of @oj/prodkit. This file only declares modules; each capability lives in
//! its own folder. The napi bindings are left out of `cargo test` builds, which have no
//! Node.js to link against, so the logic under them is tested as plain Rust.
#![deny(clippy::all)]

pub mod crypt;
pub mod log;
pub mod metrics;
pub mod ship;
pub mod sys;
pub mod systemd;

#[cfg(not(test))]
pub mod watchdog;
