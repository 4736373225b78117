//! Resolving and measuring guest paths: case_sensitive_path, realpath,
//! glob_expand, find0, filesize and du. Every lookup goes through `Root`,
//! so symlinks and `..` resolve inside the guest tree; the tree walks
//! below a directory never follow a symlink.

use std::collections::HashSet;
use std::os::unix::ffi::OsStrExt;

use protocol::{calls, CallIo, ErrorReply};
use rustix::fs::{AtFlags, FileType, Mode, OFlags};
use rustix::io::Errno;

use super::dirs::read_entries;
use super::root::fd_path;
use super::state::GuestDaemon;
use super::util::{check_cancel, errno_reply, invalid, CHUNK};

mod glob;
#[cfg(test)]
mod tests;
pub(super) mod walk;

pub(super) use glob::glob_expand;

/// The true case of each element of `path`, as libguestfs: an element
/// that exists with exactly that name is kept, else the first entry
/// equal to it without regard to (ASCII) case; a missing last element is
/// appended as given, a missing earlier one is an error.
pub(super) fn case_sensitive_path(
    d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    args: calls::case_sensitive_path::Args,
) -> Result<calls::case_sensitive_path::Ret, ErrorReply> {
    let path = args.path.as_str();
    let elements: Vec<&str> = path.split('/').filter(|c| !c.is_empty()).collect();
    let mut out = String::new();
    for (i, element) in elements.iter().enumerate() {
        if *element == "." || *element == ".." {
            return Err(invalid(format!(
                "case_sensitive_path {path}: path element cannot be '.' or '..'"
            )));
        }
        let dir_path = if out.is_empty() { "/" } else { out.as_str() };
        let dir = d
            .root
            .open_str(dir_path, OFlags::RDONLY | OFlags::DIRECTORY, Mode::empty())?;
        let entries = read_entries(&dir, dir_path)?;
        let wanted = element.as_bytes();
        let found = entries
            .iter()
            .find(|e| e.name.as_bytes() == wanted)
            .or_else(|| {
                entries
                    .iter()
                    .find(|e| !e.is_dot() && e.name.as_bytes().eq_ignore_ascii_case(wanted))
            });
        out.push('/');
        match found {
            // Equal to a UTF-8 element but for ASCII case, so UTF-8 too.
            Some(e) => out.push_str(&String::from_utf8_lossy(e.name.as_bytes())),
            None if i + 1 == elements.len() => out.push_str(element),
            None => return Err(errno_reply("case_sensitive_path", path, Errno::NOENT)),
        }
    }
    if out.is_empty() {
        out.push('/');
    }
    Ok(out)
}

/// The canonical absolute path (symlinks, `.` and `..` resolved), as seen
/// from the guest's root.
pub(super) fn realpath(
    d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    args: calls::realpath::Args,
) -> Result<calls::realpath::Ret, ErrorReply> {
    let path = args.path.as_str();
    let fd = d.root.open(&args.path, OFlags::PATH, Mode::empty())?;
    let target = rustix::fs::readlink(fd_path(&fd), Vec::new())
        .map_err(|e| errno_reply("realpath", path, e))?;
    let root = std::fs::canonicalize(d.root.path())
        .map_err(|e| errno_reply("realpath", &d.root.path().to_string_lossy(), e))?;
    let inside = std::path::Path::new(std::ffi::OsStr::from_bytes(target.as_bytes()))
        .strip_prefix(&root)
        .map_err(|_| errno_reply("realpath", path, Errno::XDEV))?;
    Ok(format!("/{}", inside.to_string_lossy()))
}

/// st_size, following symlinks.
pub(super) fn filesize(
    d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    args: calls::filesize::Args,
) -> Result<calls::filesize::Ret, ErrorReply> {
    let fd = d.root.open(&args.file, OFlags::PATH, Mode::empty())?;
    let st = rustix::fs::fstat(&fd).map_err(|e| errno_reply("stat", args.file.as_str(), e))?;
    Ok(st.st_size)
}

/// FileOut: every path below the directory, each ending in `\0` (find
/// -print0), in walk order, not sorted, the directory as given cut off
/// (as libguestfs: see find).
/// Names go out as the bytes on disk.
pub(super) fn find0(
    d: &mut GuestDaemon,
    io: &mut dyn CallIo,
    args: calls::find0::Args,
) -> Result<calls::find0::Ret, ErrorReply> {
    let top = args.directory.as_str();
    let dir = d.root.open(
        &args.directory,
        OFlags::RDONLY | OFlags::DIRECTORY,
        Mode::empty(),
    )?;
    let mut buf: Vec<u8> = Vec::with_capacity(CHUNK + 4096);
    let lead = super::dirs::find_lead(top);
    walk::walk(dir, top, |_, _, rel, _| {
        check_cancel(&*io)?;
        buf.extend_from_slice(lead.as_bytes());
        buf.extend_from_slice(rel);
        buf.push(0);
        if buf.len() >= CHUNK {
            io.write_chunk(&buf)?;
            buf.clear();
        }
        Ok(())
    })?;
    if !buf.is_empty() {
        io.write_chunk(&buf)?;
    }
    Ok(())
}

/// The disk space a path uses in KiB, like `du -s`: allocated blocks of
/// the path and everything below it (symlinks not followed), each inode
/// with several links counted once.
pub(super) fn du(
    d: &mut GuestDaemon,
    io: &mut dyn CallIo,
    args: calls::du::Args,
) -> Result<calls::du::Ret, ErrorReply> {
    let path = args.path.as_str();
    let fd = d
        .root
        .open(&args.path, OFlags::PATH | OFlags::NOFOLLOW, Mode::empty())?;
    let st = rustix::fs::fstat(&fd).map_err(|e| errno_reply("stat", path, e))?;
    let mut blocks = st.st_blocks as u64;
    if FileType::from_raw_mode(st.st_mode) == FileType::Directory {
        let dir = d.root.open(
            &args.path,
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW,
            Mode::empty(),
        )?;
        let mut seen: HashSet<(u64, u64)> = HashSet::new();
        walk::walk(dir, path, |parent, entry, rel, _| {
            check_cancel(&*io)?;
            let st = rustix::fs::statat(parent, &entry.name, AtFlags::SYMLINK_NOFOLLOW).map_err(
                |e| {
                    let shown = format!("{path}/{}", String::from_utf8_lossy(rel));
                    errno_reply("lstat", &shown, e)
                },
            )?;
            // Field types differ between architectures.
            #[allow(clippy::unnecessary_cast)]
            let key = (st.st_dev as u64, st.st_ino as u64);
            if st.st_nlink > 1 && !seen.insert(key) {
                return Ok(());
            }
            blocks = blocks.saturating_add(st.st_blocks as u64);
            Ok(())
        })?;
    }
    // st_blocks counts 512-byte units; du rounds KiB up.
    Ok(blocks.div_ceil(2) as i64)
}
