//! cp, cp_a and mv. Sources and destinations are reached through
//! `Root::parent` (or `Root::open`), then only *at() calls with NOFOLLOW
//! below those descriptors, so nothing in the guest tree can point a copy
//! outside it.

use std::ffi::OsStr;
use std::os::fd::{AsFd, OwnedFd};

use protocol::types::Pathname;
use protocol::{calls, CallIo, ErrorReply};
use rustix::fs::{AtFlags, FileType, Mode, OFlags};
use rustix::io::Errno;

use super::contents::{copy_data, same_inode};
use super::remove::remove_tree;
use super::tree::Copier;
use crate::daemon::files::open_read;
use crate::daemon::root::{split_last, Root};
use crate::daemon::state::GuestDaemon;
use crate::daemon::util::errno_reply;

/// `dest`, or `dest/<basename of src>` when `dest` is a directory
/// (following symlinks inside the root), as cp and mv do.
pub(super) fn target_path(
    root: &Root,
    src: &Pathname,
    dest: &Pathname,
) -> Result<Pathname, ErrorReply> {
    if root
        .open(dest, OFlags::PATH | OFlags::DIRECTORY, Mode::empty())
        .is_err()
    {
        return Ok(dest.clone());
    }
    let Some((_, name)) = split_last(src.as_str()) else {
        return Err(ErrorReply::errno(
            libc::EINVAL,
            format!("{src} has no name to give it inside {dest}; name the destination itself"),
        ));
    };
    let base = dest.as_str().trim_end_matches('/');
    Ok(Pathname::new(format!("{base}/{}", name.to_string_lossy()))?)
}

/// cp: contents only. The source is followed if a symlink; a new
/// destination gets the source's permission bits less the umask, an
/// existing one keeps its mode (truncated and rewritten).
pub(in crate::daemon) fn cp(
    d: &mut GuestDaemon,
    io: &mut dyn CallIo,
    args: calls::cp::Args,
) -> Result<calls::cp::Ret, ErrorReply> {
    let (src, st) = open_read(d, &args.src)?;
    match FileType::from_raw_mode(st.st_mode) {
        FileType::RegularFile => {}
        FileType::Directory => {
            return Err(ErrorReply::errno(
                libc::EISDIR,
                format!("cp {}: is a directory (use cp_a to copy a tree)", args.src),
            ))
        }
        _ => {
            return Err(ErrorReply::errno(
                libc::EINVAL,
                format!("cp {}: not a regular file", args.src),
            ))
        }
    }
    let dest = target_path(&d.root, &args.src, &args.dest)?;
    let out = d.root.open_file(
        &dest,
        OFlags::WRONLY | OFlags::CREATE | OFlags::NOCTTY | OFlags::NONBLOCK,
        Mode::from_raw_mode(st.st_mode & 0o777),
    )?;
    let out_st = rustix::fs::fstat(&out).map_err(|e| errno_reply("stat", dest.as_str(), e))?;
    if same_inode(&st, &out_st) {
        return Err(ErrorReply::errno(
            libc::EINVAL,
            format!("cp: {} and {dest} are the same file", args.src),
        ));
    }
    rustix::fs::ftruncate(&out, 0).map_err(|e| errno_reply("truncate", dest.as_str(), e))?;
    copy_data(io, &src, &out, st.st_size.max(0) as u64, dest.as_str())
}

/// cp -a: recursive; keeps modes, numeric owners, times, symlinks,
/// device nodes, FIFOs, hard links within the copy and (best effort)
/// extended attributes. Stops at the first error. A failing chown (vfat:
/// EPERM) is an error, as for cp -a run as root.
pub(in crate::daemon) fn cp_a(
    d: &mut GuestDaemon,
    io: &mut dyn CallIo,
    args: calls::cp_a::Args,
) -> Result<calls::cp_a::Ret, ErrorReply> {
    let dest = target_path(&d.root, &args.src, &args.dest)?;
    let (sdir, sname) = d.root.parent(&args.src)?;
    let (ddir, dname) = d.root.parent(&dest)?;
    refuse_into_itself(&d.root, &sdir, &sname, &ddir, &args.src, &dest)?;
    Copier::new(io).node(
        &sdir,
        &sname,
        ddir.as_fd(),
        &dname,
        args.src.as_str(),
        dest.as_str(),
    )
}

