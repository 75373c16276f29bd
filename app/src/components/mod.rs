//! Reusable pieces of the console.

pub mod admin_page;
pub mod field_error;
pub mod filters;
pub mod header;
pub mod job_progress;
pub mod modal;
pub mod shown_once;
pub mod tag_chips;
pub mod theme;
pub mod viewer;
