//! Stream plumbing for extract.rs: a byte budget on what the tar crate may
//! read for one entry's headers, and a hole-preserving copy loop.

use std::cell::Cell;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::rc::Rc;

#[derive(Default)]
pub(super) struct Budget {
    /// Bytes still allowed; `None` while unlimited (reading file data).
    pub(super) left: Cell<Option<u64>>,
    pub(super) hit: Cell<bool>,
}

/// Caps what the tar crate reads while it assembles one entry's headers.
pub(super) struct Budgeted<R> {
    pub(super) inner: R,
    pub(super) budget: Rc<Budget>,
}

impl<R: Read> Read for Budgeted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let Some(left) = self.budget.left.get() else {
            return self.inner.read(buf);
        };
        if left == 0 {
            self.budget.hit.set(true);
            return Err(io::Error::other(
                "tar entry headers exceed the metadata limit",
            ));
        }
        let cap = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..cap])?;
        self.budget.left.set(Some(left.saturating_sub(n as u64)));
        Ok(n)
    }
}

pub(super) enum CopyError {
    Read(io::Error),
    Write(io::Error),
}

/// Streams `src` into `dst`, seeking over all-zero chunks so that holes
/// (sparse entries, zeroed disk blocks) stay holes on the host.
pub(super) fn copy_sparse(
    src: &mut impl Read,
    dst: &mut File,
    buf: &mut [u8],
) -> Result<u64, CopyError> {
    let mut total = 0u64;
    loop {
        let n = match src.read(buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(CopyError::Read(e)),
        };
        let chunk = &buf[..n];
        if is_zero(chunk) {
            // n is at most the buffer's length, far below i64::MAX.
            dst.seek(SeekFrom::Current(n as i64))
                .map_err(CopyError::Write)?;
        } else {
            dst.write_all(chunk).map_err(CopyError::Write)?;
        }
        total += n as u64;
    }
    // Gives the file its length when it ends in a hole.
    dst.set_len(total).map_err(CopyError::Write)?;
    Ok(total)
}

/// Whether `buf` is all zeros; OR-folds 4 KiB runs, which the compiler
/// vectorises (a byte-wise `all` is several times slower on long holes).
fn is_zero(buf: &[u8]) -> bool {
    buf.chunks(4096)
        .all(|run| run.iter().fold(0u8, |acc, &b| acc | b) == 0)
}
