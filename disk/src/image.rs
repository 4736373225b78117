//! Host-side image probing and creation (libguestfs's disk_format,
//! disk_virtual_size, disk_has_backing_file and disk_create). Probing
//! reads only the named file's header, opened as drives are (no FIFOs or
//! character devices, never blocking); a backing file it names is
//! reported, never opened.

use std::fs::File;
use std::io::{Seek, SeekFrom, Write};
use std::os::fd::AsRawFd;
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use imago::format::PreallocateMode;
use imago::qcow2::Qcow2;
use imago::{FormatCreateBuilder, StorageOpenOptions};

use crate::chain::{self, CheckedOpenError};
use crate::qcow2_header::Header;
use crate::{DiskError, Format};

/// What an image's header says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageInfo {
    /// raw, or qcow2 by its magic.
    pub format: Format,
    /// The virtual size in bytes as qemu-img reports it: a qcow2 header's
    /// size, a raw file's length rounded up to whole 512-byte sectors.
    pub virtual_size: u64,
    /// The backing file the header names (qcow2 only), as written there.
    pub backing_file: Option<String>,
}

fn open_header(path: &Path) -> Result<File, DiskError> {
    open_checked(path, false)
}

/// chain's checked open, its errors worded for this file.
fn open_checked(path: &Path, writable: bool) -> Result<File, DiskError> {
    chain::open_checked(path, writable).map_err(|e| match e {
        CheckedOpenError::Io(e) => DiskError::open(path, writable, e),
        CheckedOpenError::NotADisk(what) => DiskError::NotADisk {
            path: path.to_path_buf(),
            what,
        },
    })
}

/// Reads `path`'s header: format, virtual size and backing file name.
pub fn image_info(path: &Path) -> Result<ImageInfo, DiskError> {
    image_info_as(path, None)
}

/// [`image_info`], reading `path` as `format` when given (a qcow2 header
/// in a file given as raw is data) instead of detecting it.
pub fn image_info_as(path: &Path, format: Option<Format>) -> Result<ImageInfo, DiskError> {
    let mut file = open_header(path)?;
    let format = match format {
        Some(format) => format,
        None => {
            let foreign = foreign_format(&file).map_err(|e| DiskError::open(path, false, e))?;
            if let Some(format) = foreign {
                return Err(DiskError::ForeignFormat {
                    path: path.to_path_buf(),
                    format,
                });
            }
            chain::probe(path, &file)?
        }
    };
    match format {
        Format::Raw => {
            // A block device's length is where its end is, not its
            // metadata. qemu (so libguestfs) sees a raw file in whole
            // sectors, its tail rounded up.
            let size = file
                .seek(SeekFrom::End(0))
                .map_err(|e| DiskError::open(path, false, e))?
                .next_multiple_of(512);
            Ok(ImageInfo {
                format: Format::Raw,
                virtual_size: size,
                backing_file: None,
            })
        }
        Format::Qcow2 => {
            let header = Header::read(&file).map_err(|e| DiskError::Qcow2 {
                path: path.to_path_buf(),
                reason: e.to_string(),
            })?;
            Ok(ImageInfo {
                format: Format::Qcow2,
                virtual_size: header.size,
                backing_file: header.backing_name,
            })
        }
    }
}

/// The image formats qemu detects by a magic at a fixed offset, other
/// than raw and qcow2 (qemu's names; its probes in block/*.c).
const FOREIGN_MAGICS: &[(&str, usize, &[u8])] = &[
    ("vmdk", 0, b"KDMV"),
    ("vmdk", 0, b"COWD"),
    ("vmdk", 0, b"# Disk DescriptorFile"),
    ("vdi", 0x40, &[0x7f, 0x10, 0xda, 0xbe]),
    ("vhdx", 0, b"vhdxfile"),
    ("vpc", 0, b"conectix"),
    ("qed", 0, b"QED\0"),
    ("parallels", 0, b"WithoutFreeSpace"),
    ("parallels", 0, b"WithouFreSpacExt"),
    ("bochs", 0, b"Bochs Virtual HD Image"),
    // qcow version 1: qcow2's magic, version 1.
    ("qcow", 0, b"QFI\xfb\0\0\0\x01"),
];

/// The foreign format `file` starts as, if any: what qemu-img (so
/// libguestfs's disk_format) would name instead of raw.
fn foreign_format(file: &File) -> std::io::Result<Option<&'static str>> {
    use std::os::unix::fs::FileExt;
    let mut head = [0u8; 0x44];
    let mut got = 0;
    while got < head.len() {
        match file.read_at(&mut head[got..], got as u64) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    let head = &head[..got];
    Ok(FOREIGN_MAGICS
        .iter()
        .find(|(_, at, magic)| head.get(*at..at + magic.len()) == Some(magic))
        .map(|(name, _, _)| *name))
}

