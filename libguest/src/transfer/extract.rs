//! Extracts a hostile tar stream into a directory (the `copy_out` side).
//!
//! The tar crate parses the stream; this module decides what reaches the
//! filesystem, because `tar::Entry::unpack_in` is not strict enough here
//! (see the `tar_crate_*` tests in `tests_hostile.rs`): it silently skips
//! `..` entries, rewrites `/abs/path` to `abs/path`, creates device and FIFO
//! entries as regular files, resolves paths by name (so a directory swapped
//! for a link mid-extraction is followed), and reads sparse holes as zeros.
//! Policy:
//!
//! - entry and hard-link paths must be relative without `..`, else the
//!   extraction stops with [`TransferError::Refused`];
//! - every directory is reached from the destination's descriptor without
//!   following links (tree.rs); a link on the way is refused even when it
//!   points inside, so nothing is ever written through one;
//! - files are created fresh (`O_CREAT|O_EXCL|O_NOFOLLOW`) after unlinking
//!   whatever non-directory was there (leaves.rs), so neither a symlink nor
//!   a hard link in place can be written through;
//! - modes: see [`UnpackOptions::keep_modes`]; a directory made here gets
//!   its mode and mtime once the archive has moved past its contents (so a
//!   read-only one can still be filled), one that was there keeps both;
//! - the headers of one entry may use at most [`METADATA_LIMIT`] bytes, file
//!   data goes through a fixed buffer, holes stay holes and sparse entries
//!   cost their stored data only (sparse.rs).

use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::time::{Duration, SystemTime};

use tar::EntryType;

use super::paths::{extract_err, refused, relative, shown};
use super::sparse::{self, SparseMap};
use super::stream::{CrateSide, Direct, Stream};
use super::tree::{Origin, Tree};
use super::{display_name, StopCheck, TransferError, UnpackOptions};

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
    /// Directory entries extracted, new or already there (the destination
    /// itself not counted).
    pub dirs: u64,
    /// Symbolic links created.
    pub symlinks: u64,
    /// Device, FIFO and unknown-type entries, which are not created.
    pub skipped_special: u64,
    /// Apparent bytes of the regular files written (holes included).
    pub bytes: u64,
}

/// [`unpack_into_opts`] with the default options: `dest_dir` must exist.
pub fn unpack_into(reader: impl Read, dest_dir: &Path) -> Result<UnpackSummary, TransferError> {
    unpack_into_opts(reader, dest_dir, &UnpackOptions::default())
}

