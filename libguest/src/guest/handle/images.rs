//! disk_format, disk_virtual_size, disk_has_backing_file and disk_create:
//! host image files, through the disk crate's header probing (the same
//! checked open as drives: no FIFOs or devices that are not disks) and
//! imago for qcow2 creation.

use std::path::Path;

use disk::{CreateOptions, Format, Preallocation};
use protocol::calls;

use crate::error::{Error, Result};

fn drive_error(path: &Path, source: disk::DiskError) -> Error {
    Error::Drive {
        path: path.to_path_buf(),
        source,
    }
}

fn invalid(message: String) -> Error {
    Error::InvalidArgument {
        call: "disk_create",
        message,
    }
}

fn info(path: &Path) -> Result<disk::ImageInfo> {
    disk::image_info(path).map_err(|e| drive_error(path, e))
}

pub(super) fn disk_format(path: &Path) -> Result<String> {
    match disk::image_info(path) {
        Ok(info) => Ok(info.format.to_string()),
        // Named as qemu-img names it, though libguest cannot read it.
        Err(disk::DiskError::ForeignFormat { format, .. }) => Ok(format.into()),
        Err(e) => Err(drive_error(path, e)),
    }
}

pub(super) fn disk_virtual_size(path: &Path) -> Result<i64> {
    let size = info(path)?.virtual_size;
    i64::try_from(size).map_err(|_| Error::InvalidArgument {
        call: "disk_virtual_size",
        message: format!(
            "{}: the header claims {size} bytes, beyond any disk",
            path.display()
        ),
    })
}

pub(super) fn disk_has_backing_file(path: &Path) -> Result<bool> {
    Ok(info(path)?.backing_file.is_some())
}

fn format(what: &str, name: &str) -> Result<Format> {
    name.parse()
        .map_err(|_| invalid(format!("{what} {name:?}: use raw or qcow2")))
}

pub(super) fn disk_create(args: calls::disk_create::Args) -> Result<()> {
    let path = &args.filename;
    let fmt = format("format", &args.format)?;
    if fmt == Format::Raw && (args.backingfile.is_some() || args.backingformat.is_some()) {
        return Err(invalid(
            "backingfile and backingformat need format qcow2 (a raw image has no backing file)"
                .into(),
        ));
    }
    let (backing, size) = match (&args.backingfile, &args.backingformat) {
        (None, Some(_)) => return Err(invalid("backingformat without backingfile".into())),
        (None, None) => match u64::try_from(args.size) {
            Ok(size) if size > 0 => (None, size),
            _ => {
                return Err(invalid(format!(
                    "size {}: give the size in bytes (more than 0)",
                    args.size
                )))
            }
        },
        (Some(name), given) => {
            if args.size != -1 {
                return Err(invalid(format!(
                    "size {}: with backingfile the size must be -1 (the new image takes the backing file's size)",
                    args.size
                )));
            }
            // The backing file's header, read (never opened as a disk)
            // for its size, and for its format when none is given, which
            // libguestfs detects the same way.
            let given = given
                .as_deref()
                .map(|f| format("backingformat", f))
                .transpose()?;
            let base = disk::resolve_backing(path, name);
            let base = disk::image_info_as(&base, given).map_err(|e| drive_error(&base, e))?;
            (Some((name.clone(), base.format)), base.virtual_size)
        }
    };
    // qemu-img rounds a qcow2 size up to whole sectors; libguestfs makes
    // raw files itself, exactly as long as asked.
    let size = match fmt {
        Format::Qcow2 => size
            .checked_next_multiple_of(512)
            .ok_or_else(|| invalid(format!("size {size}: too large")))?,
        Format::Raw => size,
    };
    let preallocation = match (args.preallocation.as_deref(), fmt) {
        (None | Some("off" | "sparse"), _) => Preallocation::Off,
        (Some("full"), _) => Preallocation::Full,
        (Some("metadata"), Format::Qcow2) => Preallocation::Metadata,
        (Some(p), Format::Qcow2) => {
            return Err(invalid(format!(
                "preallocation {p:?} for qcow2: use off, sparse, metadata or full"
            )))
        }
        (Some(p), Format::Raw) => {
            return Err(invalid(format!(
                "preallocation {p:?} for raw: use off, sparse or full"
            )))
        }
    };
    if preallocation != Preallocation::Off && backing.is_some() {
        return Err(invalid(
            "preallocation with backingfile: libguest creates snapshots sparse only (leave preallocation out)".into(),
        ));
    }
    let compat_v2 = match (args.compat.as_deref(), fmt) {
        (None | Some("1.1"), Format::Qcow2) | (None, Format::Raw) => false,
        (Some("0.10"), Format::Qcow2) if preallocation != Preallocation::Off => {
            return Err(invalid(
                "compat 0.10 with preallocation: libguest preallocates version-3 images only (leave one out)".into(),
            ))
        }
        (Some("0.10"), Format::Qcow2) => true,
        (Some(c), Format::Qcow2) => {
            return Err(invalid(format!("compat {c:?}: use 0.10 or 1.1")))
        }
        (Some(_), Format::Raw) => return Err(invalid("compat is for qcow2 only".into())),
    };
    let cluster_size = match (args.clustersize, fmt) {
        (None, _) => None,
        (Some(n), Format::Qcow2) if (512..=2 << 20).contains(&n) && n.count_ones() == 1 => {
            Some(n.unsigned_abs() as usize)
        }
        (Some(n), Format::Qcow2) => {
            return Err(invalid(format!(
                "clustersize {n}: give a power of two from 512 to 2097152"
            )))
        }
        (Some(_), Format::Raw) => return Err(invalid("clustersize is for qcow2 only".into())),
    };
    let options = CreateOptions {
        format: fmt,
        size,
        backing,
        preallocation,
        cluster_size,
        compat_v2,
    };
    disk::create_image(path, &options).map_err(|e| drive_error(path, e))
}
