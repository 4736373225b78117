//! Changing the tree: creating and removing directories and files,
//! copying, moving, links, and metadata (modes, owners, times).

use protocol::types::Pathname;
use protocol::{calls, CallIo, ErrorReply};
use rustix::fs::{AtFlags, Gid, Mode, OFlags, Timespec, Timestamps, Uid};
use rustix::io::Errno;

use super::root::{fd_path, split_last, Root};
use super::state::GuestDaemon;
use super::util::{errno_reply, invalid};

mod attrs;
mod contents;
mod copy;
mod links;
mod remove;
#[cfg(test)]
mod tests;
mod tree;

pub(super) use attrs::copy_attributes;
pub(super) use copy::{cp, cp_a, cp_r, mv};
pub(super) use links::{ln, ln_f, ln_sf, rename, rm_f};

/// Mode of new directories, before the umask (0755 with the usual 022),
/// as mkdir(1).
const DIR_MODE: u32 = 0o777;

pub(super) fn mkdir(
    d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    args: calls::mkdir::Args,
) -> Result<calls::mkdir::Ret, ErrorReply> {
    let (dir, name) = d.root.parent(&args.path)?;
    rustix::fs::mkdirat(&dir, &name, Mode::from_raw_mode(DIR_MODE))
        .map_err(|e| errno_reply("mkdir", args.path.as_str(), e))
}

/// `/a/b/c` → `/a/b`, `/a/..` → `/a`: the path without its last
/// component, lexically.
fn without_last(path: &str) -> &str {
    let trimmed = path.trim_end_matches('/');
    match trimmed.rsplit_once('/') {
        Some(("", _)) | None => "/",
        Some((dir, _)) => dir,
    }
}

fn open_dir_path(root: &Root, path: &str) -> Result<std::os::fd::OwnedFd, ErrorReply> {
    root.open_str(path, OFlags::PATH | OFlags::DIRECTORY, Mode::empty())
}

/// mkdir -p: missing parents made first; an existing directory (or
/// symlink to one, inside the root) is fine, anything else there is
/// EEXIST. Recursion is bounded by the path's components (≤ 2048).
fn mkdir_p_str(root: &Root, path: &str) -> Result<(), ErrorReply> {
    let Some((dir, name)) = split_last(path) else {
        // `/`, or ending in `.` or `..`: only has to exist.
        return match open_dir_path(root, path) {
            Err(e) if e.errno == libc::ENOENT && !path.trim_end_matches('/').is_empty() => {
                mkdir_p_str(root, without_last(path))?;
                open_dir_path(root, path).map(drop)
            }
            other => other.map(drop),
        };
    };
    let dirfd = match open_dir_path(root, dir) {
        Err(e) if e.errno == libc::ENOENT => {
            mkdir_p_str(root, dir)?;
            open_dir_path(root, dir)?
        }
        other => other?,
    };
    match rustix::fs::mkdirat(&dirfd, name, Mode::from_raw_mode(DIR_MODE)) {
        Ok(()) => Ok(()),
        Err(Errno::EXIST) => match open_dir_path(root, path) {
            Ok(_) => Ok(()),
            Err(_) => Err(ErrorReply::errno(
                libc::EEXIST,
                format!("mkdir_p {path}: exists and is not a directory"),
            )),
        },
        Err(e) => Err(errno_reply("mkdir", path, e)),
    }
}

pub(super) fn mkdir_p(
    d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    args: calls::mkdir_p::Args,
) -> Result<calls::mkdir_p::Ret, ErrorReply> {
    mkdir_p_str(&d.root, args.path.as_str())
}

pub(super) fn rmdir(
    d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    args: calls::rmdir::Args,
) -> Result<calls::rmdir::Ret, ErrorReply> {
    let (dir, name) = d.root.parent(&args.path)?;
    rustix::fs::unlinkat(&dir, &name, AtFlags::REMOVEDIR)
        .map_err(|e| errno_reply("rmdir", args.path.as_str(), e))
}

/// unlink(2): a directory is EISDIR; a symlink is removed, not followed.
pub(super) fn rm(
    d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    args: calls::rm::Args,
) -> Result<calls::rm::Ret, ErrorReply> {
    let (dir, name) = d.root.parent(&args.path)?;
    rustix::fs::unlinkat(&dir, &name, AtFlags::empty())
        .map_err(|e| errno_reply("unlink", args.path.as_str(), e))
}

/// rm -rf. "/" is refused (as libguestfs does); so is a path ending in
/// `.` or `..`. A missing path (or missing parent) is success. Symlinks
/// are removed, never followed.
pub(super) fn rm_rf(
    d: &mut GuestDaemon,
    io: &mut dyn CallIo,
    args: calls::rm_rf::Args,
) -> Result<calls::rm_rf::Ret, ErrorReply> {
    let path = args.path.as_str();
    if path.trim_start_matches('/').is_empty() {
        return Err(invalid("rm_rf: refusing to remove the root directory /"));
    }
    let (dir, name) = match d.root.parent(&args.path) {
        Ok(found) => found,
        Err(e) if e.errno == libc::ENOENT || e.errno == libc::ENOTDIR => return Ok(()),
        Err(e) => return Err(e),
    };
    remove::remove_tree(io, &dir, &name, path)
}

