//! cp -a's tree walk: every kind of file recreated below directory
//! descriptors with *at() calls that never follow symlinks, then its
//! owner, extended attributes, mode and times.

use std::collections::HashMap;
use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use protocol::{CallIo, ErrorReply};
use rustix::fs::{AtFlags, FileType, Gid, Mode, OFlags, Stat, Timespec, Timestamps, Uid};
use rustix::io::Errno;

use super::contents::{copy_data, same_inode};
use crate::daemon::dirs::{open_subdir, read_entries};
use crate::daemon::util::{check_cancel, errno_reply};

/// Deeper trees are refused rather than risk the daemon's stack (two
/// descriptors are held per level).
const MAX_DEPTH: usize = 400;

/// Inodes with several links whose first copy is kept open for linking
/// the next ones; past this, further links are copied as files.
const MAX_LINK_FDS: usize = 256;

/// One cp -a run: the hard links seen so far and the depth.
pub(super) struct Copier<'a> {
    io: &'a dyn CallIo,
    /// (dev, ino) of a source with several links → an O_PATH descriptor
    /// of its copy and how many more links to expect.
    links: HashMap<(u64, u64), (OwnedFd, u64)>,
    depth: usize,
    /// cp -a keeps owners, modes, times, xattrs and hard links; cp -r
    /// (false) makes new files with the source's mode less the umask.
    preserve: bool,
}

fn join(shown: &str, name: &OsStr) -> String {
    format!("{}/{}", shown.trim_end_matches('/'), name.to_string_lossy())
}

fn times_of(st: &Stat) -> Timestamps {
    Timestamps {
        last_access: Timespec {
            tv_sec: st.st_atime as _,
            tv_nsec: st.st_atime_nsec as _,
        },
        last_modification: Timespec {
            tv_sec: st.st_mtime as _,
            tv_nsec: st.st_mtime_nsec as _,
        },
    }
}

fn owner_of(st: &Stat) -> (Option<Uid>, Option<Gid>) {
    (
        Some(Uid::from_raw(st.st_uid)),
        Some(Gid::from_raw(st.st_gid)),
    )
}

