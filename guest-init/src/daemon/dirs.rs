//! Listing directories and looking at paths: ls, ll, readdir, find, the
//! stat family and the is_* predicates.

use std::ffi::OsStr;
use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStrExt;

use protocol::types::{Dirent, Pathname, StatVfs, Statns};
use protocol::{calls, CallIo, ErrorReply};
use rustix::fs::{FileType, Mode, OFlags, Stat};

use super::root::Root;
use super::state::GuestDaemon;
use super::util::{check_cancel, errno_reply, Budget};

mod entries;
mod ll;
#[cfg(test)]
mod tests;

pub(super) use entries::{entry_type, open_subdir, read_entries, Entry};
use entries::{open_dir, stat_path};

/// Names are bytes on disk; the API returns UTF-8 strings.
fn lossy(name: &OsStr) -> String {
    String::from_utf8_lossy(name.as_bytes()).into_owned()
}

pub(super) fn ls(
    d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    args: calls::ls::Args,
) -> Result<calls::ls::Ret, ErrorReply> {
    let path = args.directory.as_str();
    let dir = open_dir(&d.root, &args.directory)?;
    let mut budget = Budget::new("ls", path);
    let mut names = Vec::new();
    for entry in read_entries(&dir, path)? {
        if entry.is_dot() {
            continue;
        }
        let name = lossy(&entry.name);
        budget.add(name.len())?;
        names.push(name);
    }
    names.sort_unstable();
    Ok(names)
}

pub(super) fn ll(
    d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    args: calls::ll::Args,
) -> Result<calls::ll::Ret, ErrorReply> {
    ll::long_listing(&d.root, &args.directory)
}

/// libguestfs's type letter for a file type.
fn type_letter(ftype: FileType) -> char {
    match ftype {
        FileType::BlockDevice => 'b',
        FileType::CharacterDevice => 'c',
        FileType::Directory => 'd',
        FileType::Fifo => 'f',
        FileType::Symlink => 'l',
        FileType::RegularFile => 'r',
        FileType::Socket => 's',
        FileType::Unknown => 'u',
    }
}

/// All entries, `.` and `..` included, in the filesystem's order (as
/// libguestfs's readdir).
pub(super) fn readdir(
    d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    args: calls::readdir::Args,
) -> Result<calls::readdir::Ret, ErrorReply> {
    let path = args.dir.as_str();
    let dir = open_dir(&d.root, &args.dir)?;
    let mut budget = Budget::new("readdir", path);
    let mut out = Vec::new();
    for entry in read_entries(&dir, path)? {
        let ftyp = match entry_type(&dir, &entry) {
            Ok(t) => type_letter(t),
            Err(_) => '?',
        };
        let name = lossy(&entry.name);
        // ino (up to 10 bytes) + char (up to 4) + name.
        budget.add_raw(14)?;
        budget.add(name.len())?;
        out.push(Dirent {
            ino: entry.ino as i64,
            ftyp,
            name,
        });
    }
    Ok(out)
}

/// One directory being walked by find.
struct Level {
    entries: std::vec::IntoIter<Entry>,
    dir: OwnedFd,
    /// Its path relative to the starting directory, with a trailing `/`
    /// (empty for the start).
    prefix: String,
}

/// Every path below a directory, sorted bytewise (as libguestfs sorts
/// find's output). Symlinks are listed, never followed; mounted
/// filesystems below are descended into, as find(1) does. Each is the
/// full path with the directory as given cut off, as libguestfs's:
/// `find /etc` gives `/passwd`, `find /etc/` and `find /` give `passwd`.
pub(super) fn find(
    d: &mut GuestDaemon,
    io: &mut dyn CallIo,
    args: calls::find::Args,
) -> Result<calls::find::Ret, ErrorReply> {
    let top = args.directory.as_str();
    let lead = find_lead(top);
    let dir = open_dir(&d.root, &args.directory)?;
    let mut budget = Budget::new("find", top);
    let mut out: Vec<String> = Vec::new();
    let mut stack = vec![Level {
        entries: read_entries(&dir, top)?.into_iter(),
        dir,
        prefix: String::new(),
    }];
    while let Some(level) = stack.last_mut() {
        check_cancel(io)?;
        let Some(entry) = level.entries.next() else {
            stack.pop();
            continue;
        };
        if entry.is_dot() {
            continue;
        }
        let rel = format!("{}{}", level.prefix, lossy(&entry.name));
        budget.add(rel.len())?;
        let shown = || format!("{}/{rel}", top.trim_end_matches('/'));
        let ftype =
            entry_type(&level.dir, &entry).map_err(|e| errno_reply("lstat", &shown(), e))?;
        if ftype == FileType::Directory {
            let sub = open_subdir(&level.dir, &entry.name)
                .map_err(|e| errno_reply("open", &shown(), e))?;
            let entries = read_entries(&sub, &shown())?;
            let prefix = format!("{rel}/");
            out.push(format!("{lead}{rel}"));
            stack.push(Level {
                entries: entries.into_iter(),
                dir: sub,
                prefix,
            });
        } else {
            out.push(format!("{lead}{rel}"));
        }
    }
    out.sort_unstable();
    Ok(out)
}

/// What find and find0 put before a path relative to `top`: the `/` that
/// follows `top` in the full path, unless `top` ends in one.
pub(in crate::daemon) fn find_lead(top: &str) -> &'static str {
    match top.ends_with('/') {
        true => "",
        false => "/",
    }
}

