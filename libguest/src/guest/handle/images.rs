//! disk_format, disk_virtual_size, disk_has_backing_file and disk_create:
//! host image files, through the disk crate's header probing (the same
//! checked open as drives: no FIFOs or devices that are not disks) and
//! imago for qcow2 creation.

use std::path::Path;

use disk::{CreateOptions, Format};
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
    Ok(info(path)?.format.to_string())
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
    let backing = match (&args.backingfile, &args.backingformat) {
        (None, None) => None,
        (Some(file), Some(bf)) => Some((file.clone(), format("backingformat", bf)?)),
        (Some(_), None) => {
            return Err(invalid(
                "backingfile needs backingformat (raw or qcow2): libguest opens no backing file of unrecorded format".into(),
            ))
        }
        (None, Some(_)) => return Err(invalid("backingformat without backingfile".into())),
    };
    if backing.is_some() && fmt != Format::Qcow2 {
        return Err(invalid("backingfile needs format qcow2".into()));
    }
    let size = match (args.size, &backing) {
        (-1, Some((name, _))) => {
            let base = disk::resolve_backing(path, name);
            info(&base)?.virtual_size
        }
        (n, _) if n >= 0 && n % 512 == 0 => n.unsigned_abs(),
        (n, _) => {
            return Err(invalid(format!(
                "size {n}: give a multiple of 512 bytes (or -1 with backingfile for its size)"
            )))
        }
    };
    let full = match (args.preallocation.as_deref(), fmt) {
        (None | Some("off" | "sparse"), _) => false,
        (Some("full"), Format::Raw) => true,
        (Some(p), Format::Qcow2) => {
            return Err(invalid(format!(
                "preallocation {p:?} for qcow2: libguest writes qcow2 images sparse only (off or sparse)"
            )))
        }
        (Some(p), Format::Raw) => {
            return Err(invalid(format!("preallocation {p:?}: use off, sparse or full")))
        }
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
        full,
        cluster_size,
    };
    disk::create_image(path, &options).map_err(|e| drive_error(path, e))
}
