//! qcow2 images through imago (sync mode), backing chains included.
//!
//! Security rule: imago opens nothing by itself. [`crate::chain`] has opened and checked every
//! file of the chain; imago gets those descriptors, each layer's backing image and "no data file"
//! explicitly, and a [`DenyImplicitOpenGate`] so that anything the header names beyond that is an
//! error rather than an open.

use std::fs::File;
use std::io;

use imago::io_buffers::{IoVector, IoVectorMut};
use imago::qcow2::Qcow2;
use imago::raw::Raw;
use imago::{
    DenyImplicitOpenGate, FormatAccess, FormatCreateBuilder, FormatDriverBuilder,
    StorageOpenOptions,
};
use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};
use vm_memory::VolatileSlice;

use crate::chain::ChainNode;
use crate::iov;
use crate::qcow2_header::Header;
use crate::{check_range, BlockBackend, DiskError, Format};

/// A qcow2 image (and its backing chain) served by imago.
#[derive(Debug)]
pub(crate) struct Qcow2Backend {
    /// Reads and writes share the lock (imago locks internally); discard needs `&mut`.
    image: RwLock<FormatAccess<imago::file::File>>,
    size: u64,
    /// The top image's cluster size (see `discard`).
    cluster_size: u64,
    read_only: bool,
    /// Copy what reads find in a backing file up into the top (see `copy_up`).
    copy_on_read: bool,
}

/// Largest bounce buffer of one copy-on-read step.
const COPY_UP_CHUNK: u64 = 1 << 20;

impl Qcow2Backend {
    /// Serves `chain` (top first, as [`crate::chain::open_chain`] checked it); the top is
    /// writable unless `read_only`, the rest never is. `copy_on_read` only applies to a
    /// writable top with a backing file.
    pub(crate) fn open(
        chain: &[ChainNode],
        read_only: bool,
        copy_on_read: bool,
    ) -> Result<Self, DiskError> {
        let mut below: Option<FormatAccess<imago::file::File>> = None;
        for node in chain.iter().rev() {
            let error = |e: io::Error| DiskError::Qcow2 {
                path: node.path().to_path_buf(),
                reason: e.to_string(),
            };
            let storage = storage(node).map_err(error)?;
            let writable = node.is_writable();
            let layer = match node.format() {
                Format::Raw => FormatAccess::new(
                    Raw::builder(storage)
                        .write(writable)
                        .open(DenyImplicitOpenGate::default())
                        .map_err(error)?,
                ),
                Format::Qcow2 => {
                    let qcow2 = Qcow2::<imago::file::File>::builder(storage)
                        .write(writable)
                        .backing(below.take())
                        .data_file(None)
                        .open(DenyImplicitOpenGate::default())
                        .map_err(error)?;
                    // The chain walk refused these already; imago's own parse must agree.
                    if qcow2.requires_external_data_file() {
                        return Err(DiskError::ExternalDataFile {
                            path: node.path().to_path_buf(),
                            data_file: qcow2
                                .implicit_external_data_file()
                                .cloned()
                                .unwrap_or_else(|| "the header names none".into()),
                        });
                    }
                    FormatAccess::new(qcow2)
                }
            };
            below = Some(layer);
        }
        let Some(image) = below else {
            return Err(DiskError::Unsupported("an empty backing chain"));
        };
        let top = &chain[0];
        let cluster_size = Header::read(top.file())
            .map_err(|e| DiskError::Qcow2 {
                path: top.path().to_path_buf(),
                reason: e.to_string(),
            })?
            .cluster_size;
        debug_assert!(chain
            .first()
            .is_some_and(|top| top.is_writable() != read_only));
        Ok(Qcow2Backend {
            size: image.size(),
            cluster_size,
            image: RwLock::new(image),
            read_only,
            copy_on_read: copy_on_read && !read_only && chain.len() > 1,
        })
    }

