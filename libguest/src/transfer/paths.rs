//! Path checks for extract.rs: entry names must be relative without `..`,
//! and every directory above an entry must be a real directory (a symlink
//! there is refused even if it points inside, so no write ever goes through
//! one).

use std::fs::{self, DirBuilder};
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::DirBuilderExt;
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

/// Makes the parents of `rel` and clears the way for a new non-directory:
/// an existing file or symlink is unlinked, never opened.
pub(super) fn prepare_leaf(dest: &Path, rel: &Path, name: &str) -> Result<PathBuf, TransferError> {
    if rel.as_os_str().is_empty() {
        return Err(refused(
            name,
            "it names the destination directory itself".into(),
        ));
    }
    walk_dirs(dest, rel, name, true)?;
    let path = dest.join(rel);
    match fs::symlink_metadata(&path) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(path),
        Ok(m) if m.is_dir() => Err(refused(
            name,
            format!("a directory `{}` is already there", shown(rel)),
        )),
        Ok(_) => match fs::remove_file(&path) {
            Ok(()) => Ok(path),
            Err(e) => Err(extract_err(name, &path, e)),
        },
        Err(e) => Err(extract_err(name, &path, e)),
    }
}

/// Checks that every directory above `rel` is a real directory inside
/// the destination (no symlink, whatever it points to), creating the
/// missing ones when `create`.
pub(super) fn walk_dirs(
    dest: &Path,
    rel: &Path,
    name: &str,
    create: bool,
) -> Result<(), TransferError> {
    let Some(parent) = rel.parent() else {
        return Ok(());
    };
    let mut path = dest.to_path_buf();
    for comp in parent.components() {
        path.push(comp);
        let shown = || shown(path.strip_prefix(dest).unwrap_or(&path));
        match fs::symlink_metadata(&path) {
            Ok(m) if m.is_dir() => {}
            Ok(m) if m.file_type().is_symlink() => {
                let reason = format!(
                    "`{}` on its path is a symbolic link; nothing is written through links",
                    shown()
                );
                return Err(refused(name, reason));
            }
            Ok(_) => {
                return Err(refused(
                    name,
                    format!("`{}` on its path is not a directory", shown()),
                ))
            }
            Err(e) if create && e.kind() == io::ErrorKind::NotFound => {
                DirBuilder::new()
                    .mode(0o755)
                    .create(&path)
                    .map_err(|e| extract_err(name, &path, e))?;
            }
            Err(e) => return Err(extract_err(name, &path, e)),
        }
    }
    Ok(())
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
