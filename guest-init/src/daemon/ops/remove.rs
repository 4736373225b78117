//! Removing a tree below a directory descriptor, without following
//! symlinks: rm_rf, and mv across filesystems.

use std::ffi::{OsStr, OsString};
use std::os::fd::{AsFd, OwnedFd};

use protocol::{CallIo, ErrorReply};
use rustix::fs::{AtFlags, FileType};
use rustix::io::Errno;

use crate::daemon::dirs::{entry_type, open_subdir, read_entries, Entry};
use crate::daemon::util::{check_cancel, errno_reply};

/// A directory being emptied.
struct Level {
    dir: OwnedFd,
    entries: std::vec::IntoIter<Entry>,
    /// Its name in the level above (or in the top's parent).
    name: OsString,
    /// Its guest path, for messages.
    shown: String,
}

fn join(shown: &str, name: &OsStr) -> String {
    format!("{}/{}", shown.trim_end_matches('/'), name.to_string_lossy())
}

/// Removes `name` in `parent` and everything below it. Missing entries
/// are not errors (something else may have removed them). One descriptor
/// per level of depth is held; each directory is read whole before its
/// entries go (deleting while reading is unreliable on some filesystems).
pub(in crate::daemon) fn remove_tree(
    io: &dyn CallIo,
    parent: &OwnedFd,
    name: &OsStr,
    shown: &str,
) -> Result<(), ErrorReply> {
    check_cancel(io)?;
    let st = match rustix::fs::statat(parent, name, AtFlags::SYMLINK_NOFOLLOW) {
        Ok(st) => st,
        Err(Errno::NOENT) => return Ok(()),
        Err(e) => return Err(errno_reply("lstat", shown, e)),
    };
    if FileType::from_raw_mode(st.st_mode) != FileType::Directory {
        return unlink(parent, name, AtFlags::empty(), shown);
    }
    let mut stack = vec![open_level(parent, name, shown.to_owned())?];
    loop {
        check_cancel(io)?;
        let Some(level) = stack.last_mut() else {
            return Ok(());
        };
        match level.entries.next() {
            Some(entry) if entry.is_dot() => {}
            Some(entry) => {
                let sub = join(&level.shown, &entry.name);
                let ftype = match entry_type(&level.dir, &entry) {
                    Ok(t) => t,
                    Err(Errno::NOENT) => continue,
                    Err(e) => return Err(errno_reply("lstat", &sub, e)),
                };
                if ftype == FileType::Directory {
                    let next = open_level(&level.dir, &entry.name, sub)?;
                    stack.push(next);
                } else {
                    unlink(&level.dir, &entry.name, AtFlags::empty(), &sub)?;
                }
            }
            None => {
                let done = stack.pop();
                if let Some(done) = done {
                    drop(done.dir);
                    let above = stack
                        .last()
                        .map(|l| l.dir.as_fd())
                        .unwrap_or(parent.as_fd());
                    unlink(above, &done.name, AtFlags::REMOVEDIR, &done.shown)?;
                }
            }
        }
    }
}

fn open_level(parent: impl AsFd, name: &OsStr, shown: String) -> Result<Level, ErrorReply> {
    let dir = open_subdir(parent, name).map_err(|e| errno_reply("open", &shown, e))?;
    let entries = read_entries(&dir, &shown)?.into_iter();
    Ok(Level {
        dir,
        entries,
        name: name.to_owned(),
        shown,
    })
}

fn unlink(dir: impl AsFd, name: &OsStr, flags: AtFlags, shown: &str) -> Result<(), ErrorReply> {
    match rustix::fs::unlinkat(dir, name, flags) {
        Ok(()) | Err(Errno::NOENT) => Ok(()),
        Err(e) => {
            let op = if flags.contains(AtFlags::REMOVEDIR) {
                "rmdir"
            } else {
                "unlink"
            };
            Err(errno_reply(op, shown, e))
        }
    }
}
