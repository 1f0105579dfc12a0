pub mod http;
pub mod target;