impl<'a> Copier<'a> {
    pub(super) fn new(io: &'a dyn CallIo) -> Copier<'a> {
        Copier {
            io,
            links: HashMap::new(),
            depth: 0,
            preserve: true,
        }
    }

    /// A cp -r run: nothing kept but contents, symlinks and node types.
    pub(super) fn plain(io: &'a dyn CallIo) -> Copier<'a> {
        Copier {
            preserve: false,
            ..Copier::new(io)
        }
    }

    /// Copies `sname` in `sdir` (not followed) to `dname` in `ddir`.
    pub(super) fn node(
        &mut self,
        sdir: &OwnedFd,
        sname: &OsStr,
        ddir: BorrowedFd<'_>,
        dname: &OsStr,
        sshown: &str,
        dshown: &str,
    ) -> Result<(), ErrorReply> {
        check_cancel(self.io)?;
        let st = rustix::fs::statat(sdir, sname, AtFlags::SYMLINK_NOFOLLOW)
            .map_err(|e| errno_reply("lstat", sshown, e))?;
        let ftype = FileType::from_raw_mode(st.st_mode);
        let is_dir = ftype == FileType::Directory;
        let existing = match rustix::fs::statat(ddir, dname, AtFlags::SYMLINK_NOFOLLOW) {
            Ok(dst) => Some(dst),
            Err(Errno::NOENT) => None,
            Err(e) => return Err(errno_reply("lstat", dshown, e)),
        };
        if let Some(dst) = existing {
            if same_inode(&st, &dst) {
                return Err(ErrorReply::errno(
                    libc::EINVAL,
                    format!("{sshown} and {dshown} are the same file"),
                ));
            }
            let dst_is_dir = FileType::from_raw_mode(dst.st_mode) == FileType::Directory;
            match (is_dir, dst_is_dir) {
                (true, true) => {}
                (true, false) => {
                    return Err(ErrorReply::errno(
                        libc::ENOTDIR,
                        format!("cannot overwrite non-directory {dshown} with directory {sshown}"),
                    ))
                }
                (false, true) => {
                    return Err(ErrorReply::errno(
                        libc::EISDIR,
                        format!("cannot overwrite directory {dshown} with non-directory {sshown}"),
                    ))
                }
                // Replaced rather than written through (it may be a symlink).
                (false, false) => rustix::fs::unlinkat(ddir, dname, AtFlags::empty())
                    .map_err(|e| errno_reply("unlink", dshown, e))?,
            }
        }
        if is_dir {
            return self.dir(
                sdir,
                sname,
                ddir,
                dname,
                &st,
                existing.is_some(),
                sshown,
                dshown,
            );
        }
        if self.preserve && st.st_nlink > 1 && self.link(&st, ddir, dname) {
            return Ok(());
        }
        match ftype {
            FileType::RegularFile => self.file(sdir, sname, ddir, dname, &st, sshown, dshown)?,
            FileType::Symlink => {
                let target = rustix::fs::readlinkat(sdir, sname, Vec::new())
                    .map_err(|e| errno_reply("readlink", sshown, e))?;
                rustix::fs::symlinkat(target.as_c_str(), ddir, dname)
                    .map_err(|e| errno_reply("symlink", dshown, e))?;
                if !self.preserve {
                    return Ok(());
                }
                let (uid, gid) = owner_of(&st);
                rustix::fs::chownat(ddir, dname, uid, gid, AtFlags::SYMLINK_NOFOLLOW)
                    .map_err(|e| errno_reply("lchown", dshown, e))?;
                rustix::fs::utimensat(ddir, dname, &times_of(&st), AtFlags::SYMLINK_NOFOLLOW)
                    .map_err(|e| errno_reply("utimens", dshown, e))?;
            }
            _ => {
                let mode = Mode::from_raw_mode(st.st_mode & 0o7777);
                rustix::fs::mknodat(ddir, dname, ftype, mode, st.st_rdev as _)
                    .map_err(|e| errno_reply("mknod", dshown, e))?;
                if !self.preserve {
                    return Ok(());
                }
                let (uid, gid) = owner_of(&st);
                rustix::fs::chownat(ddir, dname, uid, gid, AtFlags::SYMLINK_NOFOLLOW)
                    .map_err(|e| errno_reply("chown", dshown, e))?;
                // Just made by mknod, so not a symlink: following is moot.
                rustix::fs::chmodat(ddir, dname, mode, AtFlags::empty())
                    .map_err(|e| errno_reply("chmod", dshown, e))?;
                rustix::fs::utimensat(ddir, dname, &times_of(&st), AtFlags::SYMLINK_NOFOLLOW)
                    .map_err(|e| errno_reply("utimens", dshown, e))?;
            }
        }
        if self.preserve && st.st_nlink > 1 && self.links.len() < MAX_LINK_FDS {
            if let Ok(fd) = rustix::fs::openat(
                ddir,
                dname,
                OFlags::PATH | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                Mode::empty(),
            ) {
                self.links
                    .insert((st.st_dev, st.st_ino), (fd, st.st_nlink as u64 - 1));
            }
        }
        Ok(())
    }

    /// The mode a new file or directory is made with: `private` until
    /// finish sets the real one under cp -a; the source's permission
    /// bits (less the umask, applied by the kernel) under cp -r.
    fn new_mode(&self, st: &Stat, private: u32) -> u32 {
        if self.preserve {
            private
        } else {
            st.st_mode & 0o777
        }
    }

    /// Links `dname` to an earlier copy of the same source inode; false
    /// when there is none (or linking failed: then it is copied).
    fn link(&mut self, st: &Stat, ddir: BorrowedFd<'_>, dname: &OsStr) -> bool {
        let key = (st.st_dev, st.st_ino);
        let Some((fd, left)) = self.links.get_mut(&key) else {
            return false;
        };
        if rustix::fs::linkat(&*fd, "", ddir, dname, AtFlags::EMPTY_PATH).is_err() {
            return false;
        }
        *left = left.saturating_sub(1);
        if *left == 0 {
            self.links.remove(&key);
        }
        true
    }

    #[allow(clippy::too_many_arguments)]
    fn file(
        &mut self,
        sdir: &OwnedFd,
        sname: &OsStr,
        ddir: BorrowedFd<'_>,
        dname: &OsStr,
        st: &Stat,
        sshown: &str,
        dshown: &str,
    ) -> Result<(), ErrorReply> {
        let src = rustix::fs::openat(
            sdir,
            sname,
            OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NOCTTY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| errno_reply("open", sshown, e))?;
        // O_EXCL: never through an existing name; 0600 until the real mode.
        let dst = rustix::fs::openat(
            ddir,
            dname,
            OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::from_raw_mode(self.new_mode(st, 0o600)),
        )
        .map_err(|e| errno_reply("open", dshown, e))?;
        let (src, dst) = (File::from(src), File::from(dst));
        copy_data(self.io, &src, &dst, st.st_size.max(0) as u64, dshown)?;
        if !self.preserve {
            return Ok(());
        }
        finish(&src, &dst, st, dshown)
    }

    #[allow(clippy::too_many_arguments)]
    fn dir(
        &mut self,
        sdir: &OwnedFd,
        sname: &OsStr,
        ddir: BorrowedFd<'_>,
        dname: &OsStr,
        st: &Stat,
        exists: bool,
        sshown: &str,
        dshown: &str,
    ) -> Result<(), ErrorReply> {
        if self.depth >= MAX_DEPTH {
            return Err(ErrorReply::errno(
                libc::ELOOP,
                format!("cp_a {sshown}: the tree is more than {MAX_DEPTH} directories deep"),
            ));
        }
        if !exists {
            rustix::fs::mkdirat(ddir, dname, Mode::from_raw_mode(self.new_mode(st, 0o700)))
                .map_err(|e| errno_reply("mkdir", dshown, e))?;
        }
        let src = open_subdir(sdir, sname).map_err(|e| errno_reply("open", sshown, e))?;
        let dst = open_subdir(ddir, dname).map_err(|e| errno_reply("open", dshown, e))?;
        self.depth += 1;
        for entry in read_entries(&src, sshown)? {
            if entry.is_dot() {
                continue;
            }
            let name: OsString = entry.name;
            self.node(
                &src,
                &name,
                dst.as_fd(),
                &name,
                &join(sshown, &name),
                &join(dshown, &name),
            )?;
        }
        self.depth -= 1;
        if !self.preserve {
            return Ok(());
        }
        finish(&File::from(src), &File::from(dst), st, dshown)
    }
}

/// Owner, extended attributes, mode and times of a copied file or
/// directory, in the order that keeps each: chown clears set-id bits and
/// file capabilities, so it goes first.
fn finish(src: &File, dst: &File, st: &Stat, dshown: &str) -> Result<(), ErrorReply> {
    let (uid, gid) = owner_of(st);
    rustix::fs::fchown(dst, uid, gid).map_err(|e| errno_reply("chown", dshown, e))?;
    copy_xattrs(src, dst);
    rustix::fs::fchmod(dst, Mode::from_raw_mode(st.st_mode & 0o7777))
        .map_err(|e| errno_reply("chmod", dshown, e))?;
    rustix::fs::futimens(dst, &times_of(st)).map_err(|e| errno_reply("utimens", dshown, e))
}

/// Best effort, like cp -a: a filesystem without xattrs (vfat) or a
/// namespace we may not write is skipped silently.
fn copy_xattrs(src: &File, dst: &File) {
    // XATTR_LIST_MAX and XATTR_SIZE_MAX: no list or value is longer.
    let mut list = vec![0u8; 1 << 16];
    let Ok(len) = rustix::fs::flistxattr(src, &mut list[..]) else {
        return;
    };
    let mut value = vec![0u8; 1 << 16];
    for name in list[..len.min(list.len())]
        .split(|b| *b == 0)
        .filter(|n| !n.is_empty())
    {
        let Ok(name) = std::ffi::CString::new(name) else {
            continue;
        };
        if let Ok(n) = rustix::fs::fgetxattr(src, name.as_c_str(), &mut value[..]) {
            let data = value.get(..n).unwrap_or(&[]);
            let _ =
                rustix::fs::fsetxattr(dst, name.as_c_str(), data, rustix::fs::XattrFlags::empty());
        }
    }
}
