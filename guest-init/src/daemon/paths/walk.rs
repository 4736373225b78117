//! A depth-first walk of a guest directory tree for find0 and du: every
//! entry below a directory, parents before children, never following a
//! symlink below the starting directory.

use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStrExt;

use protocol::ErrorReply;
use rustix::fs::FileType;

use crate::daemon::dirs::{entry_type, open_subdir, read_entries, Entry};
use crate::daemon::util::errno_reply;

struct Level {
    entries: std::vec::IntoIter<Entry>,
    dir: OwnedFd,
    /// Path relative to the start, with a trailing `/` (empty at the start).
    prefix: Vec<u8>,
}

/// Calls `visit(parent_dir, entry, relative_path, type)` for each entry
/// below `dir` (opened on `top`, which is for messages), in directory
/// order. `visit` checks for cancellation (it holds the call's I/O).
pub(in crate::daemon) fn walk(
    dir: OwnedFd,
    top: &str,
    mut visit: impl FnMut(&OwnedFd, &Entry, &[u8], FileType) -> Result<(), ErrorReply>,
) -> Result<(), ErrorReply> {
    let mut stack = vec![Level {
        entries: read_entries(&dir, top)?.into_iter(),
        dir,
        prefix: Vec::new(),
    }];
    while let Some(level) = stack.last_mut() {
        let Some(entry) = level.entries.next() else {
            stack.pop();
            continue;
        };
        if entry.is_dot() {
            continue;
        }
        let mut rel = level.prefix.clone();
        rel.extend_from_slice(entry.name.as_bytes());
        let shown = || {
            format!(
                "{}/{}",
                top.trim_end_matches('/'),
                String::from_utf8_lossy(&rel)
            )
        };
        let ftype =
            entry_type(&level.dir, &entry).map_err(|e| errno_reply("lstat", &shown(), e))?;
        visit(&level.dir, &entry, &rel, ftype)?;
        if ftype == FileType::Directory {
            let sub = open_subdir(&level.dir, &entry.name)
                .map_err(|e| errno_reply("open", &shown(), e))?;
            let entries = read_entries(&sub, &shown())?;
            let mut prefix = rel;
            prefix.push(b'/');
            stack.push(Level {
                entries: entries.into_iter(),
                dir: sub,
                prefix,
            });
        }
    }
    Ok(())
}
