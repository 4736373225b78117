//! The destination tree, reached only through directory descriptors.
//!
//! Every directory below the root is opened from its parent's descriptor,
//! one name at a time, with `O_NOFOLLOW|O_DIRECTORY`: a symbolic link on the
//! way is refused whatever it points to (even inside the tree), so no path
//! leaves the tree, and a local user who replaces a directory by a link
//! while the extraction runs gets a refusal (or, for a directory already
//! open, the writes keep going to that directory, wherever it was moved).
//! `openat2(RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS)` would check a whole path
//! at once, but the walk has to create missing directories on the way
//! anyway, and this works the same on every kernel.
//!
//! The descriptors of the directories the archive is in are kept between
//! entries (archives list a directory's contents together): the first
//! [`KEPT_LEVELS`] and the deepest, so a deep hostile tree costs re-walks,
//! not one descriptor per level.

use std::collections::HashMap;
use std::ffi::{OsStr, OsString};
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::{Path, PathBuf};

use rustix::fs::{AtFlags, FileType, Mode, OFlags, CWD};
use rustix::io::Errno;

use super::paths::{extract_err, refused, shown};
use super::TransferError;

const KEPT_LEVELS: usize = 32;

/// Mode (before the umask) of the directories made on the way to an entry,
/// and of the destination root when it is made.
const IMPLICIT_DIR_MODE: u32 = 0o755;

/// Where a directory came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Origin {
    /// There before this extraction: its mode and times are left alone.
    Existing,
    /// Made by this extraction; the mode it got (after the umask).
    Created(u32),
}

struct Level {
    name: OsString,
    fd: Option<OwnedFd>,
}

pub(super) struct Tree {
    root: OwnedFd,
    root_path: PathBuf,
    /// The directories of the last walk below the root, outermost first.
    chain: Vec<Level>,
    /// The directories this extraction made, by (device, inode).
    created: HashMap<(u64, u64), u32>,
}

enum StepError {
    Link,
    NotDir,
    Io(io::Error),
}

fn open_dir_at(parent: BorrowedFd<'_>, name: &OsStr) -> Result<OwnedFd, Errno> {
    let flags = OFlags::PATH | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    rustix::fs::openat(parent, name, flags, Mode::empty())
}

/// Why `name` could not be opened as a directory.
fn classify(parent: BorrowedFd<'_>, name: &OsStr, e: Errno) -> StepError {
    if e == Errno::NOTDIR || e == Errno::LOOP {
        if let Ok(st) = rustix::fs::statat(parent, name, AtFlags::SYMLINK_NOFOLLOW) {
            match FileType::from_raw_mode(st.st_mode) {
                FileType::Symlink => return StepError::Link,
                FileType::Directory => {}
                _ => return StepError::NotDir,
            }
        }
    }
    StepError::Io(e.into())
}

fn record(created: &mut HashMap<(u64, u64), u32>, fd: &OwnedFd) -> io::Result<()> {
    let st = rustix::fs::fstat(fd)?;
    created.insert((st.st_dev, st.st_ino), st.st_mode & 0o7777);
    Ok(())
}

/// Opens directory `name` in `parent`, making it with `create` (a mode,
/// before the umask) when it is missing.
fn step(
    parent: BorrowedFd<'_>,
    name: &OsStr,
    create: Option<u32>,
    created: &mut HashMap<(u64, u64), u32>,
) -> Result<OwnedFd, StepError> {
    let mode = match (open_dir_at(parent, name), create) {
        (Ok(fd), _) => return Ok(fd),
        (Err(Errno::NOENT), Some(mode)) => mode,
        (Err(e), _) => return Err(classify(parent, name, e)),
    };
    let made = match rustix::fs::mkdirat(parent, name, Mode::from_raw_mode(mode)) {
        Ok(()) => true,
        Err(Errno::EXIST) => false,
        Err(e) => return Err(StepError::Io(e.into())),
    };
    let fd = open_dir_at(parent, name).map_err(|e| classify(parent, name, e))?;
    if made {
        record(created, &fd).map_err(StepError::Io)?;
    }
    Ok(fd)
}

impl Tree {
    /// Opens the destination root `dest`. Its parent is the user's path and
    /// is followed as typed; `dest` itself must be a real directory, not a
    /// link (it may come from an earlier copy-out), and is made when
    /// missing if `create`.
    pub(super) fn open(dest: &Path, create: bool) -> Result<Tree, TransferError> {
        let bad = |reason: String| TransferError::BadDestination {
            path: dest.to_path_buf(),
            reason,
        };
        let mut created = HashMap::new();
        let user_dir = OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC;
        let root = match dest.file_name() {
            // `/`, `.`, `a/..`: a directory the user named, nothing below it.
            None => rustix::fs::openat(CWD, dest, user_dir, Mode::empty()).map_err(|e| {
                bad(format!(
                    "{}; pass an existing directory",
                    io::Error::from(e)
                ))
            })?,
            Some(leaf) => {
                let parent = match dest.parent() {
                    Some(p) if !p.as_os_str().is_empty() => p,
                    _ => Path::new("."),
                };
                let parent_fd =
                    rustix::fs::openat(CWD, parent, user_dir, Mode::empty()).map_err(|e| {
                        let e = io::Error::from(e);
                        bad(format!("its directory `{}`: {e}", parent.display()))
                    })?;
                let create = create.then_some(IMPLICIT_DIR_MODE);
                step(parent_fd.as_fd(), leaf, create, &mut created).map_err(|e| match e {
                    StepError::Link => bad(link_reason(parent_fd.as_fd(), leaf)),
                    StepError::NotDir => bad("it is not a directory".into()),
                    StepError::Io(e) if e.kind() == io::ErrorKind::NotFound => {
                        bad("it does not exist; pass an existing directory".into())
                    }
                    StepError::Io(e) => bad(e.to_string()),
                })?
            }
        };
        Ok(Tree {
            root,
            root_path: dest.to_path_buf(),
            chain: Vec::new(),
            created,
        })
    }

