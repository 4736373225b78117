//! Drives recorded by `add_drive_opts` and friends. Each is opened when it
//! is added, so a bad path, an unknown format or a corrupt header is
//! reported before anything boots.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use disk::BlockBackend;

use crate::error::{Error, Result};

/// Image format of a drive. `None` in [`DriveOptions`] means "detect from
/// the header"; an explicit format is never second-guessed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DriveFormat {
    Raw,
    Qcow2,
}

impl std::str::FromStr for DriveFormat {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "raw" => Ok(DriveFormat::Raw),
            "qcow2" => Ok(DriveFormat::Qcow2),
            other => Err(format!("unknown format {other:?} (expected raw or qcow2)")),
        }
    }
}

/// Options of `add_drive_opts`, as in libguestfs.
#[derive(Debug, Clone, Default)]
pub struct DriveOptions {
    pub format: Option<DriveFormat>,
    /// Open the image read-only; the appliance sees a write-protected disk.
    pub readonly: bool,
    /// Copy-on-write overlay: the appliance may write, the writes are kept
    /// in a temporary file and dropped at shutdown; the image is opened
    /// read-only and not one byte (nor its mtime) changes.
    pub overlay: bool,
}

/// Where a drive's bytes come from.
#[derive(Debug, Clone)]
pub enum DriveSource {
    File(PathBuf),
    /// A blank temporary disk of this many bytes, deleted at shutdown.
    Scratch(u64),
}

/// A drive as recorded on the handle, with its opened backend.
#[derive(Debug, Clone)]
pub struct Drive {
    pub source: DriveSource,
    pub options: DriveOptions,
    pub(crate) backend: Arc<dyn BlockBackend>,
}

impl Drive {
    pub(crate) fn open(path: &Path, options: DriveOptions) -> Result<Drive> {
        let disk_options = disk::OpenOptions {
            format: options.format.map(|f| match f {
                DriveFormat::Raw => disk::Format::Raw,
                DriveFormat::Qcow2 => disk::Format::Qcow2,
            }),
            readonly: options.readonly,
            overlay: options.overlay,
        };
        let backend = disk::open(path, &disk_options).map_err(|e| Error::Drive {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
        Ok(Drive {
            source: DriveSource::File(path.to_path_buf()),
            options,
            backend: Arc::from(backend),
        })
    }

    pub(crate) fn scratch(size: u64) -> Result<Drive> {
        let backend = disk::scratch(size).map_err(|e| Error::Drive {
            path: PathBuf::from(format!("<scratch {size} bytes>")),
            reason: e.to_string(),
        })?;
        Ok(Drive {
            source: DriveSource::Scratch(size),
            options: DriveOptions::default(),
            backend: Arc::from(backend),
        })
    }

    /// Size in bytes as the appliance sees it.
    pub fn size(&self) -> u64 {
        self.backend.size()
    }
}
