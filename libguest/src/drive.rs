//! Drives recorded by `add_drive_opts` and friends.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Image format of a drive. `None` in [`DriveOptions`] means "detect".
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
    pub readonly: bool,
}

/// A drive as recorded on the handle.
#[derive(Debug, Clone)]
pub struct Drive {
    pub path: PathBuf,
    pub options: DriveOptions,
}

impl Drive {
    /// Checks what can be checked before launch: the path exists and is a
    /// regular file or block device the user can open as asked.
    pub(crate) fn new(path: &Path, options: DriveOptions) -> Result<Drive> {
        let err = |reason: String| Error::Drive {
            path: path.to_path_buf(),
            reason,
        };
        let meta = std::fs::metadata(path).map_err(|e| err(e.to_string()))?;
        use std::os::unix::fs::FileTypeExt;
        if !(meta.is_file() || meta.file_type().is_block_device()) {
            return Err(err("not a regular file or block device".into()));
        }
        std::fs::OpenOptions::new()
            .read(true)
            .write(!options.readonly)
            .open(path)
            .map_err(|e| {
                err(if options.readonly {
                    e.to_string()
                } else {
                    format!("{e} (add it read-only with add_drive_ro / --ro)")
                })
            })?;
        Ok(Drive {
            path: path.to_path_buf(),
            options,
        })
    }
}