    /// Copy-on-read: writes whatever part of `[offset, end)` comes from a backing file into
    /// the top, so the read that follows (and every later one) is served by the top.
    ///
    /// Under the exclusive lock: guest writes take the shared one, so none can land between
    /// reading the backing data and writing it up, which would put the old data back over it.
    fn copy_up(&self, offset: u64, end: u64) -> Result<(), DiskError> {
        if !Self::reads_backing(&*self.shared()?, offset, end)? {
            return Ok(());
        }
        let image = self.exclusive()?;
        let mut pos = offset;
        let mut buf = Vec::new();
        while pos < end {
            let (mapping, len) = image
                .get_mapping(pos, end - pos)
                .map_err(|e| DiskError::io("copy-on-read", e))?;
            let len = len.min(end - pos);
            if len == 0 {
                break;
            }
            if from_backing(&image, &mapping) {
                let mut at = pos;
                while at < pos + len {
                    let n = (pos + len - at).min(COPY_UP_CHUNK) as usize;
                    buf.resize(n, 0);
                    image
                        .read(&mut buf[..], at)
                        .and_then(|()| image.write(&buf[..], at))
                        .map_err(|e| DiskError::io("copy-on-read", e))?;
                    at += n as u64;
                }
            }
            pos += len;
        }
        Ok(())
    }

    /// Whether any of `[offset, end)` is read from below the top.
    fn reads_backing(
        image: &FormatAccess<imago::file::File>,
        offset: u64,
        end: u64,
    ) -> Result<bool, DiskError> {
        let mut pos = offset;
        while pos < end {
            let (mapping, len) = image
                .get_mapping(pos, end - pos)
                .map_err(|e| DiskError::io("copy-on-read", e))?;
            if from_backing(image, &mapping) {
                return Ok(true);
            }
            if len == 0 {
                break;
            }
            pos += len.min(end - pos);
        }
        Ok(false)
    }

    fn shared(&self) -> Result<RwLockReadGuard<'_, FormatAccess<imago::file::File>>, DiskError> {
        self.image.read().map_err(|_| poisoned())
    }

    fn exclusive(
        &self,
    ) -> Result<RwLockWriteGuard<'_, FormatAccess<imago::file::File>>, DiskError> {
        self.image.write().map_err(|_| poisoned())
    }
}

impl BlockBackend for Qcow2Backend {
    fn size(&self) -> u64 {
        self.size
    }

    fn is_read_only(&self) -> bool {
        self.read_only
    }

    fn supports_discard(&self) -> bool {
        !self.read_only
    }

