//! Entry names for extract.rs: they must be relative without `..` (a name
//! that is not is refused, never rewritten), and the error constructors.

use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};

use super::{display_name, TransferError};

/// `path` as a relative path of normal components, or a refusal.
pub(super) fn relative(path: &Path, name: &str, what: &str) -> Result<PathBuf, TransferError> {
    let shown = || shown(path);
    let mut rel = PathBuf::new();
    for comp in path.components() {
        match comp {
            Component::Normal(part) => rel.push(part),
            Component::CurDir => {}
            Component::RootDir | Component::Prefix(_) => {
                return Err(refused(
                    name,
                    format!("its {what} `{}` is absolute", shown()),
                ));
            }
            Component::ParentDir => {
                return Err(refused(
                    name,
                    format!("its {what} `{}` contains `..`", shown()),
                ));
            }
        }
    }
    Ok(rel)
}

/// A path from the archive, fit for a message.
pub(super) fn shown(path: &Path) -> String {
    display_name(path.as_os_str().as_bytes())
}

pub(super) fn refused(name: &str, reason: String) -> TransferError {
    TransferError::Refused {
        entry: name.to_owned(),
        reason,
    }
}

pub(super) fn extract_err(name: &str, path: &Path, source: io::Error) -> TransferError {
    TransferError::Extract {
        entry: name.to_owned(),
        path: path.to_path_buf(),
        source,
    }
}
