//! Errors of the disk layer, worded for the person who named the drive.

use std::io;
use std::path::PathBuf;

/// Everything that can go wrong opening or accessing a disk image.
#[derive(Debug, thiserror::Error)]
pub enum DiskError {
    /// The path does not exist.
    #[error("disk image {path} does not exist")]
    NotFound {
        /// The image as the caller named it.
        path: PathBuf,
    },

    /// Read-write access was refused by permissions or a read-only filesystem.
    #[error(
        "cannot open {path} read-write: {source}; add the drive read-only \
         (or as a copy-on-write overlay) to inspect it without writing"
    )]
    PermissionDenied {
        /// The image as the caller named it.
        path: PathBuf,
        /// EACCES, EPERM or EROFS.
        source: io::Error,
    },

    /// Any other failure to open the image.
    #[error("cannot open disk image {path}: {source}")]
    Open {
        /// The image as the caller named it.
        path: PathBuf,
        /// The OS error.
        source: io::Error,
    },

    /// A directory, FIFO, socket, character device, ...
    #[error("{path} is {what}: only regular files and block devices can be disks")]
    NotADisk {
        /// The image as the caller named it.
        path: PathBuf,
        /// What it is instead, e.g. "a FIFO".
        what: &'static str,
    },

    /// A backing file that is not a regular file or block device.
    #[error(
        "backing file {backing} of {path} is {what}: a backing chain is only followed to \
         regular files and block devices"
    )]
    BackingNotADisk {
        /// The image whose header names the backing file.
        path: PathBuf,
        /// The backing file, resolved against the directory of `path`.
        backing: PathBuf,
        /// What the backing file is instead, e.g. "a FIFO".
        what: &'static str,
    },

    /// A qcow2 image with an external data file (incompatible feature bit 2 or the data-file
    /// header extension). Its header could name any host file.
    #[error(
        "{path} is a qcow2 image with an external data file ({data_file}); refused, because a \
         qcow2 header can point its data file at any host file, which the guest would then read \
         and write. If you trust the image, make a self-contained copy on a host you trust \
         (qemu-img convert -O qcow2 IMAGE COPY.qcow2) and add the copy"
    )]
    ExternalDataFile {
        /// The image (top or backing) with the external data file.
        path: PathBuf,
        /// The data file's resolved path, or "the header names none".
        data_file: String,
    },

    /// The format was detected, not given, and the image names a backing file.
    #[error(
        "{path} was detected as qcow2 and names the backing file {backing}; a backing file is \
         only followed when the drive's format is given explicitly, because a guest that can \
         write a raw image can put a qcow2 header into it that names any host file. If you trust \
         this image and its backing chain, give the format qcow2 explicitly; if it is a raw disk, \
         give the format raw"
    )]
    ProbedBacking {
        /// The image as the caller named it.
        path: PathBuf,
        /// The backing file, resolved against the directory of `path`.
        backing: PathBuf,
    },

    /// A backing file whose format the header does not record.
    #[error(
        "{path} names the backing file {backing} but not its format; backing formats are never \
         probed (a guest could have turned a raw backing file into qcow2). If you trust the \
         chain, record the format: qemu-img rebase -u -b '{name}' -F raw '{path}' (or -F qcow2 \
         for a qcow2 backing file)"
    )]
    BackingFormatMissing {
        /// The image whose header names the backing file.
        path: PathBuf,
        /// The backing file, resolved against the directory of `path`.
        backing: PathBuf,
        /// The backing file name as the header spells it.
        name: String,
    },

    /// A backing chain that comes back to an image already in it, or is absurdly deep.
    #[error("the backing chain of {path} {reason}")]
    BackingChain {
        /// The top image of the chain.
        path: PathBuf,
        /// What is wrong, phrased to follow "the backing chain of PATH".
        reason: String,
    },

    /// No temporary file could be made for an overlay or scratch disk.
    #[error(
        "cannot create a temporary file in {dir}: {source}; point LIBGUEST_TMPDIR (or \
         Guest::set_tmpdir) at a writable directory with room for the overlay or scratch disk"
    )]
    TempFile {
        /// The directory the temporary file was to go in.
        dir: PathBuf,
        /// The OS error.
        source: io::Error,
    },

    /// An image of a format qemu knows but libguest does not read (vmdk,
    /// vdi...): found by its magic where the format was to be detected.
    #[error(
        "{path} is a {format} image; libguest reads raw and qcow2 images only: convert it \
         (qemu-img convert -O qcow2 '{path}' COPY.qcow2) and use the copy"
    )]
    ForeignFormat {
        /// The image as the caller named it.
        path: PathBuf,
        /// qemu's name for its format.
        format: &'static str,
    },

    /// A format name that this crate does not know.
    #[error("unknown disk format {0:?}: use \"raw\" or \"qcow2\"")]
    UnknownFormat(String),

    /// The qcow2 header or metadata is corrupt or uses unsupported features.
    #[error("{path}: corrupt or unsupported qcow2 image: {reason}")]
    Qcow2 {
        /// The image (top or backing) at fault.
        path: PathBuf,
        /// What is corrupt or unsupported, from our header check or imago.
        reason: String,
    },

    /// The backing file named in a qcow2 header cannot be opened.
    #[error("backing file {backing} of {path} cannot be opened: {source}")]
    Backing {
        /// The image whose header names the backing file.
        path: PathBuf,
        /// The backing file, resolved against the directory of `path`.
        backing: PathBuf,
        /// The OS error.
        source: io::Error,
    },

    /// A request outside the disk; the guest sent a bad LBA or length.
    #[error("request of {len} bytes at offset {offset} is outside the {size}-byte disk")]
    OutOfRange {
        /// Start of the request, in bytes.
        offset: u64,
        /// Length of the request, in bytes.
        len: u64,
        /// The disk's virtual size, in bytes.
        size: u64,
    },

    /// A write or discard to a drive added read-only.
    #[error("the disk is read-only")]
    ReadOnly,

    /// An I/O error while serving a request.
    #[error("disk {op} failed: {source}")]
    Io {
        /// What was being done: "read", "write", "flush", "discard", ...
        op: &'static str,
        /// The OS error.
        source: io::Error,
    },

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