/// What [`create_image`] allocates up front (libguestfs's and qemu-img's
/// `preallocation`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Preallocation {
    /// Nothing: a sparse file (`off`, `sparse`).
    #[default]
    Off,
    /// qcow2 only: every cluster mapped, no data written (`metadata`).
    Metadata,
    /// Every byte allocated on the host (`full`).
    Full,
}

/// How [`create_image`] makes an image.
#[derive(Debug, Clone)]
pub struct CreateOptions {
    /// raw or qcow2.
    pub format: Format,
    /// The virtual size in bytes.
    pub size: u64,
    /// qcow2 only: the backing file to record (relative names are
    /// relative to the new image's directory) and its format.
    pub backing: Option<(String, Format)>,
    /// What to allocate up front; [`Preallocation::Metadata`] is for
    /// qcow2 only, and a qcow2 with a backing file takes only `Off`.
    pub preallocation: Preallocation,
    /// qcow2 only: the cluster size (a power of two, 512 B to 2 MiB).
    pub cluster_size: Option<usize>,
    /// qcow2 only: write a version 2 header (qemu-img's `compat=0.10`)
    /// instead of version 3 (`compat=1.1`); not with preallocation.
    pub compat_v2: bool,
}

const NOT_A_FILE: &str = "not a regular file or block device (disk_create writes \
     image files, and raw images on block devices)";

/// Creates (or truncates) `path` as a blank image. qcow2 images are
/// written by imago, as the overlays are; nothing runs qemu-img. A raw
/// image on a block device keeps the device's size and has its blocks
/// discarded, as libguestfs does (the device need not support discard);
/// anything else that is not a regular file (a FIFO, a character device)
/// is refused before it is opened.
pub fn create_image(path: &Path, options: &CreateOptions) -> Result<(), DiskError> {
    let not_a_file = |what| DiskError::NotADisk {
        path: path.to_path_buf(),
        what,
    };
    match std::fs::metadata(path) {
        Ok(m) if m.file_type().is_block_device() => return blank_device(path, options),
        Ok(m) if !m.is_file() => return Err(not_a_file(NOT_A_FILE)),
        _ => {}
    }
    if options.backing.is_some() && options.preallocation != Preallocation::Off {
        return Err(DiskError::io(
            "create the image",
            std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "a qcow2 image with a backing file is created without preallocation",
            ),
        ));
    }
    // Read too: imago reads back what it writes. O_NONBLOCK: a FIFO
    // swapped in after the check must not block the open.
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY | libc::O_CLOEXEC)
        .open(path)
        .map_err(|e| DiskError::open(path, true, e))?;
    // The descriptor is what counts; truncate only once it is a file.
    if !file
        .metadata()
        .map_err(|e| DiskError::open(path, true, e))?
        .is_file()
    {
        return Err(not_a_file(NOT_A_FILE));
    }
    file.set_len(0)
        .map_err(|e| DiskError::io("truncate the image", e))?;
    match options.format {
        Format::Raw => create_raw(&file, options),
        Format::Qcow2 => create_qcow2(file, options),
    }
    .map_err(|e| DiskError::io("create the image", e))
}

/// disk_create's raw image on a block device.
fn blank_device(path: &Path, options: &CreateOptions) -> Result<(), DiskError> {
    if options.format != Format::Raw {
        return Err(DiskError::NotADisk {
            path: path.to_path_buf(),
            what: "a block device, where libguest makes raw images only \
                   (create the qcow2 image in a file)",
        });
    }
    let file = open_checked(path, true)?;
    if !file
        .metadata()
        .map_err(|e| DiskError::open(path, true, e))?
        .file_type()
        .is_block_device()
    {
        return Err(DiskError::NotADisk {
            path: path.to_path_buf(),
            what: NOT_A_FILE,
        });
    }
    // As libguestfs: a device that cannot discard is left as it is.
    let _ = crate::raw::discard_device(&file);
    Ok(())
}

fn create_raw(file: &File, options: &CreateOptions) -> std::io::Result<()> {
    match options.preallocation {
        Preallocation::Off => file.set_len(options.size)?,
        Preallocation::Full => allocate(file, options.size)?,
        Preallocation::Metadata => {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "a raw image has no metadata to preallocate",
            ))
        }
    }
    file.sync_all()
}

/// posix_fallocate as libguestfs uses it; zeroes written where the
/// filesystem cannot allocate (EOPNOTSUPP).
fn allocate(mut file: &File, size: u64) -> std::io::Result<()> {
    let len = libc::off_t::try_from(size)
        .map_err(|_| std::io::Error::from(std::io::ErrorKind::InvalidInput))?;
    // SAFETY: posix_fallocate only acts on our own fd; no memory is passed.
    match unsafe { libc::posix_fallocate(file.as_raw_fd(), 0, len) } {
        0 => return Ok(()),
        libc::EOPNOTSUPP | libc::EINVAL => {}
        err => return Err(std::io::Error::from_raw_os_error(err)),
    }
    let zeroes = vec![0u8; 1 << 20];
    let mut left = size;
    while left > 0 {
        let n = left.min(zeroes.len() as u64) as usize;
        file.write_all(&zeroes[..n])?;
        left -= n as u64;
    }
    Ok(())
}

