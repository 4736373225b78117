//! Blank scratch disks: a sparse, already-unlinked temporary file.

use crate::raw::RawBackend;
use crate::DiskError;

/// A blank disk of `size` bytes that vanishes when the backend is dropped.
pub(crate) fn scratch(size: u64) -> Result<RawBackend, DiskError> {
    if size == 0 || !size.is_multiple_of(512) {
        return Err(DiskError::InvalidSize(size));
    }
    sparse_temp_file(size)
}

/// An unlinked temporary file of `size` bytes (a hole, so it costs no space until written).
pub(crate) fn sparse_temp_file(size: u64) -> Result<RawBackend, DiskError> {
    // tempfile() unlinks the file at once (or never links it: O_TMPFILE), so nothing is left
    // behind even if the process is killed.
    let file = tempfile::tempfile().map_err(|e| DiskError::io("create temporary file", e))?;
    file.set_len(size)
        .map_err(|e| DiskError::io("size temporary file", e))?;
    Ok(RawBackend::from_file(file, size))
}
