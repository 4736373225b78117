//! The host side of `copy_in` / `copy_out`: tar streams to and from the
//! appliance, and the host files that `download` / `tar_out` write.
//!
//! Like libguestfs, `copy_out(remotepath, localdir)` has the appliance send a
//! plain tar of `remotepath`, which [`unpack_into_opts`] extracts into
//! `localdir/<name>`; `copy_in(localpath, remotedir)` has [`pack`] write
//! `localpath` as a tar whose single top-level entry is its file name
//! (`tar -C parent -cf - name`) for the appliance to extract.
//!
//! Security rule: the stream from the appliance is hostile (the guest
//! filesystem, and in the worst case the appliance itself, belongs to
//! whoever built the disk image), and so is anything an earlier copy-out
//! left in the destination. Only the path the user typed is trusted, as
//! typed: the directory they named may be reached through their symlinks,
//! but nothing below it ever is. Concretely:
//!
//! - the destination root (`localdir/<name>`, or the directory given to
//!   [`unpack_into`]) must not be a symbolic link; every directory below it
//!   is opened from its parent's descriptor with `O_NOFOLLOW`, files are
//!   created `O_CREAT|O_EXCL|O_NOFOLLOW`, and all other changes are `*at()`
//!   calls on those descriptors (`tree.rs`), so neither the archive nor a
//!   local user swapping a directory for a link mid-extraction can send a
//!   write outside;
//! - entries that try (`..`, absolute paths, links on the way) are refused,
//!   never skipped or rewritten;
//! - modes follow the umask and lose group/other write (unless
//!   [`UnpackOptions::keep_modes`]), never keep setuid/setgid/sticky, and
//!   directories that were there before keep theirs;
//! - the work and memory an archive costs follow its size: headers are
//!   capped ([`METADATA_LIMIT`]), holes of sparse entries are skipped, not
//!   read, and their apparent size is capped ([`DEFAULT_MAX_SPARSE_SIZE`]);
//! - a host file named for `download`/`tar_out` is not written through a
//!   symlink to a regular file ([`create_output`]).

use std::io;
use std::path::PathBuf;
use std::sync::Arc;

pub(crate) mod extract;
mod host;
mod leaves;
pub(crate) mod pack;
mod paths;
mod sparse;
mod stream;
mod tree;

#[cfg(test)]
mod tests_escape;
#[cfg(test)]
mod tests_hostile;
#[cfg(test)]
mod tests_sparse;
#[cfg(test)]
mod tests_support;

pub use extract::{unpack_into, unpack_into_opts, UnpackSummary, METADATA_LIMIT};
pub use host::{create_fresh_file, create_output};
pub use pack::{pack, PackSummary};

/// The largest apparent size a sparse entry may claim by default: 16 TiB,
/// the largest file ext4 holds with 4 KiB blocks and above real sparse files
/// such as a `lastlog` with 32-bit uids (about 1.2 TB). Its holes cost
/// nothing to extract, but every program that later reads the file pays for
/// them.
pub const DEFAULT_MAX_SPARSE_SIZE: u64 = 16 << 40;

/// Called with the number of bytes of entry data processed so far, before
/// each entry and each chunk (at most 64 KiB) of file data; `true` stops the
/// extraction with [`TransferError::Stopped`].
pub type StopCheck = Arc<dyn Fn(u64) -> bool + Send + Sync>;

/// How [`unpack_into_opts`] extracts.
#[derive(Clone)]
pub struct UnpackOptions {
    /// Keep each entry's permission bits exactly, as `tar -p` does: no
    /// umask, group and other write kept. Off (the default), files and
    /// directories get the archive's mode masked by the process umask and
    /// without group/other write. Setuid, setgid and sticky bits are dropped
    /// either way, and owners are never changed.
    pub keep_modes: bool,
    /// Largest apparent size of a sparse entry, see
    /// [`DEFAULT_MAX_SPARSE_SIZE`]; a larger one is refused.
    pub max_sparse_size: u64,
    /// Create the destination directory if it is missing (its parent must
    /// exist); it then gets the mode of the archive's `./` entry.
    pub create_dest: bool,
    /// Polled while extracting: how `copy_out` stops the unpacker.
    pub stop: Option<StopCheck>,
}

