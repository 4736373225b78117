//! qcow2 images through imago (sync mode), backing chains included.
//!
//! The header and the backing chain are checked here first so that a corrupt image or a missing
//! backing file gives an error naming the file, not a generic imago message.

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

use imago::io_buffers::{IoVector, IoVectorMut};
use imago::qcow2::Qcow2;
use imago::{FormatAccess, FormatDriverBuilder, PermissiveImplicitOpenGate};
use vm_memory::VolatileSlice;

use crate::iov;
use crate::{check_range, BlockBackend, DiskError};

/// "QFI\xfb"
pub(crate) const QCOW2_MAGIC: [u8; 4] = *b"QFI\xfb";
/// Length of a version 2 header, the shortest valid one.
pub(crate) const MIN_HEADER_LEN: usize = 72;
/// Header extension carrying the backing file's format name.
const EXT_BACKING_FORMAT: u32 = 0xe279_2aca;
/// qemu refuses longer backing file names, so do we.
const MAX_BACKING_NAME: u32 = 1023;
/// Longest backing chain we follow; deeper chains are almost certainly loops.
const MAX_CHAIN_DEPTH: usize = 16;
/// Most header extensions we walk before calling the header corrupt.
const MAX_EXTENSIONS: usize = 1024;

/// What is wrong with a qcow2 header.
#[derive(Debug, thiserror::Error)]
enum HeaderError {
    #[error("cannot read the header: {0}")]
    Read(io::Error),
    #[error("the file is too short for a qcow2 header")]
    TooShort,
    #[error("no qcow2 magic")]
    BadMagic,
    #[error("qcow2 version {0} is not supported (only 2 and 3 are)")]
    Version(u32),
    #[error("cluster_bits {0} is out of range (9 to 21)")]
    ClusterBits(u32),
    #[error("header_length {0} is invalid")]
    HeaderLength(u32),
    #[error("the backing file name is {0} bytes long (at most {MAX_BACKING_NAME} allowed)")]
    BackingNameTooLong(u32),
    #[error("the backing file name or format is not valid UTF-8")]
    NotUtf8,
    #[error("the header extensions are corrupt")]
    Extensions,
}

/// The header fields needed before handing the image to imago.
#[derive(Debug)]
struct Header {
    backing_name: Option<String>,
    backing_format: Option<String>,
}

impl Header {
    fn read(file: &File) -> Result<Header, HeaderError> {
        let mut h = [0u8; 104];
        let got = read_up_to(file, &mut h, 0).map_err(HeaderError::Read)?;
        if got < MIN_HEADER_LEN {
            return Err(HeaderError::TooShort);
        }
        if h[..4] != QCOW2_MAGIC {
            return Err(HeaderError::BadMagic);
        }
        let version = be32(&h, 4);
        let backing_offset = be64(&h, 8);
        let backing_len = be32(&h, 16);
        let cluster_bits = be32(&h, 20);
        if !(2..=3).contains(&version) {
            return Err(HeaderError::Version(version));
        }
        if !(9..=21).contains(&cluster_bits) {
            return Err(HeaderError::ClusterBits(cluster_bits));
        }
        let cluster_size = 1u64 << cluster_bits;
        let header_len = if version == 2 {
            MIN_HEADER_LEN as u32
        } else {
            if got < h.len() {
                return Err(HeaderError::TooShort);
            }
            be32(&h, 100)
        };
        if (header_len as usize) < MIN_HEADER_LEN || u64::from(header_len) > cluster_size {
            return Err(HeaderError::HeaderLength(header_len));
        }

        let backing_name = if backing_offset == 0 || backing_len == 0 {
            None
        } else {
            if backing_len > MAX_BACKING_NAME {
                return Err(HeaderError::BackingNameTooLong(backing_len));
            }
            let mut name = vec![0u8; backing_len as usize];
            file.read_exact_at(&mut name, backing_offset)
                .map_err(HeaderError::Read)?;
            Some(String::from_utf8(name).map_err(|_| HeaderError::NotUtf8)?)
        };
        let backing_format =
            Self::backing_format(file, u64::from(header_len), cluster_size, backing_offset)?;
        Ok(Header {
            backing_name,
            backing_format,
        })
    }

    /// Walks the header extensions (between the header and the first cluster's end, or the
    /// backing file name) for the backing format name.
    fn backing_format(
        file: &File,
        mut pos: u64,
        cluster_size: u64,
        backing_offset: u64,
    ) -> Result<Option<String>, HeaderError> {
        let end = if backing_offset > pos {
            backing_offset.min(cluster_size)
        } else {
            cluster_size
        };
        for _ in 0..MAX_EXTENSIONS {
            if pos + 8 > end {
                return Ok(None);
            }
            let mut eh = [0u8; 8];
            file.read_exact_at(&mut eh, pos)
                .map_err(HeaderError::Read)?;
            let (kind, len) = (be32(&eh, 0), u64::from(be32(&eh, 4)));
            pos += 8;
            if kind == 0 {
                return Ok(None);
            }
            if pos + len > end {
                return Err(HeaderError::Extensions);
            }
            if kind == EXT_BACKING_FORMAT {
                let mut name = vec![0u8; len as usize];
                file.read_exact_at(&mut name, pos)
                    .map_err(HeaderError::Read)?;
                return String::from_utf8(name)
                    .map(Some)
                    .map_err(|_| HeaderError::NotUtf8);
            }
            pos += len.next_multiple_of(8);
        }
        Err(HeaderError::Extensions)
    }
}

