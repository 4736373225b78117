//! Disk image backends for libguest's virtio-scsi device: raw files and block devices, qcow2
//! (through imago, with backing chains), read-only access, copy-on-write overlays and blank
//! scratch disks.
//!
//! Every backend is `Send + Sync` and moves data directly between the image and guest memory
//! given as [`VolatileSlice`]s.

mod error;
mod iov;
mod overlay;
mod qcow2;
mod raw;
mod scratch;

use std::fmt;
use std::path::Path;
use std::str::FromStr;

pub use error::DiskError;
pub use vm_memory::VolatileSlice;

/// On-disk image format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Raw,
    Qcow2,
}

impl FromStr for Format {
    type Err = DiskError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "raw" => Ok(Format::Raw),
            "qcow2" => Ok(Format::Qcow2),
            other => Err(DiskError::UnknownFormat(other.to_string())),
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Format::Raw => "raw",
            Format::Qcow2 => "qcow2",
        })
    }
}

/// How to open an image.
#[derive(Debug, Clone, Default)]
pub struct OpenOptions {
    /// None = detect from the header. `Some(Raw)` is never probed: a raw image whose first
    /// bytes say "QFI\xfb" is still raw.
    pub format: Option<Format>,
    /// Open O_RDONLY; the backend reports `is_read_only()` and refuses writes and discards.
    /// Takes precedence over `overlay`.
    pub readonly: bool,
    /// Copy-on-write overlay: the image is opened read-only and never modified, but the guest
    /// sees a writable disk whose writes vanish when the backend is dropped.
    pub overlay: bool,
}

/// A disk as the VMM's device threads see it.
///
/// Offsets and lengths are in bytes and bounds-checked by the backend: a request beyond
/// `size()` fails with [`DiskError::OutOfRange`].
pub trait BlockBackend: Send + Sync + fmt::Debug {
    /// Disk size in bytes.
    fn size(&self) -> u64;
    /// Whether writes and discards are refused.
    fn is_read_only(&self) -> bool;
    /// Whether `discard()` can actually free space.
    fn supports_discard(&self) -> bool;
    /// Fills `bufs`, in order, with the bytes at `[offset, offset + total length)`.
    fn read_vectored(&self, offset: u64, bufs: &[VolatileSlice<'_>]) -> Result<(), DiskError>;
    /// Writes the bytes of `bufs`, in order, at `offset`.
    fn write_vectored(&self, offset: u64, bufs: &[VolatileSlice<'_>]) -> Result<(), DiskError>;
    /// Makes written data durable.
    fn flush(&self) -> Result<(), DiskError>;
    /// Deallocates `[offset, offset + len)`; it reads back as zeroes where that succeeds.
    fn discard(&self, offset: u64, len: u64) -> Result<(), DiskError>;
}

/// Opens an image file or block device.
pub fn open(path: &Path, options: &OpenOptions) -> Result<Box<dyn BlockBackend>, DiskError> {
    let overlay = options.overlay && !options.readonly;
    let read_only = options.readonly || overlay;
    // An explicit format is never second-guessed (see `OpenOptions::format`).
    let format = match options.format {
        Some(format) => format,
        None => detect_format(path)?,
    };
    let base: Box<dyn BlockBackend> = match format {
        Format::Raw => Box::new(raw::RawBackend::open(path, read_only)?),
        Format::Qcow2 => Box::new(qcow2::Qcow2Backend::open(path, read_only)?),
    };
    tracing::debug!(
        path = %path.display(),
        %format,
        read_only,
        overlay,
        size = base.size(),
        "opened disk"
    );
    if overlay {
        Ok(Box::new(overlay::Overlay::new(base)?))
    } else {
        Ok(base)
    }
}

/// A blank sparse disk of `size` bytes (> 0, a multiple of 512) in an unlinked temporary file.
pub fn scratch(size: u64) -> Result<Box<dyn BlockBackend>, DiskError> {
    Ok(Box::new(scratch::scratch(size)?))
}

/// Reads the header: the qcow2 magic in a file long enough for a qcow2 header means qcow2,
/// anything else is raw.
pub fn detect_format(path: &Path) -> Result<Format, DiskError> {
    let file = std::fs::File::open(path).map_err(|e| DiskError::open(path, false, e))?;
    ensure_disk_file(path, &file)?;
    let is_qcow2 = qcow2::has_qcow2_magic(&file).map_err(|e| DiskError::open(path, false, e))?;
    Ok(if is_qcow2 { Format::Qcow2 } else { Format::Raw })
}

/// Refuses directories, sockets, character devices...: only files and block devices are disks.
pub(crate) fn ensure_disk_file(path: &Path, file: &std::fs::File) -> Result<(), DiskError> {
    use std::os::unix::fs::FileTypeExt;
    let file_type = file
        .metadata()
        .map_err(|e| DiskError::open(path, false, e))?
        .file_type();
    if file_type.is_file() || file_type.is_block_device() {
        Ok(())
    } else {
        Err(DiskError::NotADisk {
            path: path.to_path_buf(),
        })
    }
}

/// Checks that `[offset, offset + len)` lies inside a disk of `size` bytes; `len` is None when
/// the request length itself overflowed.
pub(crate) fn check_range(offset: u64, len: Option<u64>, size: u64) -> Result<(), DiskError> {
    match len {
        Some(len) if offset.checked_add(len).is_some_and(|end| end <= size) => Ok(()),
        len => Err(DiskError::OutOfRange {
            offset,
            len: len.unwrap_or(u64::MAX),
            size,
        }),
    }
}

#[cfg(test)]
mod tests;
