//! Reading guest files for inspection, always through a [`Root`]
//! (openat2 RESOLVE_IN_ROOT): a symlink in the guest, absolute or not,
//! resolves inside the guest filesystem; a symlink loop is ELOOP. Only
//! regular files are opened for reading (a FIFO would block, a device
//! node could be anything), and every read is capped.

use std::fs::File;
use std::io::Read;

use rustix::fs::{FileType, Mode, OFlags};

use crate::daemon::root::{fd_path, Root};

/// Entries read from one directory at most (case-insensitive lookups,
/// package directories).
pub(super) const MAX_DIR_ENTRIES: usize = 1 << 16;

/// A regular guest file, opened for reading; None when absent, not a
/// regular file, or not openable (a symlink loop, EACCES…). The path is
/// first opened O_PATH and checked, then reopened through its descriptor:
/// a FIFO or a device node is never opened for real.
pub(super) fn open_regular(root: &Root, path: &str) -> Option<File> {
    let fd = root.open_str(path, OFlags::PATH, Mode::empty()).ok()?;
    let st = rustix::fs::fstat(&fd).ok()?;
    if FileType::from_raw_mode(st.st_mode) != FileType::RegularFile {
        return None;
    }
    let flags = OFlags::RDONLY | OFlags::NONBLOCK | OFlags::NOCTTY | OFlags::CLOEXEC;
    let file = rustix::fs::open(fd_path(&fd), flags, Mode::empty()).ok()?;
    Some(File::from(file))
}

/// At most the first `cap` bytes of a regular file.
pub(super) fn read_prefix(root: &Root, path: &str, cap: usize) -> Option<Vec<u8>> {
    let file = open_regular(root, path)?;
    let mut buf = Vec::new();
    file.take(cap as u64).read_to_end(&mut buf).ok()?;
    Some(buf)
}

/// The first `cap` bytes of a text file, lossily decoded.
pub(super) fn read_text(root: &Root, path: &str, cap: usize) -> Option<String> {
    read_prefix(root, path, cap).map(|b| String::from_utf8_lossy(&b).into_owned())
}

/// A whole regular file: Ok(None) when absent, an error when larger
/// than `cap` or unreadable.
pub(super) fn read_whole(root: &Root, path: &str, cap: usize) -> Result<Option<Vec<u8>>, String> {
    let Some(file) = open_regular(root, path) else {
        return Ok(None);
    };
    let mut buf = Vec::new();
    file.take(cap as u64 + 1)
        .read_to_end(&mut buf)
        .map_err(|e| format!("read {path}: {e}"))?;
    if buf.len() > cap {
        return Err(format!("{path} is larger than {} MiB", cap >> 20));
    }
    Ok(Some(buf))
}

/// Whether the path exists (a final symlink counts, dangling or not).
pub(super) fn exists(root: &Root, path: &str) -> bool {
    root.open_str(path, OFlags::PATH | OFlags::NOFOLLOW, Mode::empty())
        .is_ok()
}

/// Whether the path is a directory (following symlinks inside the root).
pub(super) fn is_dir(root: &Root, path: &str) -> bool {
    root.open_str(path, OFlags::PATH | OFlags::DIRECTORY, Mode::empty())
        .is_ok()
}

/// The names in a guest directory (not `.`/`..`), at most
/// MAX_DIR_ENTRIES; empty when it cannot be read.
pub(super) fn list_dir(root: &Root, path: &str) -> Vec<String> {
    let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NONBLOCK;
    let Ok(fd) = root.open_str(path, flags, Mode::empty()) else {
        return Vec::new();
    };
    let Ok(dir) = rustix::fs::Dir::read_from(&fd) else {
        return Vec::new();
    };
    dir.take(MAX_DIR_ENTRIES + 2)
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().to_str().ok().map(str::to_owned))
        .filter(|n| n != "." && n != "..")
        .take(MAX_DIR_ENTRIES)
        .collect()
}

/// The real spelling of `path` in the guest, each component matched
/// exactly or else case-insensitively (Windows trees: `/windows/system32`
/// for `/Windows/System32`). None when a component is missing.
pub(super) fn ci_path(root: &Root, path: &str) -> Option<String> {
    let mut real = String::new();
    for part in path.split('/').filter(|p| !p.is_empty()) {
        let dir = if real.is_empty() { "/" } else { real.as_str() };
        let name = if exists(root, &format!("{real}/{part}")) {
            part.to_owned()
        } else {
            let lower = part.to_lowercase();
            list_dir(root, dir)
                .into_iter()
                .find(|n| n.to_lowercase() == lower)?
        };
        real = format!("{real}/{name}");
    }
    Some(if real.is_empty() { "/".into() } else { real })
}
