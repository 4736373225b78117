//! Extracts a hostile tar stream into a directory (the `copy_out` side).
//!
//! The tar crate parses the stream; this module decides what reaches the
//! filesystem, because `tar::Entry::unpack_in` alone is not strict enough
//! here (see the `tar_crate_*` tests in `tests_hostile.rs`): it silently
//! skips `..` entries, silently rewrites `/abs/path` to `abs/path`, creates
//! device and FIFO entries as regular files, and buffers GNU long names and
//! pax headers whole, however large. Policy:
//!
//! - entry and hard-link paths must be relative without `..`, else the
//!   extraction stops with [`TransferError::Refused`];
//! - every directory above an entry must be a real directory (checked with
//!   `lstat`, created if missing): a symlink there, whether made by an earlier
//!   entry or already in the destination, is refused even when it points
//!   inside, so nothing is ever written through a symlink;
//! - files are created fresh (`O_CREAT|O_EXCL|O_NOFOLLOW`) after unlinking
//!   whatever non-directory was there, so neither a symlink nor a hard link
//!   in place can be written through;
//! - modes keep only the permission bits, owners are never changed, mtimes
//!   are kept; a directory gets its mode and mtime once the archive has moved
//!   past its contents, so a read-only directory can still be filled;
//! - the headers of one entry may use at most [`METADATA_LIMIT`] bytes and
//!   file data is streamed through a fixed buffer (holes are kept sparse).
//!
//! The checks are done just before each operation; they hold against the
//! archive (which cannot act between them), not against another local
//! process renaming things inside the destination at the same moment.

use std::fs::{self, DirBuilder, FileTimes, OpenOptions, Permissions};
use std::io::{self, Read};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::time::{Duration, SystemTime};

use tar::EntryType;

use super::paths::{extract_err, prepare_leaf, refused, relative, shown, walk_dirs};
use super::stream::{copy_sparse, Budget, Budgeted, CopyError};
use super::{display_name, TransferError};

/// Most bytes the tar crate may read to produce one entry: its header blocks,
/// GNU long name/link and pax records (which it holds in memory) and sparse
/// maps. Linux paths are at most 4 KiB, so this is generous.
pub const METADATA_LIMIT: u64 = 1 << 20;

/// File data moves through a buffer of this size.
const COPY_BUF: usize = 64 * 1024;

/// What [`unpack_into`] created.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct UnpackSummary {
    /// Regular files and hard links.
    pub files: u64,
    pub dirs: u64,
    pub symlinks: u64,
    /// Device, FIFO and unknown-type entries, which are not created.
    pub skipped_special: u64,
    /// Bytes of regular file content written (holes included).
    pub bytes: u64,
}

/// Extracts the tar stream `reader` into `dest_dir`, which must exist and be
/// a directory. Stops at the first entry that is refused or fails; what was
/// extracted before it stays.
pub fn unpack_into(reader: impl Read, dest_dir: &Path) -> Result<UnpackSummary, TransferError> {
    match fs::metadata(dest_dir) {
        Ok(m) if m.is_dir() => {}
        Ok(_) => return Err(bad_dest(dest_dir, "it is not a directory".into())),
        Err(e) => return Err(bad_dest(dest_dir, e.to_string())),
    }
    let budget = Rc::new(Budget::default());
    let mut archive = tar::Archive::new(Budgeted {
        inner: reader,
        budget: Rc::clone(&budget),
    });
    // The defaults already, spelled out because they are the policy: never
    // chown, never set xattrs (security.capability), drop setuid bits.
    archive.set_preserve_ownerships(false);
    archive.set_unpack_xattrs(false);
    archive.set_preserve_permissions(false);
    archive.set_preserve_mtime(true);
    let mut last = String::from("(start of archive)");
    let mut entries = archive.entries().map_err(|source| TransferError::Archive {
        after: last.clone(),
        source,
    })?;
    let mut un = Unpacker {
        dest: dest_dir,
        summary: UnpackSummary::default(),
        open: Vec::new(),
        buf: vec![0; COPY_BUF],
    };
    loop {
        budget.left.set(Some(METADATA_LIMIT));
        let next = entries.next();
        budget.left.set(None);
        let mut entry = match next {
            None => break,
            Some(Ok(entry)) => entry,
            Some(Err(_)) if budget.hit.get() => {
                return Err(TransferError::MetadataTooLarge {
                    after: last,
                    limit: METADATA_LIMIT,
                });
            }
            Some(Err(source)) => {
                return Err(TransferError::Archive {
                    after: last,
                    source,
                })
            }
        };
        let name = display_name(&entry.path_bytes());
        un.entry(&mut entry, &name)?;
        // Drain what was not read (data of a skipped entry) here, outside the
        // budget, so that the next `next()` reads headers only.
        io::copy(&mut entry, &mut io::sink()).map_err(|source| TransferError::Archive {
            after: name.clone(),
            source,
        })?;
        last = name;
    }
    un.close_dirs(None)?;
    Ok(un.summary)
}

