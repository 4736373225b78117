//! POSIX ACLs (guestfs(3) acl_get_file, acl_set_file,
//! acl_delete_def_file), read and written as the kernel's
//! `system.posix_acl_*` attributes in Rust instead of through libacl.
//! The path is opened O_PATH inside the guest root, following symlinks
//! as libacl does, and the xattr syscalls get its `/proc/self/fd` path
//! (see xattrs.rs for why).

mod model;
#[cfg(test)]
mod tests;

use std::os::fd::OwnedFd;

use protocol::types::Pathname;
use protocol::{calls, CallIo, ErrorReply};
use rustix::fs::{FileType, Mode, OFlags, XattrFlags};
use rustix::io::Errno;

use super::root::fd_path;
use super::state::GuestDaemon;
use super::util::{errno_reply, invalid};

type Reply<T> = Result<T, ErrorReply>;

/// XATTR_SIZE_MAX: no ACL value is larger.
const XATTR_MAX: usize = 64 << 10;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Access,
    Default,
}

impl Kind {
    fn parse(call: &str, acltype: &str) -> Reply<Kind> {
        match acltype {
            "access" => Ok(Kind::Access),
            "default" => Ok(Kind::Default),
            other => Err(invalid(format!(
                "{call}: acltype {:?} is not \"access\" or \"default\"",
                other.chars().take(64).collect::<String>()
            ))),
        }
    }

    fn xattr(self) -> &'static str {
        match self {
            Kind::Access => "system.posix_acl_access",
            Kind::Default => "system.posix_acl_default",
        }
    }
}

fn open(d: &GuestDaemon, path: &Pathname) -> Reply<OwnedFd> {
    d.root.open(path, OFlags::PATH, Mode::empty())
}

fn is_dir(fd: &OwnedFd, path: &Pathname) -> Reply<bool> {
    let st = rustix::fs::fstat(fd).map_err(|e| errno_reply("stat", path.as_str(), e))?;
    Ok(FileType::from_raw_mode(st.st_mode) == FileType::Directory)
}

/// Default ACLs exist only on directories; libacl says EACCES.
fn not_a_dir(call: &str, path: &Pathname) -> ErrorReply {
    ErrorReply::errno(
        libc::EACCES,
        format!("{call} {path}: not a directory: only a directory has a default ACL"),
    )
}

pub(super) fn acl_get_file(
    d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    args: calls::acl_get_file::Args,
) -> Reply<String> {
    let call = "acl_get_file";
    let kind = Kind::parse(call, &args.acltype)?;
    let path = &args.path;
    let fd = open(d, path)?;
    let mut buf = vec![0u8; XATTR_MAX];
    let n = match rustix::fs::getxattr(fd_path(&fd), kind.xattr(), &mut buf[..]) {
        Ok(n) => n,
        Err(Errno::NODATA) => 0,
        Err(e) => return Err(errno_reply("getxattr", path.as_str(), e)),
    };
    if n > 0 {
        let value = buf.get(..n).unwrap_or_default();
        let acl = model::from_xattr(value, &format!("{call} {path}"))
            .map_err(|m| ErrorReply::errno(libc::EINVAL, m))?;
        return Ok(model::to_text(&acl));
    }
    // No attribute: what libacl reports (the mode's ACL; an empty default).
    match kind {
        Kind::Access => {
            let st = rustix::fs::fstat(&fd).map_err(|e| errno_reply("stat", path.as_str(), e))?;
            Ok(model::to_text(&model::from_mode(st.st_mode)))
        }
        Kind::Default if is_dir(&fd, path)? => Ok(String::new()),
        Kind::Default => Err(not_a_dir(call, path)),
    }
}

pub(super) fn acl_set_file(
    d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    args: calls::acl_set_file::Args,
) -> Reply<()> {
    let call = "acl_set_file";
    let kind = Kind::parse(call, &args.acltype)?;
    let path = &args.path;
    let acl = model::from_text(&args.acl).map_err(|m| invalid(format!("{call} {path}: {m}")))?;
    // An empty default ACL is none (the kernel removes it the same way).
    if !(kind == Kind::Default && acl.is_empty()) {
        model::validate(&acl).map_err(|m| invalid(format!("{call} {path}: {m}")))?;
    }
    let fd = open(d, path)?;
    if kind == Kind::Default && !is_dir(&fd, path)? {
        return Err(not_a_dir(call, path));
    }
    let target = fd_path(&fd);
    if acl.is_empty() {
        return match rustix::fs::removexattr(&target, kind.xattr()) {
            Ok(()) | Err(Errno::NODATA) => Ok(()),
            Err(e) => Err(errno_reply("removexattr", path.as_str(), e)),
        };
    }
    rustix::fs::setxattr(
        &target,
        kind.xattr(),
        &model::to_xattr(&acl),
        XattrFlags::empty(),
    )
    .map_err(|e| errno_reply("setxattr", path.as_str(), e))
}

/// As libacl: having no default ACL already is success.
pub(super) fn acl_delete_def_file(
    d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    args: calls::acl_delete_def_file::Args,
) -> Reply<()> {
    let path = &args.dir;
    let fd = open(d, path)?;
    match rustix::fs::removexattr(fd_path(&fd), Kind::Default.xattr()) {
        Ok(()) | Err(Errno::NODATA) => Ok(()),
        Err(e) => Err(errno_reply("removexattr", path.as_str(), e)),
    }
}
