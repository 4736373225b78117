//! Opening guest directories and reading their entries, for the listing
//! calls here and for the tree walks of rm_rf and cp_a (ops/). Below the
//! directory a caller opened through `Root`, nothing follows a symlink.

use std::ffi::{OsStr, OsString};
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::ffi::OsStringExt;

use protocol::types::Pathname;
use protocol::ErrorReply;
use rustix::fs::{AtFlags, Dir, FileType, Mode, OFlags, Stat};

use crate::daemon::root::Root;
use crate::daemon::util::errno_reply;

/// One directory entry as read.
pub(in crate::daemon) struct Entry {
    pub(in crate::daemon) name: OsString,
    pub(in crate::daemon) ino: u64,
    /// From d_type; `Unknown` where the filesystem does not say.
    pub(in crate::daemon) ftype: FileType,
}

impl Entry {
    pub(in crate::daemon) fn is_dot(&self) -> bool {
        self.name == "." || self.name == ".."
    }
}

/// Opens a guest directory for reading its entries (following symlinks
/// inside the root, like opendir).
pub(in crate::daemon) fn open_dir(root: &Root, path: &Pathname) -> Result<OwnedFd, ErrorReply> {
    root.open(path, OFlags::RDONLY | OFlags::DIRECTORY, Mode::empty())
}

/// Opens the subdirectory `name` of `dir`, never following a symlink.
pub(in crate::daemon) fn open_subdir(dir: impl AsFd, name: &OsStr) -> rustix::io::Result<OwnedFd> {
    rustix::fs::openat(
        dir,
        name,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::empty(),
    )
}

/// Every entry of a directory (`.` and `..` included), in the
/// filesystem's order. `path` is for error messages.
pub(in crate::daemon) fn read_entries(
    dir: &impl AsFd,
    path: &str,
) -> Result<Vec<Entry>, ErrorReply> {
    let mut stream = Dir::read_from(dir).map_err(|e| errno_reply("opendir", path, e))?;
    let mut entries = Vec::new();
    while let Some(entry) = stream.read() {
        let entry = entry.map_err(|e| errno_reply("readdir", path, e))?;
        entries.push(Entry {
            name: OsString::from_vec(entry.file_name().to_bytes().to_vec()),
            ino: entry.ino(),
            ftype: entry.file_type(),
        });
    }
    Ok(entries)
}

/// The entry's type, from lstat where d_type did not say.
pub(in crate::daemon) fn entry_type(dir: impl AsFd, entry: &Entry) -> rustix::io::Result<FileType> {
    if entry.ftype != FileType::Unknown {
        return Ok(entry.ftype);
    }
    let st = rustix::fs::statat(dir, &entry.name, AtFlags::SYMLINK_NOFOLLOW)?;
    Ok(FileType::from_raw_mode(st.st_mode))
}

/// stat (or lstat) of a guest path.
pub(in crate::daemon) fn stat_path(
    root: &Root,
    path: &Pathname,
    follow: bool,
) -> Result<Stat, ErrorReply> {
    let flags = if follow {
        OFlags::PATH
    } else {
        OFlags::PATH | OFlags::NOFOLLOW
    };
    let fd = root.open(path, flags, Mode::empty())?;
    rustix::fs::fstat(&fd).map_err(|e| errno_reply("stat", path.as_str(), e))
}
