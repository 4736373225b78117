//! copy_attributes: a path's mode, extended attributes and owner onto
//! another path, both followed if symlinks (inside the root), as
//! libguestfs (stat, chown, chmod and the non-l xattr calls).

use std::ffi::CString;
use std::os::fd::OwnedFd;

use protocol::types::Pathname;
use protocol::{calls, CallIo, ErrorReply};
use rustix::fs::{AtFlags, Gid, Mode, OFlags, Uid, XattrFlags};
use rustix::io::Errno;

use crate::daemon::root::{fd_path, Root};
use crate::daemon::state::GuestDaemon;
use crate::daemon::util::errno_reply;

/// XATTR_LIST_MAX and XATTR_SIZE_MAX: no name list or value is longer.
const XATTR_MAX: usize = 1 << 16;

fn open(root: &Root, path: &Pathname) -> Result<OwnedFd, ErrorReply> {
    root.open(path, OFlags::PATH, Mode::empty())
}

/// Which attributes to copy: `all` turns on those not given; none is
/// copied by default, as libguestfs.
fn wanted(args: &calls::copy_attributes::Args) -> (bool, bool, bool) {
    let all = args.all.unwrap_or(false);
    (
        args.mode.unwrap_or(all),
        args.xattributes.unwrap_or(all),
        args.ownership.unwrap_or(all),
    )
}

pub(in crate::daemon) fn copy_attributes(
    d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    args: calls::copy_attributes::Args,
) -> Result<calls::copy_attributes::Ret, ErrorReply> {
    let (mode, xattrs, ownership) = wanted(&args);
    let (src_shown, dest_shown) = (args.src.as_str(), args.dest.as_str());
    let src = open(&d.root, &args.src)?;
    let dest = open(&d.root, &args.dest)?;
    let st = rustix::fs::fstat(&src).map_err(|e| errno_reply("stat", src_shown, e))?;
    // chown clears set-id bits, so it goes before chmod.
    if ownership {
        let (uid, gid) = (Uid::from_raw(st.st_uid), Gid::from_raw(st.st_gid));
        rustix::fs::chownat(&dest, "", Some(uid), Some(gid), AtFlags::EMPTY_PATH)
            .map_err(|e| errno_reply("chown", dest_shown, e))?;
    }
    if xattrs {
        copy_xattrs(&src, &dest, src_shown, dest_shown)?;
    }
    if mode {
        // fchmod refuses O_PATH descriptors; the /proc link names the
        // inode already resolved inside the root.
        rustix::fs::chmod(fd_path(&dest), Mode::from_raw_mode(st.st_mode & 0o7777))
            .map_err(|e| errno_reply("chmod", dest_shown, e))?;
    }
    Ok(())
}

/// Every extended attribute of `src` set on `dest`; a source filesystem
/// without xattrs has none to copy.
fn copy_xattrs(
    src: &OwnedFd,
    dest: &OwnedFd,
    sshown: &str,
    dshown: &str,
) -> Result<(), ErrorReply> {
    let (spath, dpath) = (fd_path(src), fd_path(dest));
    let mut list = vec![0u8; XATTR_MAX];
    let len = match rustix::fs::listxattr(&spath, &mut list[..]) {
        Ok(n) => n.min(list.len()),
        Err(Errno::NOTSUP) => return Ok(()),
        Err(e) => return Err(errno_reply("listxattr", sshown, e)),
    };
    let mut value = vec![0u8; XATTR_MAX];
    for name in list[..len].split(|b| *b == 0).filter(|n| !n.is_empty()) {
        let Ok(cname) = CString::new(name) else {
            continue;
        };
        let shown = String::from_utf8_lossy(name);
        let n = rustix::fs::getxattr(&spath, cname.as_c_str(), &mut value[..])
            .map_err(|e| errno_reply("getxattr", &format!("{sshown} {shown}"), e))?;
        let data = value.get(..n).unwrap_or(&[]);
        rustix::fs::setxattr(&dpath, cname.as_c_str(), data, XattrFlags::empty())
            .map_err(|e| errno_reply("setxattr", &format!("{dshown} {shown}"), e))?;
    }
    Ok(())
}