/// A qcow2 image (and its backing chain) served by imago.
#[derive(Debug)]
pub(crate) struct Qcow2Backend {
    /// Reads and writes share the lock (imago locks internally); discard needs `&mut`.
    image: RwLock<FormatAccess<imago::file::File>>,
    size: u64,
    read_only: bool,
}

impl Qcow2Backend {
    /// Opens `path` and its backing chain; the backing files are always read-only.
    pub(crate) fn open(path: &Path, read_only: bool) -> Result<Self, DiskError> {
        // Open it ourselves first: precise errors for missing files and missing write permission.
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(!read_only)
            .open(path)
            .map_err(|e| DiskError::open(path, !read_only, e))?;
        crate::ensure_disk_file(path, &file)?;
        check_chain(path, &file, 0)?;
        drop(file);

        let qcow2 = Qcow2::<imago::file::File>::builder_path(path)
            .write(!read_only)
            .open(PermissiveImplicitOpenGate::default())
            .map_err(|e| DiskError::Qcow2 {
                path: path.to_path_buf(),
                reason: e.to_string(),
            })?;
        let image = FormatAccess::new(qcow2);
        Ok(Qcow2Backend {
            size: image.size(),
            image: RwLock::new(image),
            read_only,
        })
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
        check_range(offset, iov::total_len(bufs), self.size)?;
        // The guard keeps guest memory mapped until imago is done with the vector.
        let (vector, _guard) = IoVectorMut::from_volatile_slice(bufs.iter().map(same_lifetime));
        self.shared()?
            .readv(vector, offset)
            .map_err(|e| DiskError::io("read", e))
    }

    fn write_vectored(&self, offset: u64, bufs: &[VolatileSlice<'_>]) -> Result<(), DiskError> {
        if self.read_only {
            return Err(DiskError::ReadOnly);
        }
        check_range(offset, iov::total_len(bufs), self.size)?;
        let (vector, _guard) = IoVector::from_volatile_slice(bufs.iter().map(same_lifetime));
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
        // Exclusive: discarding invalidates mappings that concurrent requests could hold.
        let mut image = self.exclusive()?;
        match image.discard_to_zero(offset, len) {
            Err(e) if e.kind() == io::ErrorKind::Unsupported => image
                .write_zeroes(offset, len)
                .map_err(|e| DiskError::io("discard", e)),
            other => other.map_err(|e| DiskError::io("discard", e)),
        }
    }
}

/// imago wants `&'a VolatileSlice<'a>`; shortening the inner lifetime is always sound.
fn same_lifetime<'a>(s: &'a VolatileSlice<'_>) -> &'a VolatileSlice<'a> {
    s
}

fn poisoned() -> DiskError {
    DiskError::io(
        "access",
        io::Error::other("qcow2 state poisoned by an earlier panic"),
    )
}

/// Checks the header of `path` and that each backing file in the chain can be opened.
fn check_chain(path: &Path, file: &File, depth: usize) -> Result<(), DiskError> {
    let corrupt = |reason: String| DiskError::Qcow2 {
        path: path.to_path_buf(),
        reason,
    };
    if depth > MAX_CHAIN_DEPTH {
        return Err(corrupt(format!(
            "the backing chain is deeper than {MAX_CHAIN_DEPTH} images (a loop?)"
        )));
    }
    let header = Header::read(file).map_err(|e| corrupt(e.to_string()))?;
    let Some(name) = header.backing_name else {
        return Ok(());
    };
    let backing = resolve_backing(path, &name);
    let backing_file = File::open(&backing).map_err(|source| DiskError::Backing {
        path: path.to_path_buf(),
        backing: backing.clone(),
        source,
    })?;
    // Like imago: an explicit format is trusted, a missing one is probed.
    let is_qcow2 = match header.backing_format.as_deref() {
        Some("qcow2") => true,
        Some("raw" | "file") => false,
        Some(other) => {
            return Err(corrupt(format!(
                "backing file {} has unsupported format {other:?}",
                backing.display()
            )))
        }
        None => has_qcow2_magic(&backing_file).map_err(|source| DiskError::Backing {
            path: path.to_path_buf(),
            backing: backing.clone(),
            source,
        })?,
    };
    if is_qcow2 {
        check_chain(&backing, &backing_file, depth + 1)?;
    }
    Ok(())
}

/// Resolves a backing file name the way imago does: relative to the image's directory.
fn resolve_backing(image: &Path, name: &str) -> PathBuf {
    let name = Path::new(name);
    match image.parent() {
        Some(dir) if name.is_relative() => dir.join(name),
        _ => name.to_path_buf(),
    }
}

/// Whether the file starts with a complete qcow2 header's magic (shorter files are raw).
pub(crate) fn has_qcow2_magic(file: &File) -> io::Result<bool> {
    let mut h = [0u8; MIN_HEADER_LEN];
    let got = read_up_to(file, &mut h, 0)?;
    Ok(got == MIN_HEADER_LEN && h[..4] == QCOW2_MAGIC)
}

/// Reads until `buf` is full or EOF; returns the bytes read.
fn read_up_to(file: &File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    let mut done = 0;
    while done < buf.len() {
        match file.read_at(&mut buf[done..], offset + done as u64) {
            Ok(0) => break,
            Ok(n) => done += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(done)
}

fn be32(b: &[u8], at: usize) -> u32 {
    let mut v = [0u8; 4];
    v.copy_from_slice(&b[at..at + 4]);
    u32::from_be_bytes(v)
}

fn be64(b: &[u8], at: usize) -> u64 {
    let mut v = [0u8; 8];
    v.copy_from_slice(&b[at..at + 8]);
    u64::from_be_bytes(v)
}
