//! The walk from `/` to a cache directory, one component at a time, and
//! the ownership and mode checks of the rule in [`super`]'s docs.

use std::ffi::{OsStr, OsString};
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};

use rustix::fs::{FileType, Mode, OFlags, Stat};
use rustix::io::Errno;

use super::{euid, io_err, CacheError, Result, TrustedDir};

/// How many symbolic links a path may go through (as Linux's MAXSYMLINKS).
const MAX_LINKS: usize = 40;

/// Opens one component below `parent` without following it; creates it
/// as a 0700 directory first when asked and missing.
pub(super) fn open_component(
    parent: &impl AsFd,
    name: &OsStr,
    path: &Path,
    create: bool,
) -> Result<Option<(OwnedFd, Stat)>> {
    let flags = OFlags::PATH | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    let fd = match rustix::fs::openat(parent, name, flags, Mode::empty()) {
        Ok(fd) => fd,
        Err(Errno::NOENT) if create => {
            match rustix::fs::mkdirat(parent, name, Mode::from_raw_mode(0o700)) {
                Ok(()) | Err(Errno::EXIST) => {}
                Err(e) => return Err(io_err(path, "creating the directory")(e)),
            }
            rustix::fs::openat(parent, name, flags, Mode::empty())
                .map_err(io_err(path, "opening"))?
        }
        Err(Errno::NOENT) => return Ok(None),
        Err(e) => return Err(io_err(path, "opening")(e)),
    };
    let stat = rustix::fs::fstat(&fd).map_err(io_err(path, "examining"))?;
    Ok(Some((fd, stat)))
}

pub(super) fn file_type(stat: &Stat) -> FileType {
    FileType::from_raw_mode(stat.st_mode)
}

fn perm(stat: &Stat) -> u32 {
    stat.st_mode & 0o7777
}

/// A directory or file of ours: owned by `uid`, not group/other-writable.
pub(super) fn check_ours(stat: &Stat, path: &Path, uid: u32) -> Result<()> {
    if stat.st_uid != uid {
        return Err(CacheError::NotOwned {
            path: path.to_path_buf(),
            owner: stat.st_uid,
            uid,
        });
    }
    if perm(stat) & 0o022 != 0 {
        return Err(CacheError::Writable {
            path: path.to_path_buf(),
            mode: perm(stat),
        });
    }
    Ok(())
}

/// Something on the way to the root: root's or ours, and writable by
/// others only if sticky.
fn check_ancestor(stat: &Stat, path: &Path, root: &Path, uid: u32) -> Result<()> {
    let unsafe_because = |why: String| CacheError::UnsafeAncestor {
        path: path.to_path_buf(),
        root: root.to_path_buf(),
        why,
    };
    let what = match file_type(stat) {
        FileType::Symlink => "a symbolic link",
        _ => "a directory",
    };
    if stat.st_uid != 0 && stat.st_uid != uid {
        return Err(unsafe_because(format!(
            "is {what} of uid {} (neither root nor you, uid {uid})",
            stat.st_uid
        )));
    }
    let sticky = perm(stat) & 0o1000 != 0;
    if file_type(stat) == FileType::Directory && perm(stat) & 0o022 != 0 && !sticky {
        return Err(unsafe_because(format!(
            "is writable by group or others without the sticky bit (mode {:o})",
            perm(stat)
        )));
    }
    Ok(())
}

/// The walk of [`trusted_dir`]; with `create` false a missing component
/// is an error.
pub(super) fn walk(path: &Path, create: bool) -> Result<TrustedDir> {
    let uid = euid();
    let root = match path.is_absolute() {
        true => path.to_path_buf(),
        false => std::env::current_dir()
            .map_err(|source| CacheError::Io {
                path: path.to_path_buf(),
                what: "finding the current directory for a relative path",
                source,
            })?
            .join(path),
    };
    let slash = Path::new("/");
    let top = rustix::fs::openat(
        rustix::fs::CWD,
        slash,
        OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(io_err(slash, "opening"))?;
    let top_stat = rustix::fs::fstat(&top).map_err(io_err(slash, "examining"))?;
    check_ancestor(&top_stat, slash, &root, uid)?;
    // Directories walked so far (for ".."), and the components still to
    // walk, last first.
    let mut stack: Vec<(OwnedFd, Stat, PathBuf)> = vec![(top, top_stat, slash.to_path_buf())];
    let mut todo = components_reversed(&root);
    let mut links = 0;
    while let Some(name) = todo.pop() {
        if name == ".." {
            if stack.len() > 1 {
                stack.pop();
            }
            continue;
        }
        let (parent, _, parent_path) = stack.last().ok_or_else(|| CacheError::WrongType {
            path: root.clone(),
            expected: "path",
        })?;
        let here = parent_path.join(&name);
        let Some((fd, stat)) = open_component(parent, &name, &here, create)? else {
            return Err(io_err(&here, "opening")(Errno::NOENT));
        };
        match file_type(&stat) {
            FileType::Symlink => {
                check_ancestor(&stat, &here, &root, uid)?;
                links += 1;
                if links > MAX_LINKS {
                    return Err(io_err(&here, "following symbolic links")(Errno::LOOP));
                }
                // The link just checked, read through its own descriptor.
                let target = rustix::fs::readlinkat(&fd, "", Vec::new())
                    .map_err(io_err(&here, "reading the symbolic link"))?;
                let target = PathBuf::from(OsStr::from_bytes(target.as_bytes()));
                if target.is_absolute() {
                    stack.truncate(1);
                }
                todo.extend(components_reversed(&target));
            }
            FileType::Directory => {
                // The last one is the root, checked below by its own rule.
                if !todo.is_empty() {
                    check_ancestor(&stat, &here, &root, uid)?;
                }
                stack.push((fd, stat, here));
            }
            _ => {
                return Err(CacheError::WrongType {
                    path: here,
                    expected: "directory",
                })
            }
        }
    }
    let (fd, stat, _) = stack.pop().ok_or_else(|| CacheError::WrongType {
        path: root.clone(),
        expected: "directory",
    })?;
    check_ours(&stat, &root, uid)?;
    let fd = rustix::fs::openat(
        &fd,
        ".",
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(io_err(&root, "opening"))?;
    Ok(TrustedDir {
        fd,
        path: root,
        uid,
    })
}

fn components_reversed(path: &Path) -> Vec<OsString> {
    let mut parts: Vec<OsString> = path
        .components()
        .filter_map(|c| match c {
            Component::Normal(name) => Some(name.to_os_string()),
            Component::ParentDir => Some("..".into()),
            Component::RootDir | Component::CurDir | Component::Prefix(_) => None,
        })
        .collect();
    parts.reverse();
    parts
}
