//! Stream plumbing for extract.rs: the tar crate reads the archive through
//! [`CrateSide`], which caps what it may read for one entry's headers and
//! records those bytes; sparse data is read past the crate ([`Direct`]) and
//! handed to it as zeros when it skips that data; and a copy loop that
//! leaves holes for all-zero chunks.

use std::cell::{Cell, RefCell};
use std::fs::File;
use std::io::{self, Read};
use std::os::unix::fs::FileExt;
use std::rc::Rc;

pub(super) struct Stream<R> {
    inner: RefCell<R>,
    /// Bytes the crate may still read; `None` while unlimited (file data).
    budget: Cell<Option<u64>>,
    hit: Cell<bool>,
    /// Bytes handed to the crate: its idea of the archive position.
    pos: Cell<u64>,
    /// Bytes read past the crate that it has not skipped yet.
    credit: Cell<u64>,
    /// What the crate read since `begin_headers`, and from where.
    record: RefCell<Vec<u8>>,
    record_from: Cell<u64>,
    recording: Cell<bool>,
}

impl<R: Read> Stream<R> {
    pub(super) fn new(inner: R) -> Rc<Stream<R>> {
        Rc::new(Stream {
            inner: RefCell::new(inner),
            budget: Cell::new(None),
            hit: Cell::new(false),
            pos: Cell::new(0),
            credit: Cell::new(0),
            record: RefCell::new(Vec::new()),
            record_from: Cell::new(0),
            recording: Cell::new(false),
        })
    }

    /// The crate is about to read one entry's headers: at most `limit`
    /// bytes, recorded.
    pub(super) fn begin_headers(&self, limit: u64) {
        self.budget.set(Some(limit));
        self.record.borrow_mut().clear();
        self.record_from.set(self.pos.get());
        self.recording.set(true);
    }

    pub(super) fn end_headers(&self) {
        self.budget.set(None);
        self.recording.set(false);
    }

    /// Whether the last read failed on the header budget.
    pub(super) fn hit_budget(&self) -> bool {
        self.hit.get()
    }

    /// Bytes read past the crate and not yet skipped by it.
    pub(super) fn credit(&self) -> u64 {
        self.credit.get()
    }

    /// The recorded header bytes from archive position `from` on.
    pub(super) fn recorded_from(&self, from: u64) -> Option<Vec<u8>> {
        let start = usize::try_from(from.checked_sub(self.record_from.get())?).ok()?;
        self.record.borrow().get(start..).map(<[u8]>::to_vec)
    }

    fn read_inner(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.borrow_mut().read(buf)
    }
}

/// The reader given to `tar::Archive`.
pub(super) struct CrateSide<R>(pub(super) Rc<Stream<R>>);

impl<R: Read> Read for CrateSide<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let s = &self.0;
        let credit = s.credit.get();
        if credit > 0 {
            // The crate skips data read past it: zeros, not counted in the
            // budget, at most what was really read.
            let n = buf.len().min(usize::try_from(credit).unwrap_or(usize::MAX));
            buf[..n].fill(0);
            s.credit.set(credit - n as u64);
            s.pos.set(s.pos.get() + n as u64);
            return Ok(n);
        }
        let cap = match s.budget.get() {
            None => buf.len(),
            Some(0) => {
                s.hit.set(true);
                return Err(io::Error::other(
                    "tar entry headers exceed the metadata limit",
                ));
            }
            Some(left) => buf.len().min(usize::try_from(left).unwrap_or(usize::MAX)),
        };
        let n = s.read_inner(&mut buf[..cap])?;
        if let Some(left) = s.budget.get() {
            s.budget.set(Some(left.saturating_sub(n as u64)));
        }
        if s.recording.get() {
            s.record.borrow_mut().extend_from_slice(&buf[..n]);
        }
        s.pos.set(s.pos.get() + n as u64);
        Ok(n)
    }
}

/// Reads the archive past the crate, at most `left` bytes.
pub(super) struct Direct<'s, R> {
    pub(super) stream: &'s Stream<R>,
    pub(super) left: u64,
}

impl<R: Read> Read for Direct<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let cap = buf
            .len()
            .min(usize::try_from(self.left).unwrap_or(usize::MAX));
        if cap == 0 {
            return Ok(0);
        }
        let n = self.stream.read_inner(&mut buf[..cap])?;
        self.left -= n as u64;
        self.stream.credit.set(self.stream.credit.get() + n as u64);
        Ok(n)
    }
}

pub(super) enum CopyError {
    Read(io::Error),
    Write(io::Error),
    Stopped,
}

/// Copies exactly `len` bytes of `src` to `dst` at `offset`, leaving holes
/// where a chunk is all zeros; `tick` gets each chunk's length and says
/// whether to stop. Returns the bytes copied (fewer if `src` ended).
pub(super) fn copy_at(
    src: &mut impl Read,
    dst: &File,
    mut offset: u64,
    len: u64,
    buf: &mut [u8],
    tick: &mut dyn FnMut(u64) -> bool,
) -> Result<u64, CopyError> {
    let mut done = 0u64;
    while done < len {
        let want = buf
            .len()
            .min(usize::try_from(len - done).unwrap_or(usize::MAX));
        let n = match src.read(&mut buf[..want]) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(CopyError::Read(e)),
        };
        let chunk = &buf[..n];
        if !is_zero(chunk) {
            dst.write_all_at(chunk, offset).map_err(CopyError::Write)?;
        }
        offset += n as u64;
        done += n as u64;
        if tick(n as u64) {
            return Err(CopyError::Stopped);
        }
    }
    Ok(done)
}

/// Whether `buf` is all zeros; OR-folds 4 KiB runs, which the compiler
/// vectorises (a byte-wise `all` is several times slower on long holes).
fn is_zero(buf: &[u8]) -> bool {
    buf.chunks(4096)
        .all(|run| run.iter().fold(0u8, |acc, &b| acc | b) == 0)
}
