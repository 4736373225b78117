//! Byte progress bars on stderr for long copies. Only made when stderr is
//! a terminal: the piped path calls the library directly, with no
//! counting wrapper in between.

use std::path::Path;

use indicatif::{ProgressBar, ProgressStyle};

/// A bar to `total` bytes, or a spinner counting bytes when the total is
/// not known beforehand (tar-out, copy-out of a tree).
pub fn bytes(what: &str, total: Option<u64>) -> ProgressBar {
    let (bar, template) = match total {
        Some(total) => (
            ProgressBar::new(total),
            "{msg} [{bar:30}] {binary_bytes}/{binary_total_bytes} {binary_bytes_per_sec} eta {eta}",
        ),
        None => (
            ProgressBar::new_spinner(),
            "{spinner} {msg} {binary_bytes} {binary_bytes_per_sec} {elapsed}",
        ),
    };
    // The templates are constants; a bad one would fall back to the plain bar.
    let style = ProgressStyle::with_template(template)
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
    bar.set_style(style);
    // The label may be a guest path: shown as standard error shows text.
    bar.set_message(crate::terminal::for_stderr(what));
    bar.enable_steady_tick(std::time::Duration::from_millis(200));
    bar
}

/// The bytes a host file or tree will take in a tar stream: file data
/// plus a 512-byte header per entry, rounded to records as tar does. An
/// estimate for the bar's length, never a limit.
pub fn tree_size(path: &Path) -> u64 {
    let Ok(meta) = std::fs::symlink_metadata(path) else {
        return 0;
    };
    let mut total = 512 + meta.len().div_ceil(512) * 512;
    if meta.is_dir() {
        total = 512;
        if let Ok(entries) = std::fs::read_dir(path) {
            for entry in entries.flatten() {
                total += tree_size(&entry.path());
            }
        }
    }
    total
}
