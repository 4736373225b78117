//! Disk image backends for libguest's virtio-scsi device: raw files and block devices, qcow2
//! (through imago, with backing chains), read-only access, copy-on-write overlays and blank
//! scratch disks.
//!
//! Every backend is `Send + Sync` and moves data directly between the image and guest memory
//! given as [`VolatileSlice`]s.
//!
//! Security rule: image headers are hostile. A drive opens only the files the caller named and,
//! when the caller gave the format, the backing files its headers name with a recorded format;
//! FIFOs, character devices and external data files are refused, read-only and overlay drives
//! open nothing for writing, and temporary data goes only where the caller said. The details are
//! in the `chain` module, which does all of the opening.
#![warn(missing_docs)]

mod chain;
mod error;
mod image;
mod iov;
mod overlay;
mod qcow2;
mod qcow2_header;
mod raw;
mod scratch;

use std::fmt;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::str::FromStr;

pub use chain::ChainNode;
pub use error::DiskError;
pub use image::{
    create_image, image_info, image_info_as, resolve_backing, CreateOptions, ImageInfo,
    Preallocation,
};
pub use vm_memory::VolatileSlice;

/// On-disk image format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// The bytes as they are: the guest sees the file or device itself.
    Raw,
    /// QEMU's qcow2 (version 2 or 3), read and written through imago.
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
    /// Where an overlay keeps the guest's writes; None = `$TMPDIR`, else /tmp. The store is an
    /// unlinked sparse file that grows with what the guest writes, up to the virtual disk size.
    pub tmpdir: Option<PathBuf>,
    /// Copy-on-read (libguestfs's `copyonread`): data the guest reads from a backing file is
    /// also written into the writable layer above it (the qcow2 top, or the overlay's store),
    /// so later reads of it stay in that layer. No effect where nothing lies below a writable
    /// layer: a raw image, a qcow2 without a backing file, a write-protected drive.
    pub copy_on_read: bool,
}

/// An opened drive: the backend the VMM serves, and the files it was opened from.
#[derive(Debug)]
pub struct Disk {
    /// What the guest reads and writes: the image, or an overlay on it.
    pub backend: Box<dyn BlockBackend>,
    /// Top image first, then each backing file; for a scratch disk, its temporary file.
    pub chain: Vec<ChainNode>,
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

/// Opens an image file or block device (see [`open_disk`]).
pub fn open(path: &Path, options: &OpenOptions) -> Result<Box<dyn BlockBackend>, DiskError> {
    open_disk(path, options).map(|disk| disk.backend)
}

/// Opens an image file or block device and its backing chain.
///
/// With `format: None` the format is detected, and an image detected as qcow2 that names a
/// backing file is refused ([`DiskError::ProbedBacking`]): only an explicit format makes the
/// caller vouch for the header. Every backing file must have its format recorded in the header
/// ([`DiskError::BackingFormatMissing`]), images with an external data file are refused
/// ([`DiskError::ExternalDataFile`]), and anything in the chain that is not a regular file or a
/// block device is refused before it could block.
pub fn open_disk(path: &Path, options: &OpenOptions) -> Result<Disk, DiskError> {
    let overlay = options.overlay && !options.readonly;
    let read_only = options.readonly || overlay;
    // An explicit format is never second-guessed (see `OpenOptions::format`).
    let chain = chain::open_chain(path, options.format, !read_only)?;
    let Some(top) = chain.first() else {
        return Err(DiskError::Unsupported("an empty backing chain"));
    };
    let format = top.format();
    let base: Box<dyn BlockBackend> = match format {
        Format::Raw => {
            let file = top
                .file()
                .try_clone()
                .map_err(|e| DiskError::open(path, !read_only, e))?;
            Box::new(raw::RawBackend::from_checked(file, path, read_only)?)
        }
        Format::Qcow2 => Box::new(qcow2::Qcow2Backend::open(
            &chain,
            read_only,
            options.copy_on_read && !overlay,
        )?),
    };
    tracing::debug!(
        path = %path.display(),
        %format,
        read_only,
        overlay,
        chain = chain.len(),
        size = base.size(),
        "opened disk"
    );
    let backend: Box<dyn BlockBackend> = if overlay {
        let dir = scratch::temp_dir(options.tmpdir.as_deref());
        Box::new(overlay::Overlay::new(base, &dir, options.copy_on_read)?)
    } else {
        base
    };
    Ok(Disk { backend, chain })
}

/// A blank sparse disk of `size` bytes (> 0, a multiple of 512) in an unlinked temporary file in
/// `$TMPDIR` (else /tmp).
pub fn scratch(size: u64) -> Result<Box<dyn BlockBackend>, DiskError> {
    scratch_disk(size, None).map(|disk| disk.backend)
}

/// A blank sparse disk of `size` bytes (> 0, a multiple of 512) in an unlinked temporary file in
/// `tmpdir` (None = `$TMPDIR`, else /tmp). The file takes disk space as the guest writes, up to
/// `size`, and goes with the last descriptor.
pub fn scratch_disk(size: u64, tmpdir: Option<&Path>) -> Result<Disk, DiskError> {
    let dir = scratch::temp_dir(tmpdir);
    let (backend, file) = scratch::scratch(size, &dir)?;
    let name = PathBuf::from(format!(
        "<scratch disk of {size} bytes in {}>",
        dir.display()
    ));
    Ok(Disk {
        backend: Box::new(backend),
        chain: vec![ChainNode::new(name, Format::Raw, file, true)],
    })
}

/// An unlinked temporary file in `tmpdir` (None = `$TMPDIR`, else /tmp), formatted as an empty
/// qcow2 image of `size` bytes with no backing file in its header: a copy-on-write overlay for a
/// hypervisor that is told its backing node explicitly. It grows with the guest's writes, up to
/// `size` plus qcow2 metadata (about 0.01 % with 64 KiB clusters).
pub fn qcow2_overlay_file(tmpdir: Option<&Path>, size: u64) -> Result<File, DiskError> {
    let dir = scratch::temp_dir(tmpdir);
    let file = scratch::temp_file(&dir, 0)?;
    let dup = file
        .try_clone()
        .map_err(|e| DiskError::io("duplicate the overlay file", e))?;
    qcow2::format_empty(dup, size).map_err(|source| DiskError::TempFile { dir, source })?;
    Ok(file)
}

/// Reads the header: the qcow2 magic in a file long enough for a qcow2 header means qcow2,
/// anything else is raw. A FIFO or character device is refused without blocking.
pub fn detect_format(path: &Path) -> Result<Format, DiskError> {
    let file = chain::open_checked(path, false).map_err(|e| match e {
        chain::CheckedOpenError::Io(e) => DiskError::open(path, false, e),
        chain::CheckedOpenError::NotADisk(what) => DiskError::NotADisk {
            path: path.to_path_buf(),
            what,
        },
    })?;
    chain::probe(path, &file)
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
#[cfg(test)]
mod tests_hostile;
#[cfg(test)]
mod tests_hostile_io;
#[cfg(test)]
mod tests_hostile_util;
#[cfg(test)]
mod tests_image;