    fn read_vectored(&self, offset: u64, bufs: &[VolatileSlice<'_>]) -> Result<(), DiskError> {
        let len = iov::total_len(bufs);
        check_range(offset, len, self.size)?;
        let bufs = non_empty(bufs);
        if bufs.is_empty() {
            return Ok(());
        }
        if self.copy_on_read {
            self.copy_up(offset, offset + len.unwrap_or(0))?;
        }
        // The guard keeps guest memory mapped until imago is done with the vector.
        let (vector, _guard) = IoVectorMut::from_volatile_slice(bufs.iter().copied());
        self.shared()?
            .readv(vector, offset)
            .map_err(|e| DiskError::io("read", e))
    }

    fn write_vectored(&self, offset: u64, bufs: &[VolatileSlice<'_>]) -> Result<(), DiskError> {
        if self.read_only {
            return Err(DiskError::ReadOnly);
        }
        check_range(offset, iov::total_len(bufs), self.size)?;
        let bufs = non_empty(bufs);
        if bufs.is_empty() {
            return Ok(());
        }
        let (vector, _guard) = IoVector::from_volatile_slice(bufs.iter().copied());
        self.shared()?
            .writev(vector, offset)
            .map_err(|e| DiskError::io("write", e))
    }

    fn flush(&self) -> Result<(), DiskError> {
        if self.read_only {
            return Ok(());
        }
        let image = self.shared()?;
        image.flush().map_err(|e| DiskError::io("flush", e))?;
        image.sync().map_err(|e| DiskError::io("flush", e))
    }

    fn discard(&self, offset: u64, len: u64) -> Result<(), DiskError> {
        if self.read_only {
            return Err(DiskError::ReadOnly);
        }
        check_range(offset, Some(len), self.size)?;
        if len == 0 {
            return Ok(());
        }
        let end = offset + len;
        // imago 0.2.6 miscomputes a zeroed range that ends inside the disk's last, partial
        // cluster (`aligned_end -= gran` after clipping to the disk size: an underflow when the
        // disk is smaller than a cluster). Keep its ranges out of there: that part, at most one
        // cluster, gets plain zero data instead.
        let tail = self.size - self.size % self.cluster_size;
        let (zero_end, plain) = if end > tail && end < self.size {
            (offset.max(tail), Some((offset.max(tail), end)))
        } else {
            (end, None)
        };
        if let Some((start, stop)) = plain {
            let mut zeroes = vec![0u8; (stop - start) as usize];
            self.write_vectored(start, &[VolatileSlice::from(zeroes.as_mut_slice())])?;
        }
        if zero_end <= offset {
            return Ok(());
        }
        // Exclusive: discarding invalidates mappings that concurrent requests could hold.
        let mut image = self.exclusive()?;
        let len = zero_end - offset;
        match image.discard_to_zero(offset, len) {
            Err(e) if e.kind() == io::ErrorKind::Unsupported => image
                .write_zeroes(offset, len)
                .map_err(|e| DiskError::io("discard", e)),
            other => other.map_err(|e| DiskError::io("discard", e)),
        }
    }
}

/// The non-empty slices of a guest's buffer list. imago's vectors assume that no buffer is
/// empty (a debug assertion, and a zero-length `IoSlice` otherwise), and a guest may well
/// send zero-length descriptors. imago also wants `&'a VolatileSlice<'a>`: shortening the
/// inner lifetime is always sound.
fn non_empty<'a>(bufs: &'a [VolatileSlice<'_>]) -> Vec<&'a VolatileSlice<'a>> {
    bufs.iter()
        .filter(|s| !s.is_empty())
        .map(|s| s as _)
        .collect()
}

/// Whether `mapping` (resolved through the chain) is data below the top: a backing file's
/// clusters are never writable through the top, and a compressed cluster names its layer.
/// Zeroes (unallocated everywhere, or explicit) are not copied: they read the same either way.
/// A top cluster shared with an internal snapshot is not writable either; copying it makes the
/// top's own copy, which costs space but changes no data.
fn from_backing(
    top: &FormatAccess<imago::file::File>,
    mapping: &imago::Mapping<'_, imago::file::File>,
) -> bool {
    match mapping {
        imago::Mapping::Raw { writable, .. } => !writable,
        imago::Mapping::Special { layer, .. } => !std::ptr::eq(*layer, top),
        _ => false,
    }
}

fn poisoned() -> DiskError {
    DiskError::io(
        "access",
        io::Error::other("qcow2 state poisoned by an earlier panic"),
    )
}

/// An imago storage object on a duplicate of the node's checked descriptor.
fn storage(node: &ChainNode) -> io::Result<imago::file::File> {
    let file = node.file().try_clone()?;
    let options = StorageOpenOptions::new()
        .write(node.is_writable())
        .filename(node.path());
    imago::file::File::from_open_file(file, options)
}

/// Formats `file` (empty, writable) as a qcow2 image of `size` bytes with no backing file in its
/// header: an overlay whose backing node the user of the file attaches explicitly.
pub(crate) fn format_empty(file: File, size: u64) -> io::Result<()> {
    let storage = imago::file::File::from_open_file(file, StorageOpenOptions::new().write(true))?;
    Qcow2::<imago::file::File>::create_builder(storage)
        .size(size)
        .create()
}