impl Default for UnpackOptions {
    fn default() -> Self {
        UnpackOptions {
            keep_modes: false,
            max_sparse_size: DEFAULT_MAX_SPARSE_SIZE,
            create_dest: false,
            stop: None,
        }
    }
}

impl std::fmt::Debug for UnpackOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UnpackOptions")
            .field("keep_modes", &self.keep_modes)
            .field("max_sparse_size", &self.max_sparse_size)
            .field("create_dest", &self.create_dest)
            .field("stop", &self.stop.as_ref().map(|_| "Fn"))
            .finish()
    }
}

/// Errors of [`unpack_into`] and [`pack`]. Each names the file or tar entry
/// involved and says what to do.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TransferError {
    #[error("cannot extract into `{path}`: {reason}")]
    /// The destination cannot be extracted into (a symlink, not a directory).
    BadDestination {
        /// The destination.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },

    #[error("the tar stream is unreadable after entry `{after}`: {source}; it is corrupt or was cut short (see the appliance console log), entries after that one were not extracted")]
    /// The tar stream does not parse.
    Archive {
        /// The last entry read whole.
        after: String,
        /// The read or parse error.
        #[source]
        source: io::Error,
    },

    #[error("the tar entry after `{after}` carries more than {limit} bytes of long-name/pax headers; refusing it, no real archive needs that much (the guest data is probably hostile)")]
    /// An entry's long-name and pax headers exceed [`METADATA_LIMIT`].
    MetadataTooLarge {
        /// The last entry read whole.
        after: String,
        /// The limit, in bytes.
        limit: u64,
    },

    #[error("refusing tar entry `{entry}`: {reason}; the archive comes from the guest and is not trusted, so extraction stopped before writing this entry")]
    /// An entry tries to leave the destination or is otherwise unsafe.
    Refused {
        /// The entry's name.
        entry: String,
        /// Why it is refused.
        reason: String,
    },

    #[error("refusing sparse tar entry `{entry}`: it claims {size} bytes, over the limit of {limit}; raise the limit (UnpackOptions::max_sparse_size, CopyOutOptions::max_sparse_size, CLI: copy-out --max-sparse-size) if the guest really holds such a file")]
    /// A sparse entry claims more than [`UnpackOptions::max_sparse_size`].
    SparseTooLarge {
        /// The entry's name.
        entry: String,
        /// Its claimed size, in bytes.
        size: u64,
        /// The limit, in bytes.
        limit: u64,
    },

    #[error("extraction stopped after entry `{after}`: the call was cancelled or failed")]
    /// The [`StopCheck`] said stop.
    Stopped {
        /// The last entry extracted.
        after: String,
    },

    #[error("cannot extract tar entry `{entry}` to `{path}`: {source}; check free space and permissions under the destination directory")]
    /// Writing an entry on the host failed.
    Extract {
        /// The entry's name.
        entry: String,
        /// Where it was being written.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: io::Error,
    },

    #[error("cannot read `{path}` to copy it in: {source}; check that it exists and that you may read it")]
    /// A host file to pack cannot be read.
    Source {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: io::Error,
    },

    #[error("`{path}` has no file name to use as the top-level entry; name a file or directory, not `/`")]
    /// The path to pack has no file name (`/`, `..`).
    SourceName {
        /// The path.
        path: PathBuf,
    },

    #[error("`{path}` changed size while it was being read ({expected} bytes when listed, {got} read); retry when nothing is writing to it")]
    /// A host file changed size while it was packed.
    SourceChanged {
        /// The file.
        path: PathBuf,
        /// Its size when listed.
        expected: u64,
        /// The bytes read.
        got: u64,
    },

    #[error("cannot write the tar stream while sending `{path}`: {source}; the appliance stopped reading it (see its console log)")]
    /// The tar stream could not be written (the reader went away).
    Stream {
        /// The file being sent.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: io::Error,
    },
}

/// A tar entry name fit for an error message: lossy UTF-8, and a hostile
/// megabyte-long name is shortened.
fn display_name(bytes: &[u8]) -> String {
    const MAX: usize = 256;
    let name = String::from_utf8_lossy(bytes);
    match name.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}…", &name[..cut]),
        None => name.into_owned(),
    }
}
