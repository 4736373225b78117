//! The guest's filesystem tree as the daemon sees it: mounted under one
//! directory of the appliance (`/sysroot`), and every guest path resolved
//! inside it with openat2(RESOLVE_IN_ROOT). An absolute symlink or a `..`
//! in the guest tree then stays in the guest tree, as if the daemon had
//! chroot'ed, without chroot'ing the whole daemon.
//!
//! Rule for every call: a guest path is only ever opened through
//! [`Root::open`] or [`Root::parent`]; below a directory fd, use the *at()
//! calls with AT_SYMLINK_NOFOLLOW / O_NOFOLLOW, never a plain path.

use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use protocol::types::Pathname;
use protocol::ErrorReply;
use rustix::fs::{Mode, OFlags, ResolveFlags};
use rustix::io::Errno;

use super::util::{errno_reply, invalid};

/// Where the guest tree is mounted in the appliance.
pub(crate) const SYSROOT: &str = "/sysroot";

pub(crate) struct Root {
    path: PathBuf,
}

impl Root {
    pub(crate) fn new(path: impl Into<PathBuf>) -> Root {
        Root { path: path.into() }
    }

    /// The appliance directory the guest tree is mounted on.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// The root directory itself. Opened afresh each time: a descriptor
    /// taken before a mount would still show the directory underneath.
    pub(crate) fn dir(&self) -> Result<OwnedFd, ErrorReply> {
        rustix::fs::open(
            &self.path,
            OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| errno_reply("open", &self.path.to_string_lossy(), e))
    }

    /// Opens a guest path; symlinks (absolute ones included) and `..`
    /// resolve inside the root. Add `OFlags::NOFOLLOW` not to follow a
    /// final symlink.
    pub(crate) fn open(
        &self,
        path: &Pathname,
        flags: OFlags,
        mode: Mode,
    ) -> Result<OwnedFd, ErrorReply> {
        self.open_str(path.as_str(), flags, mode)
    }

    /// Like [`Root::open`] for a path already known to be absolute.
    pub(crate) fn open_str(
        &self,
        path: &str,
        flags: OFlags,
        mode: Mode,
    ) -> Result<OwnedFd, ErrorReply> {
        let root = self.dir()?;
        let relative = path.trim_start_matches('/');
        let relative = if relative.is_empty() { "." } else { relative };
        loop {
            match rustix::fs::openat2(
                &root,
                relative,
                flags | OFlags::CLOEXEC,
                mode,
                ResolveFlags::IN_ROOT | ResolveFlags::NO_MAGICLINKS,
            ) {
                // openat2 asks for a retry when a rename raced the lookup.
                Err(Errno::AGAIN) | Err(Errno::INTR) => continue,
                Err(e) => return Err(errno_reply("open", path, e)),
                Ok(fd) => return Ok(fd),
            }
        }
    }

    /// Opens a guest file as a `File` (following symlinks inside the root).
    pub(crate) fn open_file(
        &self,
        path: &Pathname,
        flags: OFlags,
        mode: Mode,
    ) -> Result<File, ErrorReply> {
        Ok(File::from(self.open(path, flags, mode)?))
    }

    /// The directory that holds `path`'s last component, opened (O_PATH)
    /// inside the root, and that component. For the *at() calls that act
    /// on the last component itself (unlink, mkdir, rename, symlink,
    /// lstat). `/` and paths ending in `.` or `..` have no such component.
    pub(crate) fn parent(&self, path: &Pathname) -> Result<(OwnedFd, OsString), ErrorReply> {
        let (dir, name) = split_last(path.as_str())
            .ok_or_else(|| invalid(format!("{path}: names no file inside a directory")))?;
        let fd = self.open_str(dir, OFlags::PATH | OFlags::DIRECTORY, Mode::empty())?;
        Ok((fd, name.to_owned()))
    }
}

/// `/a/b/c` → (`/a/b`, `c`); trailing slashes are ignored. None for `/`,
/// `.` and `..` last components.
pub(crate) fn split_last(path: &str) -> Option<(&str, &OsStr)> {
    let trimmed = path.trim_end_matches('/');
    let (dir, name) = trimmed.rsplit_once('/')?;
    if name.is_empty() || name == "." || name == ".." {
        return None;
    }
    let dir = if dir.is_empty() { "/" } else { dir };
    Some((dir, OsStr::from_bytes(name.as_bytes())))
}

/// The appliance path of an open descriptor (for mount(2) targets, which
/// take a path): `/proc/self/fd/N`, valid while `fd` lives.
pub(crate) fn fd_path(fd: &OwnedFd) -> PathBuf {
    use std::os::fd::AsRawFd;
    PathBuf::from(format!("/proc/self/fd/{}", fd.as_raw_fd()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Pathname {
        Pathname::new(s).unwrap()
    }

    #[test]
    fn last_components() {
        assert_eq!(split_last("/a/b/c"), Some(("/a/b", OsStr::new("c"))));
        assert_eq!(split_last("/c/"), Some(("/", OsStr::new("c"))));
        assert_eq!(split_last("/"), None);
        assert_eq!(split_last("/a/.."), None);
        assert_eq!(split_last("/a/."), None);
    }

    /// Absolute symlinks and `..` cannot leave the root.
    #[test]
    fn symlinks_and_dotdot_stay_inside() {
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret"), b"host").unwrap();
        let root_dir = tempfile::tempdir().unwrap();
        let r = root_dir.path();
        std::fs::write(r.join("secret"), b"guest").unwrap();
        std::os::unix::fs::symlink(outside.path().join("secret"), r.join("abs")).unwrap();
        std::os::unix::fs::symlink("../../../../secret", r.join("rel")).unwrap();
        std::os::unix::fs::symlink(outside.path(), r.join("dirlink")).unwrap();
        let root = Root::new(r);
        let read = |path: &str| -> Result<String, ErrorReply> {
            let f = root.open_file(&p(path), OFlags::RDONLY, Mode::empty())?;
            Ok(std::io::read_to_string(f).unwrap())
        };
        assert_eq!(read("/../../secret").unwrap(), "guest");
        assert_eq!(read("/rel").unwrap(), "guest");
        // /abs points at <outside>/secret, which inside the root does not exist.
        assert_eq!(read("/abs").unwrap_err().errno, libc::ENOENT);
        assert_eq!(read("/dirlink/secret").unwrap_err().errno, libc::ENOENT);
        std::fs::create_dir(r.join("sub")).unwrap();
        let (_, name) = root.parent(&p("/sub/../x")).unwrap();
        assert_eq!(name, "x");
        assert!(root.parent(&p("/")).is_err());
    }
}