/// Extracts the tar stream `reader` into `dest`, a directory that is not a
/// symbolic link (its parent is followed as given) and that must exist
/// unless [`UnpackOptions::create_dest`]. Stops at the first entry that is
/// refused or fails; what was extracted before it stays.
pub fn unpack_into_opts(
    reader: impl Read,
    dest: &Path,
    opts: &UnpackOptions,
) -> Result<UnpackSummary, TransferError> {
    let tree = Tree::open(dest, opts.create_dest)?;
    let stream = Stream::new(reader);
    let mut archive = tar::Archive::new(CrateSide(Rc::clone(&stream)));
    let mut last = String::from("(start of archive)");
    let mut entries = archive.entries().map_err(|source| TransferError::Archive {
        after: last.clone(),
        source,
    })?;
    let mut un = Unpacker {
        tree,
        keep_modes: opts.keep_modes,
        max_sparse_size: opts.max_sparse_size,
        summary: UnpackSummary::default(),
        open: Vec::new(),
        buf: vec![0; COPY_BUF],
        ticker: Ticker {
            processed: 0,
            stop: opts.stop.clone(),
        },
    };
    loop {
        if un.ticker.tick(0) {
            return Err(TransferError::Stopped { after: last });
        }
        stream.begin_headers(METADATA_LIMIT);
        let next = entries.next();
        stream.end_headers();
        if stream.credit() != 0 && !matches!(next, Some(Err(_))) {
            // The crate skipped less than was read past it: the sparse map
            // and the crate disagree. Nothing after this can be trusted.
            return Err(archive_err(&last, "sparse data does not match its entry"));
        }
        let mut entry = match next {
            None => break,
            Some(Ok(entry)) => entry,
            Some(Err(_)) if stream.hit_budget() => {
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
        let sparse = if entry.header().entry_type().is_gnu_sparse() {
            let ext = stream
                .recorded_from(entry.raw_header_position() + 512)
                .unwrap_or_default();
            Some(sparse::gnu_map(entry.header(), &ext).map_err(|r| refused(&name, r))?)
        } else {
            None
        };
        un.entry(&mut entry, &name, sparse.as_ref(), &stream)?;
        // Drain what was not read (data of a skipped entry) here, outside
        // the header budget; sparse data past the crate, never through it.
        let drained = match &sparse {
            Some(map) => {
                let left = map.stored.saturating_sub(stream.credit());
                un.drain(&mut Direct {
                    stream: &stream,
                    left,
                })
            }
            None => un.drain(&mut entry),
        };
        drained.map_err(|e| match e {
            None => TransferError::Stopped {
                after: name.clone(),
            },
            Some(source) => TransferError::Archive {
                after: name.clone(),
                source,
            },
        })?;
        last = name;
    }
    un.close_dirs(None)?;
    Ok(un.summary)
}

/// Counts the entry data processed and asks the stop check.
pub(super) struct Ticker {
    processed: u64,
    stop: Option<StopCheck>,
}

impl Ticker {
    /// Whether to stop, after `n` more bytes.
    pub(super) fn tick(&mut self, n: u64) -> bool {
        self.processed += n;
        self.stop.as_ref().is_some_and(|stop| stop(self.processed))
    }
}

/// A directory whose mode and mtime wait until the archive has left it.
struct DirFix {
    rel: PathBuf,
    mode: u32,
    mtime: Option<SystemTime>,
}

pub(super) struct Unpacker {
    pub(super) tree: Tree,
    pub(super) keep_modes: bool,
    pub(super) max_sparse_size: u64,
    pub(super) summary: UnpackSummary,
    /// The directories made here that the archive is inside, outermost
    /// first. Archives list a directory's contents right after it, so this
    /// is bounded by the depth of the tree, not by its size.
    open: Vec<DirFix>,
    pub(super) buf: Vec<u8>,
    pub(super) ticker: Ticker,
}

impl Unpacker {
    /// The permission bits an entry with `mode` gets: exactly its own with
    /// `keep_modes`, else without group/other write (the umask is applied
    /// at creation, or by `Origin::Created`).
    pub(super) fn wanted_mode(&self, mode: u32) -> u32 {
        if self.keep_modes {
            mode & 0o777
        } else {
            mode & 0o755
        }
    }

    fn entry<R: Read>(
        &mut self,
        entry: &mut tar::Entry<'_, CrateSide<R>>,
        name: &str,
        sparse: Option<&SparseMap>,
        stream: &Stream<R>,
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
        let mode = header.mode().ok();
        let mtime = header.mtime().ok().and_then(to_system_time);
        // Old (v7) archives mark directories with a trailing slash only.
        let slash_dir = kind.is_file() && entry.path_bytes().ends_with(b"/");
        match kind {
            _ if kind.is_dir() || slash_dir => self.dir(&rel, name, mode.unwrap_or(0o755), mtime),
            EntryType::Regular | EntryType::Continuous | EntryType::GNUSparse => {
                let (mode, size) = (mode.unwrap_or(0o644), entry.size());
                let sparse = sparse.map(|m| (m, stream));
                self.file(entry, size, &rel, name, mode, mtime, sparse)
            }
            EntryType::Symlink => self.symlink(entry, &rel, name, mtime),
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
        let want = self.wanted_mode(mode);
        // Owner-writable until close_dirs, so the entries inside fit; with
        // the umask applied, so nothing is ever more open than it allows.
        let create = if self.keep_modes { 0o700 } else { want | 0o700 };
        match self.tree.entry_dir(rel, create, name)? {
            // Not ours: `./` of an existing destination, or a directory that
            // was there (a 0700 `.ssh` stays 0700).
            Origin::Existing => {}
            Origin::Created(made) => self.open.push(DirFix {
                rel: rel.to_path_buf(),
                mode: if self.keep_modes { want } else { made & want },
                mtime,
            }),
        }
        if !rel.as_os_str().is_empty() {
            self.summary.dirs += 1;
        }
        Ok(())
    }

    /// Reads and drops the rest of an entry's data; `Err(None)` if told to
    /// stop.
    fn drain(&mut self, src: &mut impl Read) -> Result<(), Option<io::Error>> {
        loop {
            match src.read(&mut self.buf) {
                Ok(0) => return Ok(()),
                Ok(n) if self.ticker.tick(n as u64) => return Err(None),
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(Some(e)),
            }
        }
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
            let entry = shown(&fix.rel);
            let dir = self.tree.reopen(&fix.rel, &entry)?;
            let path = self.tree.path_of(&fix.rel);
            rustix::fs::fchmod(&dir, rustix::fs::Mode::from_raw_mode(fix.mode))
                .map_err(|e| extract_err(&entry, &path, e.into()))?;
            if let Some(t) = fix.mtime {
                let times = std::fs::FileTimes::new().set_accessed(t).set_modified(t);
                std::fs::File::from(dir)
                    .set_times(times)
                    .map_err(|e| extract_err(&entry, &path, e))?;
            }
        }
        Ok(())
    }
}

pub(super) fn to_system_time(secs: u64) -> Option<SystemTime> {
    // Larger values cannot be set (time_t is i64); such an mtime is dropped.
    if i64::try_from(secs).is_err() {
        return None;
    }
    SystemTime::UNIX_EPOCH.checked_add(Duration::from_secs(secs))
}

pub(super) fn archive_err(after: &str, what: &str) -> TransferError {
    TransferError::Archive {
        after: after.to_owned(),
        source: io::Error::new(io::ErrorKind::InvalidData, what.to_owned()),
    }
}
