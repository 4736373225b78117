//! Opening a drive and its backing chain so that a hostile header cannot reach the host.
//!
//! Security rule: every file of a drive is opened here, by us, and nowhere else.
//! - Each open is `O_NONBLOCK | O_NOCTTY | O_CLOEXEC` after a `stat` that already refuses
//!   anything but a regular file or a block device, and the type is checked again with `fstat`
//!   on the descriptor before a byte is read: a FIFO never blocks, a tty never becomes ours, and a
//!   file swapped in between is caught.
//! - Only the top image, and only when the drive is read-write, is opened for writing.
//! - An external data file is never opened: such images are refused.
//! - A backing file is followed only when the caller gave the top image's format (a probed image
//!   may be a raw disk into which a guest wrote a qcow2 header, CVE-2008-2004), and only when the
//!   header records the backing file's format: backing formats are never probed.
//! - The resulting descriptors are what imago and the qemu backend use (see [`ChainNode`]), so no
//!   path is resolved twice.

use std::collections::HashSet;
use std::fs::{File, Metadata};
use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::fs::{FileTypeExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::qcow2_header::{Header, HeaderError};
use crate::{DiskError, Format};

/// Longest backing chain we follow; deeper chains are almost certainly loops.
const MAX_CHAIN_DEPTH: usize = 16;

/// One image of an opened drive's chain (top first), with the descriptor the host checked.
///
/// The descriptor is the one the disk backend reads through (imago gets duplicates of it, which
/// share its open file description); a hypervisor that must open the chain itself is handed a
/// duplicate too, never the path.
#[derive(Debug, Clone)]
pub struct ChainNode {
    path: PathBuf,
    format: Format,
    block_device: bool,
    writable: bool,
    file: Arc<File>,
}

impl ChainNode {
    /// The image's path: as the caller named it for the top, as resolved from the header for a
    /// backing file, or a description for a scratch disk.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The format this image is read as.
    pub fn format(&self) -> Format {
        self.format
    }

    /// Whether the image is a block device (else a regular file).
    pub fn is_block_device(&self) -> bool {
        self.block_device
    }

    /// Whether the descriptor is open for writing (only ever the top of a read-write drive).
    pub fn is_writable(&self) -> bool {
        self.writable
    }

    /// The checked descriptor; `try_clone` it to hand it on.
    pub fn file(&self) -> &File {
        &self.file
    }

    /// Checks the header again, through the same descriptor: for a
    /// hypervisor that parses it itself later (qemu), so that an image
    /// rewritten since it was added cannot have gained an external data file
    /// by then.
    pub fn recheck(&self) -> Result<(), DiskError> {
        if self.format != Format::Qcow2 {
            return Ok(());
        }
        let header = Header::read(&self.file).map_err(|e| corrupt(&self.path, e))?;
        if header.has_external_data_file() {
            return Err(DiskError::ExternalDataFile {
                data_file: data_file_name(&self.path, &header),
                path: self.path.clone(),
            });
        }
        Ok(())
    }

    pub(crate) fn new(path: PathBuf, format: Format, file: File, writable: bool) -> ChainNode {
        let block_device = file
            .metadata()
            .is_ok_and(|m| m.file_type().is_block_device());
        ChainNode {
            path,
            format,
            block_device,
            writable,
            file: Arc::new(file),
        }
    }
}

/// What a file is, in words, for errors; None for the two kinds a disk may be.
fn non_disk_kind(meta: &Metadata) -> Option<&'static str> {
    let t = meta.file_type();
    if t.is_file() || t.is_block_device() {
        None
    } else if t.is_dir() {
        Some("a directory")
    } else if t.is_fifo() {
        Some("a FIFO")
    } else if t.is_char_device() {
        Some("a character device")
    } else if t.is_socket() {
        Some("a socket")
    } else {
        Some("not a regular file")
    }
}

/// Why [`open_checked`] failed: the caller words the error (top image or backing file).
pub(crate) enum CheckedOpenError {
    Io(io::Error),
    NotADisk(&'static str),
}

/// Opens a regular file or block device without ever blocking on a FIFO or opening a device
/// that is neither (see the module docs).
pub(crate) fn open_checked(path: &Path, writable: bool) -> Result<File, CheckedOpenError> {
    // Refuse before opening: opening some character devices has side effects (a tape rewinds).
    let meta = std::fs::metadata(path).map_err(CheckedOpenError::Io)?;
    if let Some(what) = non_disk_kind(&meta) {
        return Err(CheckedOpenError::NotADisk(what));
    }
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(writable)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY | libc::O_CLOEXEC)
        .open(path)
        .map_err(CheckedOpenError::Io)?;
    // The path may have been swapped since the stat: the descriptor is what counts.
    let meta = file.metadata().map_err(CheckedOpenError::Io)?;
    if let Some(what) = non_disk_kind(&meta) {
        return Err(CheckedOpenError::NotADisk(what));
    }
    clear_nonblock(&file).map_err(CheckedOpenError::Io)?;
    Ok(file)
}