fn create_qcow2(file: File, options: &CreateOptions) -> std::io::Result<()> {
    let sync = file.try_clone()?;
    let storage = imago::file::File::from_open_file(file, StorageOpenOptions::new().write(true))?;
    let mut builder = Qcow2::<imago::file::File>::create_builder(storage).size(options.size);
    if let Some((name, format)) = &options.backing {
        builder = builder.backing(name.clone(), format.to_string());
    }
    if let Some(cluster_size) = options.cluster_size {
        builder = builder.cluster_size(cluster_size);
    }
    builder = builder.preallocate(match options.preallocation {
        Preallocation::Off => PreallocateMode::None,
        Preallocation::Metadata => PreallocateMode::FormatAllocate,
        Preallocation::Full => PreallocateMode::FullAllocate,
    });
    builder.create()?;
    if options.compat_v2 {
        downgrade_to_v2(&sync)?;
    }
    sync.sync_all()
}

/// qcow2 header extensions kept in a version 2 header (by type).
const EXT_END: u32 = 0;
const EXT_BACKING_FORMAT: u32 = 0xe279_2aca;

/// Rewrites the version 3 header imago wrote as version 2 (compat 0.10,
/// what qemu-img amend -o compat=0.10 does to a fresh image): the same
/// first 72 bytes but the version, the v3-only fields dropped, the
/// backing format extension kept and the backing name moved after it.
/// Refused when the image uses anything version 2 cannot say.
fn downgrade_to_v2(file: &File) -> std::io::Result<()> {
    use std::os::unix::fs::FileExt;
    let bad = |what: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_owned());
    let mut head = [0u8; 104];
    file.read_exact_at(&mut head, 0)?;
    let be32 = |b: &[u8], at: usize| u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]]);
    let be64 = |b: &[u8], at: usize| {
        let mut v = [0u8; 8];
        v.copy_from_slice(&b[at..at + 8]);
        u64::from_be_bytes(v)
    };
    let cluster_size = 1usize << be32(&head, 20).min(21);
    let header_len = be32(&head, 100) as usize;
    if be32(&head, 4) != 3 || header_len < 104 || header_len > cluster_size {
        return Err(bad("not the version 3 header just written"));
    }
    // incompatible, compatible and autoclear features, refcount order 4.
    if be64(&head, 72) != 0 || be64(&head, 80) != 0 || be64(&head, 88) != 0 || be32(&head, 96) != 4
    {
        return Err(bad(
            "the image uses version 3 features; compat 0.10 cannot hold them",
        ));
    }
    let mut cluster = vec![0u8; cluster_size];
    file.read_exact_at(&mut cluster, 0)?;
    let backing_offset = usize::try_from(be64(&cluster, 8)).map_err(|_| bad("backing offset"))?;
    let backing_len = be32(&cluster, 16) as usize;
    let backing = match backing_offset {
        0 => &[][..],
        at => cluster
            .get(at..at + backing_len)
            .ok_or_else(|| bad("backing name outside the first cluster"))?,
    };
    let mut out = cluster[..72].to_vec();
    out[4..8].copy_from_slice(&2u32.to_be_bytes());
    let mut at = header_len;
    loop {
        let kind = be32(cluster.get(at..at + 4).ok_or_else(|| bad("extensions"))?, 0);
        let len = be32(
            cluster
                .get(at + 4..at + 8)
                .ok_or_else(|| bad("extensions"))?,
            0,
        ) as usize;
        let padded = len.next_multiple_of(8);
        let data = cluster
            .get(at + 8..at + 8 + padded)
            .ok_or_else(|| bad("extension outside the first cluster"))?;
        match kind {
            EXT_END => break,
            EXT_BACKING_FORMAT => {
                out.extend_from_slice(&cluster[at..at + 8]);
                out.extend_from_slice(data);
            }
            // The feature name table names v3 feature bits: nothing here.
            _ => {}
        }
        at += 8 + padded;
    }
    out.extend_from_slice(&[0u8; 8]);
    if !backing.is_empty() {
        let offset = out.len() as u64;
        out.extend_from_slice(backing);
        out[8..16].copy_from_slice(&offset.to_be_bytes());
    }
    if out.len() > cluster_size {
        return Err(bad("the version 2 header does not fit its first cluster"));
    }
    out.resize(cluster_size, 0);
    file.write_all_at(&out, 0)
}

/// Where a backing name in an image at `image` points (as qemu resolves
/// it: relative to the image's directory).
pub fn resolve_backing(image: &Path, name: &str) -> PathBuf {
    chain::resolve(image, name)
}
