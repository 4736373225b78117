//! rm_f, hard and symbolic links that replace, and rename(2). Names are
//! reached through `Root::parent`, then *at() calls that do not follow
//! the last component.

use protocol::types::Pathname;
use protocol::{calls, CallIo, ErrorReply};
use rustix::fs::{AtFlags, FileType};
use rustix::io::Errno;

use super::contents::same_inode;
use super::copy::target_path;
use crate::daemon::root::Root;
use crate::daemon::state::GuestDaemon;
use crate::daemon::util::{errno_reply, invalid};

/// rm -f: a missing file (or missing parent) is success; a directory is
/// still EISDIR.
pub(in crate::daemon) fn rm_f(
    d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    args: calls::rm_f::Args,
) -> Result<calls::rm_f::Ret, ErrorReply> {
    let (dir, name) = match d.root.parent(&args.path) {
        Err(e) if e.errno == libc::ENOENT => return Ok(()),
        other => other?,
    };
    match rustix::fs::unlinkat(&dir, &name, AtFlags::empty()) {
        Ok(()) | Err(Errno::NOENT) => Ok(()),
        Err(e) => Err(errno_reply("unlink", args.path.as_str(), e)),
    }
}

/// link(2) of `target` (a symlink is linked itself, as GNU ln) as
/// `linkname`, or inside it when it is a directory (as ln). With
/// `force`, an existing non-directory linkname is replaced.
fn hard_link(
    root: &Root,
    target: &Pathname,
    linkname: &Pathname,
    force: bool,
) -> Result<(), ErrorReply> {
    let dest = target_path(root, target, linkname)?;
    let (tdir, tname) = root.parent(target)?;
    let (ldir, lname) = root.parent(&dest)?;
    if force {
        let tst = rustix::fs::statat(&tdir, &tname, AtFlags::SYMLINK_NOFOLLOW)
            .map_err(|e| errno_reply("lstat", target.as_str(), e))?;
        replace_existing(&ldir, &lname, &dest, Some(&tst))?;
    }
    rustix::fs::linkat(&tdir, &tname, &ldir, &lname, AtFlags::empty())
        .map_err(|e| errno_reply("link", dest.as_str(), e))
}

/// ln -f's removal of what is at `name`: refused for a directory or for
/// the very file being linked.
fn replace_existing(
    dir: &std::os::fd::OwnedFd,
    name: &std::ffi::OsStr,
    shown: &Pathname,
    source: Option<&rustix::fs::Stat>,
) -> Result<(), ErrorReply> {
    let st = match rustix::fs::statat(dir, name, AtFlags::SYMLINK_NOFOLLOW) {
        Ok(st) => st,
        Err(Errno::NOENT) => return Ok(()),
        Err(e) => return Err(errno_reply("lstat", shown.as_str(), e)),
    };
    if FileType::from_raw_mode(st.st_mode) == FileType::Directory {
        return Err(ErrorReply::errno(
            libc::EISDIR,
            format!("{shown}: cannot overwrite a directory"),
        ));
    }
    if source.is_some_and(|s| same_inode(s, &st)) {
        return Err(ErrorReply::errno(
            libc::EINVAL,
            format!("{shown}: is already the same file as the target"),
        ));
    }
    rustix::fs::unlinkat(dir, name, AtFlags::empty())
        .map_err(|e| errno_reply("unlink", shown.as_str(), e))
}

pub(in crate::daemon) fn ln(
    d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    args: calls::ln::Args,
) -> Result<calls::ln::Ret, ErrorReply> {
    hard_link(&d.root, &args.target, &args.linkname, false)
}

pub(in crate::daemon) fn ln_f(
    d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    args: calls::ln_f::Args,
) -> Result<calls::ln_f::Ret, ErrorReply> {
    hard_link(&d.root, &args.target, &args.linkname, true)
}

/// ln -sf: an existing non-directory linkname is replaced. As ln_s here,
/// linkname is the link itself (never a directory to put it in).
pub(in crate::daemon) fn ln_sf(
    d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    args: calls::ln_sf::Args,
) -> Result<calls::ln_sf::Ret, ErrorReply> {
    if args.target.contains('\0') {
        return Err(invalid("ln_sf: the target contains a NUL byte"));
    }
    let (dir, name) = d.root.parent(&args.linkname)?;
    replace_existing(&dir, &name, &args.linkname, None)?;
    rustix::fs::symlinkat(args.target.as_str(), &dir, &name)
        .map_err(|e| errno_reply("symlink", args.linkname.as_str(), e))
}

/// rename(2) itself: no copy across filesystems, no moving into a
/// directory (mv does those).
pub(in crate::daemon) fn rename(
    d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    args: calls::rename::Args,
) -> Result<calls::rename::Ret, ErrorReply> {
    let (odir, oname) = d.root.parent(&args.oldpath)?;
    let (ndir, nname) = d.root.parent(&args.newpath)?;
    rustix::fs::renameat(&odir, &oname, &ndir, &nname)
        .map_err(|e| errno_reply("rename", args.oldpath.as_str(), e))
}
