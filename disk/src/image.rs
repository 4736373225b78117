//! Host-side image probing and creation (libguestfs's disk_format,
//! disk_virtual_size, disk_has_backing_file and disk_create). Probing
//! reads only the named file's header, opened as drives are (no FIFOs or
//! character devices, never blocking); a backing file it names is
//! reported, never opened.

use std::fs::File;
use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

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
    /// The size the guest would see, in bytes.
    pub virtual_size: u64,
    /// The backing file the header names (qcow2 only), as written there.
    pub backing_file: Option<String>,
}

fn open_header(path: &Path) -> Result<File, DiskError> {
    chain::open_checked(path, false).map_err(|e| match e {
        CheckedOpenError::Io(e) => DiskError::open(path, false, e),
        CheckedOpenError::NotADisk(what) => DiskError::NotADisk {
            path: path.to_path_buf(),
            what,
        },
    })
}

/// Reads `path`'s header: format, virtual size and backing file name.
pub fn image_info(path: &Path) -> Result<ImageInfo, DiskError> {
    let mut file = open_header(path)?;
    match chain::probe(path, &file)? {
        Format::Raw => {
            // A block device's length is where its end is, not its metadata.
            let size = file
                .seek(SeekFrom::End(0))
                .map_err(|e| DiskError::open(path, false, e))?;
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
    /// raw only: write every byte (zeroes) instead of a sparse file.
    pub full: bool,
    /// qcow2 only: the cluster size (a power of two, 512 B to 2 MiB).
    pub cluster_size: Option<usize>,
}

/// Creates (or truncates) the regular file `path` as a blank image. qcow2
/// images are written by imago, as the overlays are; nothing runs
/// qemu-img.
pub fn create_image(path: &Path, options: &CreateOptions) -> Result<(), DiskError> {
    if let Ok(meta) = std::fs::metadata(path) {
        if !meta.is_file() {
            return Err(DiskError::NotADisk {
                path: path.to_path_buf(),
                what: "not a regular file (disk_create writes image files only)",
            });
        }
    }
    // Read too: imago reads back what it writes.
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(path)
        .map_err(|e| DiskError::open(path, true, e))?;
    match options.format {
        Format::Raw => create_raw(&file, options),
        Format::Qcow2 => create_qcow2(file, options),
    }
    .map_err(|e| DiskError::io("create the image", e))
}

fn create_raw(mut file: &File, options: &CreateOptions) -> std::io::Result<()> {
    if options.full {
        let zeroes = vec![0u8; 1 << 20];
        let mut left = options.size;
        while left > 0 {
            let n = left.min(zeroes.len() as u64) as usize;
            file.write_all(&zeroes[..n])?;
            left -= n as u64;
        }
    } else {
        file.set_len(options.size)?;
    }
    file.sync_all()
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
    builder.create()?;
    sync.sync_all()
}

/// Where a backing name in an image at `image` points (as qemu resolves
/// it: relative to the image's directory).
pub fn resolve_backing(image: &Path, name: &str) -> PathBuf {
    chain::resolve(image, name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn created_images_read_back_as_created() {
        let dir = tempfile::tempdir().unwrap();
        let raw = dir.path().join("a.raw");
        let opts = |format, size| CreateOptions {
            format,
            size,
            backing: None,
            full: false,
            cluster_size: None,
        };
        create_image(&raw, &opts(Format::Raw, 1 << 20)).unwrap();
        let info = image_info(&raw).unwrap();
        assert_eq!((info.format, info.virtual_size), (Format::Raw, 1 << 20));
        let full = dir.path().join("full.raw");
        create_image(
            &full,
            &CreateOptions {
                full: true,
                ..opts(Format::Raw, 3 << 19)
            },
        )
        .unwrap();
        let meta = std::fs::metadata(&full).unwrap();
        assert_eq!(meta.len(), 3 << 19);
        assert!(std::os::unix::fs::MetadataExt::blocks(&meta) * 512 >= 3 << 19);

        let top = dir.path().join("top.qcow2");
        let backed = CreateOptions {
            backing: Some(("a.raw".into(), Format::Raw)),
            cluster_size: Some(4096),
            ..opts(Format::Qcow2, 1 << 20)
        };
        create_image(&top, &backed).unwrap();
        let info = image_info(&top).unwrap();
        assert_eq!(info.format, Format::Qcow2);
        assert_eq!(info.virtual_size, 1 << 20);
        assert_eq!(info.backing_file.as_deref(), Some("a.raw"));
        assert_eq!(resolve_backing(&top, "a.raw"), raw);
        // The disk layer opens what it wrote, chain and all.
        let opened = crate::open_disk(
            &top,
            &crate::OpenOptions {
                format: Some(Format::Qcow2),
                readonly: true,
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(opened.chain.len(), 2);
    }

    #[test]
    fn probing_refuses_what_drives_refuse() {
        let err = image_info(Path::new("/dev/null")).unwrap_err();
        assert!(matches!(err, DiskError::NotADisk { .. }), "{err}");
        let err = image_info(Path::new("/nonexistent.img")).unwrap_err();
        assert!(matches!(err, DiskError::NotFound { .. }), "{err}");
        let err = create_image(
            Path::new("/dev/null"),
            &CreateOptions {
                format: Format::Raw,
                size: 512,
                backing: None,
                full: false,
                cluster_size: None,
            },
        )
        .unwrap_err();
        assert!(matches!(err, DiskError::NotADisk { .. }), "{err}");
    }
}
