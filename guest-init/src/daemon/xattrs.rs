//! Extended attributes (guestfs(3) getxattrs, lsetxattr…). There are no
//! *at() forms of the xattr calls to build on (getxattrat is Linux 6.13),
//! so a guest path is first resolved inside the guest tree and the
//! syscall then gets a `/proc/self/fd` path:
//!
//! - following a symlink (getxattr…): the file itself, opened O_PATH with
//!   symlinks resolved inside the root; `/proc/self/fd/N` leads to it;
//! - not following (lgetxattr…): the parent directory, opened O_PATH inside
//!   the root, and the last component below it,
//!   `/proc/self/fd/N/<name>`, which the l* syscalls do not follow.

#[cfg(test)]
mod tests;

use std::ffi::OsString;
use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

use protocol::types::{Pathname, XAttr};
use protocol::{calls, CallIo, ErrorReply};
use rustix::fs::{Mode, OFlags, XattrFlags};

use super::root::fd_path;
use super::state::GuestDaemon;
use super::util::{check_cancel, errno_reply, invalid, Budget};

type Reply<T> = Result<T, ErrorReply>;

/// The kernel's limits on one value and on a name list (XATTR_SIZE_MAX,
/// XATTR_LIST_MAX): buffers of this size never get ERANGE.
const XATTR_MAX: usize = 64 << 10;

/// A guest path made reachable for the path-based xattr syscalls; the
/// descriptor keeps the path valid.
struct Target {
    _fd: OwnedFd,
    path: PathBuf,
    follow: bool,
}

fn resolve(d: &GuestDaemon, path: &Pathname, follow: bool) -> Reply<Target> {
    if follow {
        let fd = d.root.open(path, OFlags::PATH, Mode::empty())?;
        let proc = fd_path(&fd);
        return Ok(Target {
            _fd: fd,
            path: proc,
            follow,
        });
    }
    match d.root.parent(path) {
        Ok((dir, name)) => {
            let proc = fd_path(&dir).join(name);
            Ok(Target {
                _fd: dir,
                path: proc,
                follow,
            })
        }
        // `/`, or a path ending in `.` / `..`: a directory, never a
        // symlink, reached through its descriptor (the l* syscalls would
        // act on the /proc magic link itself).
        Err(_) => {
            let fd = d
                .root
                .open(path, OFlags::PATH | OFlags::DIRECTORY, Mode::empty())?;
            let proc = fd_path(&fd);
            Ok(Target {
                _fd: fd,
                path: proc,
                follow: true,
            })
        }
    }
}

impl Target {
    fn list(&self, path: &Pathname) -> Reply<Vec<OsString>> {
        let mut buf = vec![0u8; XATTR_MAX];
        let n = if self.follow {
            rustix::fs::listxattr(&self.path, &mut buf[..])
        } else {
            rustix::fs::llistxattr(&self.path, &mut buf[..])
        }
        .map_err(|e| errno_reply("listxattr", path.as_str(), e))?;
        let names = buf.get(..n).unwrap_or_default();
        Ok(names
            .split(|&b| b == 0)
            .filter(|n| !n.is_empty())
            .map(|n| std::ffi::OsStr::from_bytes(n).to_owned())
            .collect())
    }

    fn get(&self, path: &Pathname, name: &std::ffi::OsStr) -> Reply<Vec<u8>> {
        let mut buf = vec![0u8; XATTR_MAX];
        let n = if self.follow {
            rustix::fs::getxattr(&self.path, name, &mut buf[..])
        } else {
            rustix::fs::lgetxattr(&self.path, name, &mut buf[..])
        }
        .map_err(|e| errno_reply("getxattr", path.as_str(), e))?;
        buf.truncate(n);
        Ok(buf)
    }
}

fn name_arg(call: &str, name: &str) -> Reply<()> {
    if name.is_empty() || name.contains('\0') || name.len() > 255 {
        return Err(invalid(format!(
            "{call}: {:?} is not an extended attribute name (1 to 255 bytes, no NUL)",
            name.chars().take(64).collect::<String>()
        )));
    }
    Ok(())
}

/// Every attribute of the target, within the message limit.
fn all(
    io: &dyn CallIo,
    t: &Target,
    path: &Pathname,
    budget: &mut Budget,
    out: &mut Vec<XAttr>,
) -> Reply<()> {
    for name in t.list(path)? {
        check_cancel(io)?;
        let attrval = match t.get(path, &name) {
            Ok(v) => v,
            // Removed between the list and the read.
            Err(e) if e.errno == libc::ENODATA => continue,
            Err(e) => return Err(e),
        };
        let attrname = name.to_string_lossy().into_owned();
        budget.add(attrname.len())?;
        budget.add(attrval.len())?;
        out.push(XAttr { attrname, attrval });
    }
    Ok(())
}

fn get_all(
    call: &str,
    d: &GuestDaemon,
    io: &dyn CallIo,
    path: &Pathname,
    follow: bool,
) -> Reply<Vec<XAttr>> {
    let t = resolve(d, path, follow)?;
    let mut budget = Budget::new(call, path.as_str());
    let mut out = Vec::new();
    all(io, &t, path, &mut budget, &mut out)?;
    Ok(out)
}

