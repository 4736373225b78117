//! Files, symlinks and hard links for extract.rs: each is made in its
//! parent's descriptor (tree.rs) under a single name, after unlinking
//! whatever non-directory was there, so nothing in place, link or not, is
//! ever opened or written through.

use std::ffi::OsStr;
use std::fs::{File, FileTimes};
use std::io::{self, Read};
use std::os::fd::{BorrowedFd, OwnedFd};
use std::path::Path;
use std::time::SystemTime;

use rustix::fs::{AtFlags, FileType, Mode, OFlags, Timespec, Timestamps};
use rustix::io::Errno;

use super::extract::Unpacker;
use super::paths::{extract_err, refused, relative, shown};
use super::sparse::SparseMap;
use super::stream::{copy_at, CopyError, Direct, Stream};
use super::tree::Tree;
use super::TransferError;

/// The parent of `rel` and its last name, cleared for a new non-directory:
/// an existing file or symlink there is unlinked, never opened.
fn leaf<'t, 'r>(
    tree: &'t mut Tree,
    rel: &'r Path,
    name: &str,
) -> Result<(BorrowedFd<'t>, &'r OsStr), TransferError> {
    let Some(leaf) = rel.file_name() else {
        return Err(refused(
            name,
            "it names the destination directory itself".into(),
        ));
    };
    let path = tree.path_of(rel);
    let parent = tree.dir(rel.parent().unwrap_or(Path::new("")), true, name)?;
    match rustix::fs::statat(parent, leaf, AtFlags::SYMLINK_NOFOLLOW) {
        Err(Errno::NOENT) => {}
        Ok(st) if FileType::from_raw_mode(st.st_mode) == FileType::Directory => {
            return Err(refused(
                name,
                format!("a directory `{}` is already there", shown(rel)),
            ))
        }
        Ok(_) => rustix::fs::unlinkat(parent, leaf, AtFlags::empty())
            .map_err(|e| extract_err(name, &path, e.into()))?,
        Err(e) => return Err(extract_err(name, &path, e.into())),
    }
    Ok((parent, leaf))
}

impl Unpacker {
    /// A regular file of `size` bytes read from `entry`; or, with `sparse`,
    /// its map and the stream its data is read from (past the crate, which
    /// would read the holes as zeros).
    #[allow(clippy::too_many_arguments)]
    pub(super) fn file<R: Read>(
        &mut self,
        entry: &mut impl Read,
        size: u64,
        rel: &Path,
        name: &str,
        mode: u32,
        mtime: Option<SystemTime>,
        sparse: Option<(&SparseMap, &Stream<R>)>,
    ) -> Result<(), TransferError> {
        if let Some((map, _)) = sparse {
            if map.real_size > self.max_sparse_size {
                return Err(TransferError::SparseTooLarge {
                    entry: name.to_owned(),
                    size: map.real_size,
                    limit: self.max_sparse_size,
                });
            }
        }
        let want = self.wanted_mode(mode);
        let path = self.tree.path_of(rel);
        let (parent, leaf) = leaf(&mut self.tree, rel, name)?;
        // Without keep_modes the kernel applies the umask to `want`; with
        // it the file stays private until its exact mode is set below.
        let create = if self.keep_modes { 0o600 } else { want };
        let flags = OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW;
        let fd: OwnedFd = rustix::fs::openat(
            parent,
            leaf,
            flags | OFlags::CLOEXEC,
            Mode::from_raw_mode(create),
        )
        .map_err(|e| extract_err(name, &path, e.into()))?;
        let file = File::from(fd);
        let (buf, ticker) = (&mut self.buf, &mut self.ticker);
        let mut tick = |n| ticker.tick(n);
        let copy_err = |e| match e {
            CopyError::Read(source) => TransferError::Archive {
                after: name.to_owned(),
                source,
            },
            CopyError::Write(e) => extract_err(name, &path, e),
            CopyError::Stopped => TransferError::Stopped {
                after: name.to_owned(),
            },
        };
        let size = match sparse {
            None => {
                let written = copy_at(entry, &file, 0, size, buf, &mut tick).map_err(copy_err)?;
                check_length(name, written, size)?;
                size
            }
            Some((map, stream)) => {
                for seg in &map.segments {
                    let mut data = Direct {
                        stream,
                        left: seg.len,
                    };
                    let written = copy_at(&mut data, &file, seg.offset, seg.len, buf, &mut tick)
                        .map_err(copy_err)?;
                    check_length(name, written, seg.len)?;
                }
                map.real_size
            }
        };
        // Gives the file its length when it ends in a hole.
        file.set_len(size)
            .map_err(|e| extract_err(name, &path, e))?;
        if self.keep_modes {
            rustix::fs::fchmod(&file, Mode::from_raw_mode(want))
                .map_err(|e| extract_err(name, &path, e.into()))?;
        }
        if let Some(t) = mtime {
            file.set_times(FileTimes::new().set_accessed(t).set_modified(t))
                .map_err(|e| extract_err(name, &path, e))?;
        }
        self.summary.files += 1;
        self.summary.bytes += size;
        Ok(())
    }

