//! Reusable pieces of the console.

pub mod admin_page;
pub mod chart;
pub mod confirm_dialog;
pub mod copy_button;
pub mod cursor_list;
pub mod data_table;
pub mod diff_view;
pub mod field_error;
pub mod filters;
pub mod form_action;
pub mod header;
pub mod job_progress;
pub mod modal;
pub mod namespace_select;
pub mod palette;
pub mod preview;
pub mod radio_group;
pub mod shown_once;
pub mod tag_chips;
pub mod text;
pub mod theme;
pub mod token_cells;
pub mod value_viewer;
pub mod viewer;
