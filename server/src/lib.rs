//! The kv-manager server: configuration and the axum router that mounts every surface.

pub mod api_errors;
pub mod cf_api;
pub mod cli;
pub mod config;
pub mod jobs_api;
pub mod kevi;
pub mod kevi_docs;
pub mod metrics;
pub mod router;
pub mod runtime;
pub mod security;
pub mod tls;
pub mod versions;

pub use config::Config;
pub use router::{build, serve};