/// cp -rP: recursive, symlinks copied as symlinks; new files and
/// directories get the source's permission bits less the umask, owners,
/// times, xattrs and hard links are not kept.
pub(in crate::daemon) fn cp_r(
    d: &mut GuestDaemon,
    io: &mut dyn CallIo,
    args: calls::cp_r::Args,
) -> Result<calls::cp_r::Ret, ErrorReply> {
    let dest = target_path(&d.root, &args.src, &args.dest)?;
    let (sdir, sname) = d.root.parent(&args.src)?;
    let (ddir, dname) = d.root.parent(&dest)?;
    refuse_into_itself(&d.root, &sdir, &sname, &ddir, &args.src, &dest)?;
    Copier::plain(io).node(
        &sdir,
        &sname,
        ddir.as_fd(),
        &dname,
        args.src.as_str(),
        dest.as_str(),
    )
}

/// mv: rename(2); across filesystems (EXDEV) a cp -a then a removal of
/// the source, as mv(1). The source is not followed if a symlink.
pub(in crate::daemon) fn mv(
    d: &mut GuestDaemon,
    io: &mut dyn CallIo,
    args: calls::mv::Args,
) -> Result<calls::mv::Ret, ErrorReply> {
    let dest = target_path(&d.root, &args.src, &args.dest)?;
    let (sdir, sname) = d.root.parent(&args.src)?;
    let (ddir, dname) = d.root.parent(&dest)?;
    match rustix::fs::renameat(&sdir, &sname, &ddir, &dname) {
        Ok(()) => Ok(()),
        Err(Errno::XDEV) => {
            refuse_into_itself(&d.root, &sdir, &sname, &ddir, &args.src, &dest)?;
            Copier::new(io).node(
                &sdir,
                &sname,
                ddir.as_fd(),
                &dname,
                args.src.as_str(),
                dest.as_str(),
            )?;
            remove_tree(io, &sdir, &sname, args.src.as_str())
        }
        Err(e) => Err(errno_reply("rename", args.src.as_str(), e)),
    }
}

/// cp -a of a directory into itself or below itself would never end.
pub(super) fn refuse_into_itself(
    root: &Root,
    sdir: &OwnedFd,
    sname: &OsStr,
    ddir: &OwnedFd,
    src: &Pathname,
    dest: &Pathname,
) -> Result<(), ErrorReply> {
    let Ok(src_st) = rustix::fs::statat(sdir, sname, AtFlags::SYMLINK_NOFOLLOW) else {
        return Ok(()); // the copy itself reports it
    };
    if FileType::from_raw_mode(src_st.st_mode) != FileType::Directory {
        return Ok(());
    }
    let root_dir = root.dir()?;
    let root_st = rustix::fs::fstat(&root_dir).map_err(|e| errno_reply("stat", "/", e))?;
    let mut cur = rustix::io::dup(ddir).map_err(|e| errno_reply("dup", dest.as_str(), e))?;
    // Up through `..` from the destination's directory to the guest root.
    for _ in 0..4096 {
        let st = rustix::fs::fstat(&cur).map_err(|e| errno_reply("stat", dest.as_str(), e))?;
        if same_inode(&st, &src_st) {
            return Err(ErrorReply::errno(
                libc::EINVAL,
                format!("cannot copy a directory, {src}, into itself, {dest}"),
            ));
        }
        if same_inode(&st, &root_st) {
            return Ok(());
        }
        let up = rustix::fs::openat(
            &cur,
            "..",
            OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| errno_reply("open", dest.as_str(), e))?;
        let up_st = rustix::fs::fstat(&up).map_err(|e| errno_reply("stat", dest.as_str(), e))?;
        if same_inode(&up_st, &st) {
            return Ok(()); // the appliance's own root
        }
        cur = up;
    }
    Ok(())
}