    /// Where `rel` is on the host, for messages.
    pub(super) fn path_of(&self, rel: &Path) -> PathBuf {
        self.root_path.join(rel)
    }

    /// The directory `rel` (empty: the root), every directory on the way a
    /// real one; missing ones are made when `create`.
    pub(super) fn dir(
        &mut self,
        rel: &Path,
        create: bool,
        entry: &str,
    ) -> Result<BorrowedFd<'_>, TransferError> {
        let mode = create.then_some(IMPLICIT_DIR_MODE);
        self.walk(rel, mode, mode, entry)
    }

    /// The directory of a directory entry: made with `mode` (before the
    /// umask) when missing, and where it came from.
    pub(super) fn entry_dir(
        &mut self,
        rel: &Path,
        mode: u32,
        entry: &str,
    ) -> Result<Origin, TransferError> {
        let fd = self.walk(rel, Some(IMPLICIT_DIR_MODE), Some(mode), entry)?;
        let st =
            rustix::fs::fstat(fd).map_err(|e| extract_err(entry, &self.path_of(rel), e.into()))?;
        Ok(match self.created.get(&(st.st_dev, st.st_ino)) {
            Some(&mode) => Origin::Created(mode),
            None => Origin::Existing,
        })
    }

    /// `rel` (empty: the root) opened for reading, to change its mode and
    /// times through the descriptor.
    pub(super) fn reopen(&mut self, rel: &Path, entry: &str) -> Result<OwnedFd, TransferError> {
        let path = self.path_of(rel);
        let fd = self.walk(rel, None, None, entry)?;
        let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
        rustix::fs::openat(fd, ".", flags, Mode::empty())
            .map_err(|e| extract_err(entry, &path, e.into()))
    }

    fn walk(
        &mut self,
        rel: &Path,
        parents: Option<u32>,
        last: Option<u32>,
        entry: &str,
    ) -> Result<BorrowedFd<'_>, TransferError> {
        let comps: Vec<&OsStr> = rel.iter().collect();
        let Tree {
            root,
            root_path,
            chain,
            created,
        } = self;
        let root: &OwnedFd = root;
        let fail = |depth: usize, e: StepError, is_last: bool| {
            let prefix: PathBuf = comps[..depth].iter().collect();
            match e {
                StepError::Link => refused(
                    entry,
                    format!(
                        "`{}` on its path is a symbolic link; nothing is written through links",
                        shown(&prefix)
                    ),
                ),
                StepError::NotDir if is_last => refused(
                    entry,
                    format!("`{}` exists and is not a directory", shown(&prefix)),
                ),
                StepError::NotDir => refused(
                    entry,
                    format!("`{}` on its path is not a directory", shown(&prefix)),
                ),
                StepError::Io(e) => extract_err(entry, &root_path.join(&prefix), e),
            }
        };
        let shared = chain
            .iter()
            .zip(&comps)
            .take_while(|(level, comp)| level.name == **comp)
            .count();
        chain.truncate(shared);
        // A kept level whose descriptor was dropped: walk to it again from
        // the deepest one still open.
        if chain.last().is_some_and(|l| l.fd.is_none()) {
            let base = chain.iter().rposition(|l| l.fd.is_some());
            let mut fd: Option<OwnedFd> = None;
            for depth in base.map_or(0, |b| b + 1)..shared {
                let from = match (&fd, base) {
                    (Some(fd), _) => fd.as_fd(),
                    (None, Some(b)) => match &chain[b].fd {
                        Some(fd) => fd.as_fd(),
                        None => root.as_fd(),
                    },
                    (None, None) => root.as_fd(),
                };
                let next = step(from, &chain[depth].name, None, created)
                    .map_err(|e| fail(depth + 1, e, false))?;
                fd = Some(next);
            }
            if let Some(level) = chain.last_mut() {
                level.fd = fd;
            }
        }
        for (depth, comp) in comps.iter().enumerate().skip(shared) {
            let is_last = depth + 1 == comps.len();
            let parent = match chain.last() {
                Some(Level { fd: Some(fd), .. }) => fd.as_fd(),
                _ => root.as_fd(),
            };
            let create = if is_last { last } else { parents };
            let fd =
                step(parent, comp, create, created).map_err(|e| fail(depth + 1, e, is_last))?;
            if chain.len() > KEPT_LEVELS {
                if let Some(level) = chain.last_mut() {
                    level.fd = None;
                }
            }
            chain.push(Level {
                name: comp.to_os_string(),
                fd: Some(fd),
            });
        }
        Ok(match chain.last() {
            Some(Level { fd: Some(fd), .. }) => fd.as_fd(),
            _ => root.as_fd(),
        })
    }
}

/// Why a symbolic link where copy-out puts its top-level entry is refused.
pub(super) fn link_reason(parent: BorrowedFd<'_>, leaf: &OsStr) -> String {
    let target = rustix::fs::readlinkat(parent, leaf, Vec::new())
        .map(|t| String::from_utf8_lossy(t.as_bytes()).into_owned())
        .unwrap_or_else(|_| "?".into());
    format!(
        "it is a symbolic link (to `{target}`); nothing is written through a link below the \
         directory you named, since one may come from the guest (an earlier copy-out): remove \
         the link, or name its target as the destination if you trust it"
    )
}