/// A directory whose mode and mtime wait until the archive has left it.
struct DirFix {
    rel: PathBuf,
    mode: u32,
    mtime: Option<SystemTime>,
}

struct Unpacker<'d> {
    dest: &'d Path,
    summary: UnpackSummary,
    /// The directories the archive is inside, outermost first. Archives list
    /// a directory's contents right after it, so this is bounded by the
    /// depth of the tree (and PATH_MAX), not by its size.
    open: Vec<DirFix>,
    buf: Vec<u8>,
}

impl Unpacker<'_> {
    fn entry<R: Read>(
        &mut self,
        entry: &mut tar::Entry<'_, R>,
        name: &str,
    ) -> Result<(), TransferError> {
        let kind = entry.header().entry_type();
        if matches!(
            kind,
            EntryType::XGlobalHeader
                | EntryType::XHeader
                | EntryType::GNULongName
                | EntryType::GNULongLink
        ) {
            // Metadata the crate did not merge (pax global, or extension
            // headers in a pre-POSIX header): nothing to create.
            return Ok(());
        }
        let raw = entry
            .path()
            .map_err(|e| refused(name, format!("its path is unusable ({e})")))?;
        let rel = relative(&raw, name, "path")?;
        self.close_dirs(Some(&rel))?;
        let header = entry.header();
        let mode = header.mode().ok().map(|m| m & 0o777);
        let mtime = header.mtime().ok().and_then(to_system_time);
        // Old (v7) archives mark directories with a trailing slash only.
        let slash_dir = kind.is_file() && entry.path_bytes().ends_with(b"/");
        match kind {
            _ if kind.is_dir() || slash_dir => self.dir(&rel, name, mode.unwrap_or(0o755), mtime),
            EntryType::Regular | EntryType::Continuous | EntryType::GNUSparse => {
                self.file(entry, &rel, name, mode.unwrap_or(0o644), mtime)
            }
            EntryType::Symlink => {
                let path = prepare_leaf(self.dest, &rel, name)?;
                // The crate's own unpack: symlink(2) plus lutimes. The link
                // may point anywhere; nothing is ever written through it.
                entry
                    .unpack(&path)
                    .map_err(|e| extract_err(name, &path, e))?;
                self.summary.symlinks += 1;
                Ok(())
            }
            EntryType::Link => self.hard_link(entry, &rel, name),
            _ => {
                if !matches!(kind, EntryType::Char | EntryType::Block | EntryType::Fifo) {
                    tracing::warn!(
                        entry = name,
                        "skipping tar entry of unknown type {:?}",
                        kind.as_byte()
                    );
                }
                self.summary.skipped_special += 1;
                Ok(())
            }
        }
    }

    fn dir(
        &mut self,
        rel: &Path,
        name: &str,
        mode: u32,
        mtime: Option<SystemTime>,
    ) -> Result<(), TransferError> {
        if rel.as_os_str().is_empty() {
            // `./`: the destination itself, whose mode is not ours to change.
            return Ok(());
        }
        walk_dirs(self.dest, rel, name, true)?;
        let path = self.dest.join(rel);
        match fs::symlink_metadata(&path) {
            Ok(m) if m.is_dir() => {}
            Ok(_) => {
                return Err(refused(
                    name,
                    format!("`{}` exists and is not a directory", shown(rel)),
                ))
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                // Owner-writable until close_dirs, so the entries inside fit.
                DirBuilder::new()
                    .mode(0o700)
                    .create(&path)
                    .map_err(|e| extract_err(name, &path, e))?;
            }
            Err(e) => return Err(extract_err(name, &path, e)),
        }
        self.open.push(DirFix {
            rel: rel.to_path_buf(),
            mode,
            mtime,
        });
        self.summary.dirs += 1;
        Ok(())
    }

    fn file<R: Read>(
        &mut self,
        entry: &mut tar::Entry<'_, R>,
        rel: &Path,
        name: &str,
        mode: u32,
        mtime: Option<SystemTime>,
    ) -> Result<(), TransferError> {
        let path = prepare_leaf(self.dest, rel, name)?;
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW)
            .open(&path)
            .map_err(|e| extract_err(name, &path, e))?;
        let written = copy_sparse(entry, &mut file, &mut self.buf).map_err(|e| match e {
            CopyError::Read(source) => TransferError::Archive {
                after: name.to_owned(),
                source,
            },
            CopyError::Write(e) => extract_err(name, &path, e),
        })?;
        // A sparse entry's size is its stored data, not the file's length.
        if entry.header().entry_type() != EntryType::GNUSparse && written != entry.size() {
            return Err(TransferError::Archive {
                after: name.to_owned(),
                source: io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    format!("entry data cut short ({written} of {} bytes)", entry.size()),
                ),
            });
        }
        file.set_permissions(Permissions::from_mode(mode))
            .map_err(|e| extract_err(name, &path, e))?;
        if let Some(t) = mtime {
            file.set_times(FileTimes::new().set_accessed(t).set_modified(t))
                .map_err(|e| extract_err(name, &path, e))?;
        }
        self.summary.files += 1;
        self.summary.bytes += written;
        Ok(())
    }

    fn hard_link<R: Read>(
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
        if target.as_os_str().is_empty() || target == rel {
            return Err(refused(
                name,
                "it is a hard link to itself or to the destination".into(),
            ));
        }
        // The target must be in the tree already, reached without symlinks.
        walk_dirs(self.dest, &target, name, false)?;
        let target_path = self.dest.join(&target);
        match fs::symlink_metadata(&target_path) {
            Ok(m) if !m.is_dir() => {}
            Ok(_) => {
                return Err(refused(
                    name,
                    format!("its hard-link target `{}` is a directory", shown(&target)),
                ))
            }
            Err(e) => {
                let reason = format!(
                    "its hard-link target `{}` is not in the extracted tree ({e})",
                    shown(&target)
                );
                return Err(refused(name, reason));
            }
        }
        let path = prepare_leaf(self.dest, rel, name)?;
        // linkat(2) without AT_SYMLINK_FOLLOW: a symlink target is linked
        // as the symlink itself.
        fs::hard_link(&target_path, &path).map_err(|e| extract_err(name, &path, e))?;
        self.summary.files += 1;
        Ok(())
    }

    /// Applies the mode and mtime of each open directory that does not
    /// contain `next` (all of them for `None`), innermost first: only then
    /// can a read-only directory be closed, and its mtime stay put.
    fn close_dirs(&mut self, next: Option<&Path>) -> Result<(), TransferError> {
        while let Some(top) = self.open.last() {
            if next.is_some_and(|n| n != top.rel && n.starts_with(&top.rel)) {
                break;
            }
            let Some(fix) = self.open.pop() else { break };
            let path = self.dest.join(&fix.rel);
            let err = |e| extract_err(&shown(&fix.rel), &path, e);
            let dir = OpenOptions::new()
                .read(true)
                .custom_flags(libc::O_DIRECTORY | libc::O_NOFOLLOW)
                .open(&path)
                .map_err(err)?;
            dir.set_permissions(Permissions::from_mode(fix.mode))
                .map_err(err)?;
            if let Some(t) = fix.mtime {
                dir.set_times(FileTimes::new().set_accessed(t).set_modified(t))
                    .map_err(err)?;
            }
        }
        Ok(())
    }
}

fn to_system_time(secs: u64) -> Option<SystemTime> {
    // Larger values cannot be set (time_t is i64); such an mtime is dropped.
    if i64::try_from(secs).is_err() {
        return None;
    }
    SystemTime::UNIX_EPOCH.checked_add(Duration::from_secs(secs))
}

fn bad_dest(path: &Path, reason: String) -> TransferError {
    TransferError::BadDestination {
        path: path.to_path_buf(),
        reason,
    }
}