pub(super) fn ln_s(
    d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    args: calls::ln_s::Args,
) -> Result<calls::ln_s::Ret, ErrorReply> {
    if args.target.contains('\0') {
        return Err(invalid("ln_s: the target contains a NUL byte"));
    }
    let (dir, name) = d.root.parent(&args.linkname)?;
    rustix::fs::symlinkat(args.target.as_str(), &dir, &name)
        .map_err(|e| errno_reply("symlink", args.linkname.as_str(), e))
}

/// chmod(2): follows symlinks (inside the root). Only permission bits
/// (0..=0o7777) are accepted.
pub(super) fn chmod(
    d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    args: calls::chmod::Args,
) -> Result<calls::chmod::Ret, ErrorReply> {
    let mode = u32::try_from(args.mode)
        .ok()
        .filter(|m| *m <= 0o7777)
        .ok_or_else(|| {
            invalid(format!(
                "chmod: mode {:#o} is not between 0 and 0o7777",
                args.mode
            ))
        })?;
    let fd = d.root.open(&args.path, OFlags::PATH, Mode::empty())?;
    // fchmod refuses O_PATH descriptors; the /proc link names the very
    // inode already resolved inside the root.
    rustix::fs::chmod(fd_path(&fd), Mode::from_raw_mode(mode))
        .map_err(|e| errno_reply("chmod", args.path.as_str(), e))
}

/// A numeric id for chown: -1 keeps the current one, as chown(2).
pub(super) fn owner_id(what: &str, value: i64) -> Result<Option<u32>, ErrorReply> {
    match value {
        -1 => Ok(None),
        0..=0xffff_fffe => Ok(Some(value as u32)),
        _ => Err(invalid(format!(
            "chown: {what} {value} is not a valid id (0 to 4294967294, or -1 to keep it)"
        ))),
    }
}

/// chown(2): follows symlinks, as libguestfs's chown (lchown is the one
/// that does not).
pub(super) fn chown(
    d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    args: calls::chown::Args,
) -> Result<calls::chown::Ret, ErrorReply> {
    let uid = owner_id("owner", args.owner)?;
    let gid = owner_id("group", args.group)?;
    let fd = d.root.open(&args.path, OFlags::PATH, Mode::empty())?;
    // owner_id never yields u32::MAX (-1), which from_raw rejects.
    let uid = uid.map(Uid::from_raw);
    let gid = gid.map(Gid::from_raw);
    rustix::fs::chownat(&fd, "", uid, gid, AtFlags::EMPTY_PATH)
        .map_err(|e| errno_reply("chown", args.path.as_str(), e))
}

/// lchown(2): a symlink's own owner, not its target's.
pub(super) fn lchown(
    d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    args: calls::lchown::Args,
) -> Result<calls::lchown::Ret, ErrorReply> {
    let uid = owner_id("owner", args.owner)?.map(Uid::from_raw);
    let gid = owner_id("group", args.group)?.map(Gid::from_raw);
    let fd = d
        .root
        .open(&args.path, OFlags::PATH | OFlags::NOFOLLOW, Mode::empty())?;
    rustix::fs::chownat(
        &fd,
        "",
        uid,
        gid,
        AtFlags::EMPTY_PATH | AtFlags::SYMLINK_NOFOLLOW,
    )
    .map_err(|e| errno_reply("lchown", args.path.as_str(), e))
}

/// One timestamp of utimens: nsecs -1 is "now", -2 "leave unchanged"
/// (the secs are then ignored), as libguestfs.
fn timestamp(what: &str, secs: i64, nsecs: i64) -> Result<Timespec, ErrorReply> {
    let tv_nsec = match nsecs {
        -1 => rustix::fs::UTIME_NOW,
        -2 => rustix::fs::UTIME_OMIT,
        0..=999_999_999 => nsecs as _,
        _ => {
            return Err(invalid(format!(
                "utimens: {what} nanoseconds {nsecs} must be 0 to 999999999, -1 (now) or -2 (unchanged)"
            )))
        }
    };
    let tv_sec = if nsecs < 0 { 0 } else { secs };
    Ok(Timespec { tv_sec, tv_nsec })
}

/// utimensat(2) with AT_SYMLINK_NOFOLLOW, as libguestfs's daemon: on a
/// symlink it sets the link's own times.
pub(super) fn utimens(
    d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    args: calls::utimens::Args,
) -> Result<calls::utimens::Ret, ErrorReply> {
    let times = Timestamps {
        last_access: timestamp("access", args.atsecs, args.atnsecs)?,
        last_modification: timestamp("modification", args.mtsecs, args.mtnsecs)?,
    };
    set_times(&d.root, &args.path, &times)
}

fn set_times(root: &Root, path: &Pathname, times: &Timestamps) -> Result<(), ErrorReply> {
    let fd = root.open(path, OFlags::PATH | OFlags::NOFOLLOW, Mode::empty())?;
    rustix::fs::utimensat(
        &fd,
        "",
        times,
        AtFlags::EMPTY_PATH | AtFlags::SYMLINK_NOFOLLOW,
    )
    .map_err(|e| errno_reply("utimens", path.as_str(), e))
}