    pub(super) fn symlink<R: Read>(
        &mut self,
        entry: &tar::Entry<'_, R>,
        rel: &Path,
        name: &str,
        mtime: Option<SystemTime>,
    ) -> Result<(), TransferError> {
        let target = entry
            .link_name_bytes()
            .ok_or_else(|| refused(name, "it is a symbolic link without a target".into()))?;
        let path = self.tree.path_of(rel);
        let (parent, leaf) = leaf(&mut self.tree, rel, name)?;
        // The link may point anywhere; nothing is ever written through it.
        rustix::fs::symlinkat(&*target, parent, leaf)
            .map_err(|e| extract_err(name, &path, e.into()))?;
        if let Some(t) = mtime.and_then(timespec) {
            let times = Timestamps {
                last_access: t,
                last_modification: t,
            };
            rustix::fs::utimensat(parent, leaf, &times, AtFlags::SYMLINK_NOFOLLOW)
                .map_err(|e| extract_err(name, &path, e.into()))?;
        }
        self.summary.symlinks += 1;
        Ok(())
    }

    pub(super) fn hard_link<R: Read>(
        &mut self,
        entry: &tar::Entry<'_, R>,
        rel: &Path,
        name: &str,
    ) -> Result<(), TransferError> {
        let target = entry
            .link_name()
            .map_err(|e| refused(name, format!("its link target is unusable ({e})")))?
            .ok_or_else(|| refused(name, "it is a hard link without a target".into()))?;
        let target = relative(&target, name, "hard-link target")?;
        let Some(target_leaf) = target.file_name().filter(|_| target != rel) else {
            return Err(refused(
                name,
                "it is a hard link to itself or to the destination".into(),
            ));
        };
        // The target must be in the tree already, reached without symlinks.
        let not_there = |e: &dyn std::fmt::Display| {
            let reason = format!(
                "its hard-link target `{}` is not in the extracted tree ({e})",
                shown(&target)
            );
            refused(name, reason)
        };
        let target_path = self.tree.path_of(&target);
        let target_parent = target.parent().unwrap_or(Path::new(""));
        let target_dir = match self.tree.dir(target_parent, false, name) {
            Ok(fd) => fd
                .try_clone_to_owned()
                .map_err(|e| extract_err(name, &target_path, e))?,
            Err(TransferError::Extract { source, .. })
                if source.kind() == io::ErrorKind::NotFound =>
            {
                return Err(not_there(&source))
            }
            Err(e) => return Err(e),
        };
        match rustix::fs::statat(&target_dir, target_leaf, AtFlags::SYMLINK_NOFOLLOW) {
            Ok(st) if FileType::from_raw_mode(st.st_mode) != FileType::Directory => {}
            Ok(_) => {
                return Err(refused(
                    name,
                    format!("its hard-link target `{}` is a directory", shown(&target)),
                ))
            }
            Err(e) => return Err(not_there(&io::Error::from(e))),
        }
        let path = self.tree.path_of(rel);
        let (parent, leaf) = leaf(&mut self.tree, rel, name)?;
        // linkat(2) without AT_SYMLINK_FOLLOW: a symlink target is linked
        // as the symlink itself.
        rustix::fs::linkat(&target_dir, target_leaf, parent, leaf, AtFlags::empty())
            .map_err(|e| extract_err(name, &path, e.into()))?;
        self.summary.files += 1;
        Ok(())
    }
}

fn check_length(name: &str, written: u64, expected: u64) -> Result<(), TransferError> {
    if written == expected {
        return Ok(());
    }
    Err(TransferError::Archive {
        after: name.to_owned(),
        source: io::Error::new(
            io::ErrorKind::UnexpectedEof,
            format!("entry data cut short ({written} of {expected} bytes)"),
        ),
    })
}

fn timespec(t: SystemTime) -> Option<Timespec> {
    let secs = t.duration_since(SystemTime::UNIX_EPOCH).ok()?.as_secs();
    Some(Timespec {
        tv_sec: i64::try_from(secs).ok()?,
        tv_nsec: 0,
    })
}
