//! Helpers shared by the text-file parsers (fstab, os-release, package
//! lists).

/// Text lines with a trailing `\r` cut (files edited on Windows).
pub fn lines(text: &str) -> impl Iterator<Item = &str> {
    text.lines().map(|l| l.trim_end_matches('\r'))
}
