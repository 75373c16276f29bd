//! SeaORM entities of the SQL store and catalog.

pub mod kv_entry;
pub mod namespace;