/// O_NONBLOCK was only for the open; I/O on the image must not see EAGAIN.
fn clear_nonblock(file: &File) -> io::Result<()> {
    let fd = file.as_raw_fd();
    // SAFETY: F_GETFL/F_SETFL on a descriptor we own; no memory is passed.
    let flags = unsafe { libc::fcntl(fd, libc::F_GETFL) };
    if flags < 0 {
        return Err(io::Error::last_os_error());
    }
    if flags & libc::O_NONBLOCK != 0 {
        // SAFETY: as above.
        if unsafe { libc::fcntl(fd, libc::F_SETFL, flags & !libc::O_NONBLOCK) } < 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

/// Opens the drive at `path` (for writing when `writable`), detects its format when `format` is
/// None, and opens its backing chain read-only, applying the policy of the module docs.
pub(crate) fn open_chain(
    path: &Path,
    format: Option<Format>,
    writable: bool,
) -> Result<Vec<ChainNode>, DiskError> {
    let top = open_checked(path, writable).map_err(|e| match e {
        CheckedOpenError::Io(e) => DiskError::open(path, writable, e),
        CheckedOpenError::NotADisk(what) => DiskError::NotADisk {
            path: path.to_path_buf(),
            what,
        },
    })?;
    let probed = format.is_none();
    let format = match format {
        Some(format) => format,
        None => probe(path, &top)?,
    };
    let mut seen = HashSet::new();
    seen.insert(identity(&top, path)?);
    let mut chain = vec![ChainNode::new(path.to_path_buf(), format, top, writable)];
    while let Some(node) = chain.last() {
        if node.format == Format::Raw {
            break;
        }
        let image = node.path.clone();
        let header = Header::read(&node.file).map_err(|e| corrupt(&image, e))?;
        if header.has_external_data_file() {
            return Err(DiskError::ExternalDataFile {
                data_file: data_file_name(&image, &header),
                path: image,
            });
        }
        let Some(name) = header.backing_name else {
            break;
        };
        let backing = resolve(&image, &name);
        if probed {
            return Err(DiskError::ProbedBacking {
                path: image,
                backing,
            });
        }
        let backing_format = match header.backing_format.as_deref() {
            Some("qcow2") => Format::Qcow2,
            // "file" is qemu's name for the protocol layer alone: the bytes as they are.
            Some("raw" | "file") => Format::Raw,
            Some(other) => {
                return Err(DiskError::Qcow2 {
                    reason: format!(
                    "backing file {} has the format {other:?}; only raw and qcow2 are supported",
                    backing.display()
                ),
                    path: image,
                })
            }
            None => {
                return Err(DiskError::BackingFormatMissing {
                    path: image,
                    backing,
                    name,
                })
            }
        };
        if chain.len() > MAX_CHAIN_DEPTH {
            return Err(DiskError::BackingChain {
                path: path.to_path_buf(),
                reason: format!("is deeper than {MAX_CHAIN_DEPTH} images"),
            });
        }
        let file = open_checked(&backing, false).map_err(|e| match e {
            CheckedOpenError::Io(source) => DiskError::Backing {
                path: image.clone(),
                backing: backing.clone(),
                source,
            },
            CheckedOpenError::NotADisk(what) => DiskError::BackingNotADisk {
                path: image.clone(),
                backing: backing.clone(),
                what,
            },
        })?;
        if !seen.insert(identity(&file, &backing)?) {
            return Err(DiskError::BackingChain {
                path: path.to_path_buf(),
                reason: format!(
                    "loops: {} names {}, which is already in the chain",
                    image.display(),
                    backing.display()
                ),
            });
        }
        chain.push(ChainNode::new(backing, backing_format, file, false));
    }
    Ok(chain)
}

/// The qcow2 magic in a file long enough for a qcow2 header means qcow2, anything else is raw.
pub(crate) fn probe(path: &Path, file: &File) -> Result<Format, DiskError> {
    let is_qcow2 =
        crate::qcow2_header::has_qcow2_magic(file).map_err(|e| DiskError::open(path, false, e))?;
    Ok(if is_qcow2 { Format::Qcow2 } else { Format::Raw })
}

/// (device, inode): the same file under any name.
fn identity(file: &File, path: &Path) -> Result<(u64, u64), DiskError> {
    let meta = file
        .metadata()
        .map_err(|e| DiskError::open(path, false, e))?;
    Ok((meta.dev(), meta.ino()))
}

/// The data file a header names, resolved as qemu would, for errors.
fn data_file_name(image: &Path, header: &Header) -> String {
    match &header.data_file_name {
        Some(name) => resolve(image, name).display().to_string(),
        None => "the header names none".into(),
    }
}

fn corrupt(path: &Path, e: HeaderError) -> DiskError {
    DiskError::Qcow2 {
        path: path.to_path_buf(),
        reason: e.to_string(),
    }
}

/// Resolves a file name from a header as qemu and imago do: relative to the image's directory.
pub(crate) fn resolve(image: &Path, name: &str) -> PathBuf {
    let name = Path::new(name);
    match image.parent() {
        Some(dir) if name.is_relative() => dir.join(name),
        _ => name.to_path_buf(),
    }
}
