//! Errors of the disk layer, worded for the person who named the drive.

use std::io;
use std::path::PathBuf;

/// Everything that can go wrong opening or accessing a disk image.
#[derive(Debug, thiserror::Error)]
pub enum DiskError {
    /// The path does not exist.
    #[error("disk image {path} does not exist")]
    NotFound { path: PathBuf },

    /// Read-write access was refused by permissions or a read-only filesystem.
    #[error(
        "cannot open {path} read-write: {source}; add the drive read-only \
         (or as a copy-on-write overlay) to inspect it without writing"
    )]
    PermissionDenied { path: PathBuf, source: io::Error },

    /// Any other failure to open the image.
    #[error("cannot open disk image {path}: {source}")]
    Open { path: PathBuf, source: io::Error },

    /// A directory, socket, character device, ...
    #[error("{path} is neither a regular file nor a block device")]
    NotADisk { path: PathBuf },

    /// A format name that this crate does not know.
    #[error("unknown disk format {0:?}: use \"raw\" or \"qcow2\"")]
    UnknownFormat(String),

    /// The qcow2 header or metadata is corrupt or uses unsupported features.
    #[error("{path}: corrupt or unsupported qcow2 image: {reason}")]
    Qcow2 { path: PathBuf, reason: String },

    /// The backing file named in a qcow2 header cannot be opened.
    #[error("backing file {backing} of {path} cannot be opened: {source}")]
    Backing {
        path: PathBuf,
        backing: PathBuf,
        source: io::Error,
    },

    /// A request outside the disk; the guest sent a bad LBA or length.
    #[error("request of {len} bytes at offset {offset} is outside the {size}-byte disk")]
    OutOfRange { offset: u64, len: u64, size: u64 },

    /// A write or discard to a drive added read-only.
    #[error("the disk is read-only")]
    ReadOnly,

    /// An I/O error while serving a request.
    #[error("disk {op} failed: {source}")]
    Io { op: &'static str, source: io::Error },

    /// The backend cannot do this operation.
    #[error("unsupported disk operation: {0}")]
    Unsupported(&'static str),

    /// A size that cannot be a disk.
    #[error("invalid disk size {0}: it must be greater than 0 and a multiple of 512 bytes")]
    InvalidSize(u64),
}

impl DiskError {
    /// Wraps an I/O error of a request.
    pub(crate) fn io(op: &'static str, source: io::Error) -> Self {
        DiskError::Io { op, source }
    }

    /// Classifies a failure to open `path`, so the message can say what to do.
    pub(crate) fn open(path: &std::path::Path, writable: bool, source: io::Error) -> Self {
        let path = path.to_path_buf();
        match source.raw_os_error() {
            Some(libc::ENOENT) => DiskError::NotFound { path },
            Some(libc::EACCES | libc::EPERM | libc::EROFS) if writable => {
                DiskError::PermissionDenied { path, source }
            }
            _ => DiskError::Open { path, source },
        }
    }
}