pub(super) fn getxattrs(
    d: &mut GuestDaemon,
    io: &mut dyn CallIo,
    args: calls::getxattrs::Args,
) -> Reply<Vec<XAttr>> {
    get_all("getxattrs", d, io, &args.path, true)
}

pub(super) fn lgetxattrs(
    d: &mut GuestDaemon,
    io: &mut dyn CallIo,
    args: calls::lgetxattrs::Args,
) -> Reply<Vec<XAttr>> {
    get_all("lgetxattrs", d, io, &args.path, false)
}

fn get_one(
    call: &str,
    d: &GuestDaemon,
    path: &Pathname,
    name: &str,
    follow: bool,
) -> Reply<Vec<u8>> {
    name_arg(call, name)?;
    resolve(d, path, follow)?.get(path, std::ffi::OsStr::new(name))
}

pub(super) fn getxattr(
    d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    args: calls::getxattr::Args,
) -> Reply<Vec<u8>> {
    get_one("getxattr", d, &args.path, &args.name, true)
}

pub(super) fn lgetxattr(
    d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    args: calls::lgetxattr::Args,
) -> Reply<Vec<u8>> {
    get_one("lgetxattr", d, &args.path, &args.name, false)
}

/// The value is the first `vallen` bytes of `val`, as libguestfs takes it.
fn set(
    call: &str,
    d: &GuestDaemon,
    xattr: &str,
    val: &[u8],
    vallen: i64,
    path: &Pathname,
    follow: bool,
) -> Reply<()> {
    name_arg(call, xattr)?;
    let value = usize::try_from(vallen)
        .ok()
        .and_then(|n| val.get(..n))
        .ok_or_else(|| {
            invalid(format!(
                "{call}: vallen {vallen} is not within the value's {} bytes",
                val.len()
            ))
        })?;
    let t = resolve(d, path, follow)?;
    if follow {
        rustix::fs::setxattr(&t.path, xattr, value, XattrFlags::empty())
    } else {
        rustix::fs::lsetxattr(&t.path, xattr, value, XattrFlags::empty())
    }
    .map_err(|e| errno_reply("setxattr", path.as_str(), e))
}

pub(super) fn setxattr(
    d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    args: calls::setxattr::Args,
) -> Reply<()> {
    set(
        "setxattr",
        d,
        &args.xattr,
        &args.val,
        args.vallen,
        &args.path,
        true,
    )
}

pub(super) fn lsetxattr(
    d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    args: calls::lsetxattr::Args,
) -> Reply<()> {
    set(
        "lsetxattr",
        d,
        &args.xattr,
        &args.val,
        args.vallen,
        &args.path,
        false,
    )
}

fn remove(call: &str, d: &GuestDaemon, xattr: &str, path: &Pathname, follow: bool) -> Reply<()> {
    name_arg(call, xattr)?;
    let t = resolve(d, path, follow)?;
    if follow {
        rustix::fs::removexattr(&t.path, xattr)
    } else {
        rustix::fs::lremovexattr(&t.path, xattr)
    }
    .map_err(|e| errno_reply("removexattr", path.as_str(), e))
}

pub(super) fn removexattr(
    d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    args: calls::removexattr::Args,
) -> Reply<()> {
    remove("removexattr", d, &args.xattr, &args.path, true)
}

pub(super) fn lremovexattr(
    d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    args: calls::lremovexattr::Args,
) -> Reply<()> {
    remove("lremovexattr", d, &args.xattr, &args.path, false)
}

/// libguestfs's flat encoding: per name, a marker entry (empty attrname;
/// attrval the decimal count of the entries after it, or empty when the
/// file's attributes could not be read), then the entries.
pub(super) fn lxattrlist(
    d: &mut GuestDaemon,
    io: &mut dyn CallIo,
    args: calls::lxattrlist::Args,
) -> Reply<Vec<XAttr>> {
    let call = "lxattrlist";
    let mut budget = Budget::new(call, args.path.as_str());
    let mut out = Vec::new();
    let dir = args.path.as_str().trim_end_matches('/');
    for name in &args.names {
        check_cancel(io)?;
        let marker = out.len();
        out.push(XAttr {
            attrname: String::new(),
            attrval: Vec::new(),
        });
        budget.add_raw(2)?;
        let file =
            Pathname::new(format!("{dir}/{name}")).map_err(|e| invalid(format!("{call}: {e}")))?;
        let read = resolve(d, &file, false).and_then(|t| all(io, &t, &file, &mut budget, &mut out));
        match read {
            Ok(()) => {
                let count = (out.len() - marker - 1).to_string().into_bytes();
                budget.add_raw(count.len())?;
                if let Some(m) = out.get_mut(marker) {
                    m.attrval = count;
                }
            }
            Err(e)
                if e.kind == protocol::ErrorKind::TooLarge
                    || e.kind == protocol::ErrorKind::Cancelled =>
            {
                return Err(e)
            }
            Err(_) => out.truncate(marker + 1),
        }
    }
    Ok(out)
}
