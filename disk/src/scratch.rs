//! Blank scratch disks and the overlay store: sparse temporary files that are already unlinked.
//!
//! Security rule: temporary data goes only to the directory the caller chose (see
//! [`crate::OpenOptions::tmpdir`]), in files that have no name there (`O_TMPFILE`, or unlinked at
//! once), so nothing is left behind and no other user can open them by path.

use std::fs::File;
use std::path::{Path, PathBuf};

use crate::raw::RawBackend;
use crate::DiskError;

/// The directory temporary stores go to: `dir` if given, else `$TMPDIR`, else /tmp.
pub(crate) fn temp_dir(dir: Option<&Path>) -> PathBuf {
    dir.map(Path::to_path_buf)
        .unwrap_or_else(std::env::temp_dir)
}

/// A blank disk of `size` bytes that vanishes when the backend is dropped, and a second
/// descriptor of its file (for [`crate::ChainNode`]).
pub(crate) fn scratch(size: u64, dir: &Path) -> Result<(RawBackend, File), DiskError> {
    if size == 0 || !size.is_multiple_of(512) {
        return Err(DiskError::InvalidSize(size));
    }
    let file = temp_file(dir, size)?;
    let dup = file
        .try_clone()
        .map_err(|e| DiskError::io("duplicate the scratch file", e))?;
    Ok((RawBackend::from_file(file, size), dup))
}

/// An unlinked temporary file of `size` bytes (a hole, so it costs no space until written).
pub(crate) fn sparse_temp_file(size: u64, dir: &Path) -> Result<RawBackend, DiskError> {
    Ok(RawBackend::from_file(temp_file(dir, size)?, size))
}

/// An empty, unlinked, read-write temporary file in `dir`, sized `size` (sparse).
pub(crate) fn temp_file(dir: &Path, size: u64) -> Result<File, DiskError> {
    let error = |source| DiskError::TempFile {
        dir: dir.to_path_buf(),
        source,
    };
    // tempfile_in() unlinks the file at once (or never links it: O_TMPFILE), so nothing is left
    // behind even if the process is killed.
    let file = tempfile::tempfile_in(dir).map_err(error)?;
    file.set_len(size).map_err(error)?;
    Ok(file)
}
