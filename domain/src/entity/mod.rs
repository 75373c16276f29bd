//! SeaORM entities of the SQL store and catalog.

pub mod api_token;
pub mod audit_log;
pub mod backup_plan;
pub mod job;
pub mod job_event;
pub mod job_failure;
pub mod key_details;
pub mod key_tag;
pub mod key_version;
pub mod kv_entry;
pub mod metric_rollup;
pub mod namespace;
pub mod service;
pub mod service_token;
