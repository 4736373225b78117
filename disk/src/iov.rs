//! Guest-memory slices as iovecs, and splitting slice lists by byte range.
//!
//! The iovecs point straight into guest memory, so the file I/O needs no bounce buffer. The
//! vm-memory pointer guards are kept next to the iovecs: they are what keeps the memory mapped
//! while the kernel reads or writes it.

use vm_memory::volatile_memory::{PtrGuard, PtrGuardMut};
use vm_memory::VolatileSlice;

/// Most iovecs one preadv/pwritev accepts (Linux UIO_MAXIOV).
pub(crate) const IOV_MAX: usize = libc::UIO_MAXIOV as usize;

/// Total byte length of a slice list; None if it does not fit in u64.
pub(crate) fn total_len(bufs: &[VolatileSlice<'_>]) -> Option<u64> {
    bufs.iter()
        .try_fold(0u64, |acc, b| acc.checked_add(b.len() as u64))
}

/// iovecs over guest memory together with the guards that keep that memory mapped.
///
/// Consumed front to back: after a short transfer, `advance()` skips what was transferred.
pub(crate) struct IoVecs<G> {
    _guards: Vec<G>,
    iovecs: Vec<libc::iovec>,
    /// Index of the first iovec not yet fully transferred.
    start: usize,
}

impl IoVecs<PtrGuardMut> {
    /// iovecs that the kernel may write into (preadv).
    pub(crate) fn for_read(bufs: &[VolatileSlice<'_>]) -> Self {
        let guards: Vec<PtrGuardMut> = bufs
            .iter()
            .filter(|b| !b.is_empty())
            .map(|b| b.ptr_guard_mut())
            .collect();
        let iovecs = guards
            .iter()
            .map(|g| libc::iovec {
                iov_base: g.as_ptr().cast(),
                iov_len: g.len(),
            })
            .collect();
        IoVecs {
            _guards: guards,
            iovecs,
            start: 0,
        }
    }

    /// Zeroes everything not yet transferred: the part of a read beyond the end of the file.
    pub(crate) fn zero_remaining(&mut self) {
        for iov in &self.iovecs[self.start..] {
            // SAFETY: each iovec covers (a tail of) a guest-memory slice whose mapping is held by
            // `self._guards` and that vm-memory bounds-checked when the slice was made.
            unsafe { std::ptr::write_bytes(iov.iov_base.cast::<u8>(), 0, iov.iov_len) };
        }
        self.start = self.iovecs.len();
    }
}

impl IoVecs<PtrGuard> {
    /// iovecs that the kernel reads from (pwritev).
    pub(crate) fn for_write(bufs: &[VolatileSlice<'_>]) -> Self {
        let guards: Vec<PtrGuard> = bufs
            .iter()
            .filter(|b| !b.is_empty())
            .map(|b| b.ptr_guard())
            .collect();
        let iovecs = guards
            .iter()
            .map(|g| libc::iovec {
                iov_base: g.as_ptr().cast_mut().cast(),
                iov_len: g.len(),
            })
            .collect();
        IoVecs {
            _guards: guards,
            iovecs,
            start: 0,
        }
    }
}

impl<G> IoVecs<G> {
    /// The iovecs still to transfer, at most IOV_MAX of them (one syscall's worth).
    pub(crate) fn next_batch(&self) -> &[libc::iovec] {
        let rest = &self.iovecs[self.start..];
        &rest[..rest.len().min(IOV_MAX)]
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.start >= self.iovecs.len()
    }

    /// Skips `n` transferred bytes (n is at most what the last batch covered).
    pub(crate) fn advance(&mut self, mut n: usize) {
        while n > 0 && self.start < self.iovecs.len() {
            let iov = &mut self.iovecs[self.start];
            if n >= iov.iov_len {
                n -= iov.iov_len;
                self.start += 1;
            } else {
                // wrapping_add: the result stays inside the same slice, no unsafe needed.
                iov.iov_base = iov.iov_base.cast::<u8>().wrapping_add(n).cast();
                iov.iov_len -= n;
                n = 0;
            }
        }
    }
}

/// The part of a slice list covering bytes [start, start + len) of its concatenation.
///
/// Returns None when the range is not inside the list.
pub(crate) fn sub_slices<'a>(
    bufs: &[VolatileSlice<'a>],
    start: u64,
    len: u64,
) -> Option<Vec<VolatileSlice<'a>>> {
    let end = start.checked_add(len)?;
    let mut out = Vec::new();
    let mut pos = 0u64;
    for b in bufs {
        let b_end = pos.checked_add(b.len() as u64)?;
        if b_end > start && pos < end {
            let from = start.saturating_sub(pos);
            let to = end.min(b_end) - pos;
            let from_usize = usize::try_from(from).ok()?;
            let count = usize::try_from(to - from).ok()?;
            out.push(b.subslice(from_usize, count).ok()?);
        }
        if b_end >= end {
            return Some(out);
        }
        pos = b_end;
    }
    (pos >= end).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sub_slices_split_across_buffers() {
        let mut a = [1u8; 8];
        let mut b = [2u8; 8];
        let bufs = [
            VolatileSlice::from(&mut a[..]),
            VolatileSlice::from(&mut b[..]),
        ];
        let parts = sub_slices(&bufs, 6, 4).unwrap();
        assert_eq!(parts.iter().map(|s| s.len()).collect::<Vec<_>>(), [2, 2]);
        assert_eq!(total_len(&parts), Some(4));
        assert!(sub_slices(&bufs, 10, 7).is_none());
        assert_eq!(sub_slices(&bufs, 16, 0).map(|v| v.len()), Some(0));
    }

    #[test]
    fn advance_across_iovecs() {
        let mut a = [0u8; 8];
        let mut b = [0u8; 8];
        let bufs = [
            VolatileSlice::from(&mut a[..]),
            VolatileSlice::from(&mut b[..]),
        ];
        let mut v = IoVecs::for_read(&bufs);
        v.advance(10);
        assert_eq!(v.next_batch().len(), 1);
        assert_eq!(v.next_batch()[0].iov_len, 6);
        v.advance(6);
        assert!(v.is_empty());
    }
}
