//! Reusable widgets, one file each.

pub mod app_launcher;
pub mod commit_dialog;
pub mod confirm_dialog;
pub mod create_folder;
pub mod customized_images;
pub mod dialog;
pub mod dialog_targets;
pub mod dialogs_elsewhere;
pub mod explorer;
pub mod field;
pub mod idle_checks;
pub mod keypair_dialog;
pub mod loaded;
pub mod log_viewer;
pub mod notifications;
pub mod popups;
pub mod session_controls;
pub mod session_detail;
pub mod session_dialogs;
pub mod shell;
pub mod status;
pub mod terminate_dialog;
pub mod text_field;
