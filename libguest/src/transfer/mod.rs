//! The host side of `copy_in` / `copy_out`: tar streams to and from the
//! appliance.
//!
//! Like libguestfs, `copy_out(remotepath, localdir)` has the appliance send a
//! plain tar of `remotepath`, which [`unpack_into`] extracts into `localdir`;
//! `copy_in(localpath, remotedir)` has [`pack`] write `localpath` as a tar
//! whose single top-level entry is its file name (`tar -C parent -cf - name`)
//! for the appliance to extract.
//!
//! The stream from the appliance is hostile: the guest filesystem, and in the
//! worst case the appliance itself, is controlled by whoever built the disk
//! image. [`unpack_into`] therefore never creates, writes or follows anything
//! outside its destination, refuses (rather than skips) entries that try, and
//! reads the stream with bounded memory.

use std::io;
use std::path::PathBuf;

pub(crate) mod extract;
pub(crate) mod pack;
mod paths;
mod stream;

#[cfg(test)]
mod tests_hostile;

pub use extract::{unpack_into, UnpackSummary};
pub use pack::{pack, PackSummary};

/// Errors of [`unpack_into`] and [`pack`]. Each names the file or tar entry
/// involved and says what to do.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TransferError {
    #[error("cannot extract into `{path}`: {reason}; pass an existing directory")]
    BadDestination { path: PathBuf, reason: String },

    #[error("the tar stream is unreadable after entry `{after}`: {source}; it is corrupt or was cut short (see the appliance console log), entries after that one were not extracted")]
    Archive {
        after: String,
        #[source]
        source: io::Error,
    },

    #[error("the tar entry after `{after}` carries more than {limit} bytes of long-name/pax headers; refusing it, no real archive needs that much (the guest data is probably hostile)")]
    MetadataTooLarge { after: String, limit: u64 },

    #[error("refusing tar entry `{entry}`: {reason}; the archive comes from the guest and is not trusted, so extraction stopped before writing this entry")]
    Refused { entry: String, reason: String },

    #[error("cannot extract tar entry `{entry}` to `{path}`: {source}; check free space and permissions under the destination directory")]
    Extract {
        entry: String,
        path: PathBuf,
        #[source]
        source: io::Error,
    },

    #[error("cannot read `{path}` to copy it in: {source}; check that it exists and that you may read it")]
    Source {
        path: PathBuf,
        #[source]
        source: io::Error,
    },

    #[error("`{path}` has no file name to use as the top-level entry; name a file or directory, not `/`")]
    SourceName { path: PathBuf },

    #[error("`{path}` changed size while it was being read ({expected} bytes when listed, {got} read); retry when nothing is writing to it")]
    SourceChanged {
        path: PathBuf,
        expected: u64,
        got: u64,
    },

    #[error("cannot write the tar stream while sending `{path}`: {source}; the appliance stopped reading it (see its console log)")]
    Stream {
        path: PathBuf,
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