// Stat's field types differ between architectures, hence the casts.
#[allow(clippy::unnecessary_cast)]
pub(in crate::daemon) fn to_statns(st: &Stat) -> Statns {
    Statns {
        st_dev: st.st_dev as i64,
        st_ino: st.st_ino as i64,
        st_mode: i64::from(st.st_mode),
        st_nlink: st.st_nlink as i64,
        st_uid: i64::from(st.st_uid),
        st_gid: i64::from(st.st_gid),
        st_rdev: st.st_rdev as i64,
        st_size: st.st_size as i64,
        st_blksize: st.st_blksize as i64,
        st_blocks: st.st_blocks as i64,
        st_atime_sec: st.st_atime as i64,
        st_atime_nsec: st.st_atime_nsec as i64,
        st_mtime_sec: st.st_mtime as i64,
        st_mtime_nsec: st.st_mtime_nsec as i64,
        st_ctime_sec: st.st_ctime as i64,
        st_ctime_nsec: st.st_ctime_nsec as i64,
        st_spare1: 0,
        st_spare2: 0,
        st_spare3: 0,
        st_spare4: 0,
        st_spare5: 0,
        st_spare6: 0,
    }
}

pub(super) fn statns(
    d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    args: calls::statns::Args,
) -> Result<calls::statns::Ret, ErrorReply> {
    Ok(to_statns(&stat_path(&d.root, &args.path, true)?))
}

pub(super) fn lstatns(
    d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    args: calls::lstatns::Args,
) -> Result<calls::lstatns::Ret, ErrorReply> {
    Ok(to_statns(&stat_path(&d.root, &args.path, false)?))
}

pub(super) fn statvfs(
    d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    args: calls::statvfs::Args,
) -> Result<calls::statvfs::Ret, ErrorReply> {
    let fd = d.root.open(&args.path, OFlags::PATH, Mode::empty())?;
    let v = rustix::fs::fstatvfs(&fd).map_err(|e| errno_reply("statvfs", args.path.as_str(), e))?;
    Ok(StatVfs {
        bsize: v.f_bsize as i64,
        frsize: v.f_frsize as i64,
        blocks: v.f_blocks as i64,
        bfree: v.f_bfree as i64,
        bavail: v.f_bavail as i64,
        files: v.f_files as i64,
        ffree: v.f_ffree as i64,
        favail: v.f_favail as i64,
        fsid: v.f_fsid as i64,
        // statfs(2)'s ST_VALID (0x20) says the flags are filled in;
        // glibc's statvfs, which libguestfs reports, clears it.
        flag: (v.f_flag.bits() as i64) & !0x20,
        namemax: v.f_namemax as i64,
    })
}

/// The file type of a path, or None where it does not exist (ENOENT, or
/// ENOTDIR for a file used as a directory): libguestfs's is_* then answer
/// false; other errors are errors.
pub(in crate::daemon) fn type_if_exists(
    root: &Root,
    path: &Pathname,
    follow: bool,
) -> Result<Option<FileType>, ErrorReply> {
    match stat_path(root, path, follow) {
        Ok(st) => Ok(Some(FileType::from_raw_mode(st.st_mode))),
        Err(e) if e.errno == libc::ENOENT || e.errno == libc::ENOTDIR => Ok(None),
        Err(e) => Err(e),
    }
}

/// Follows symlinks; a dangling link or a symlink loop does not exist.
pub(super) fn exists(
    d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    args: calls::exists::Args,
) -> Result<calls::exists::Ret, ErrorReply> {
    match type_if_exists(&d.root, &args.path, true) {
        Ok(t) => Ok(t.is_some()),
        Err(e) if e.errno == libc::ELOOP => Ok(false),
        Err(e) => Err(e),
    }
}

/// `followsymlinks` defaults to false as in libguestfs: a symlink to a
/// file is not a file.
pub(super) fn is_file(
    d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    args: calls::is_file::Args,
) -> Result<calls::is_file::Ret, ErrorReply> {
    let follow = args.followsymlinks.unwrap_or(false);
    Ok(type_if_exists(&d.root, &args.path, follow)? == Some(FileType::RegularFile))
}

pub(super) fn is_dir(
    d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    args: calls::is_dir::Args,
) -> Result<calls::is_dir::Ret, ErrorReply> {
    let follow = args.followsymlinks.unwrap_or(false);
    Ok(type_if_exists(&d.root, &args.path, follow)? == Some(FileType::Directory))
}

pub(super) fn is_symlink(
    d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    args: calls::is_symlink::Args,
) -> Result<calls::is_symlink::Ret, ErrorReply> {
    Ok(type_if_exists(&d.root, &args.path, false)? == Some(FileType::Symlink))
}

/// The link's target as stored (not resolved); EINVAL for a non-link, as
/// readlink(2).
pub(super) fn readlink(
    d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    args: calls::readlink::Args,
) -> Result<calls::readlink::Ret, ErrorReply> {
    let path = args.path.as_str();
    let fd = d
        .root
        .open(&args.path, OFlags::PATH | OFlags::NOFOLLOW, Mode::empty())?;
    let st = rustix::fs::fstat(&fd).map_err(|e| errno_reply("lstat", path, e))?;
    if FileType::from_raw_mode(st.st_mode) != FileType::Symlink {
        return Err(errno_reply("readlink", path, rustix::io::Errno::INVAL));
    }
    let target = rustix::fs::readlinkat(&fd, "", Vec::new())
        .map_err(|e| errno_reply("readlink", path, e))?;
    Ok(String::from_utf8_lossy(target.as_bytes()).into_owned())
}
