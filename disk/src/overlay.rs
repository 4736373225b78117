//! Copy-on-write overlay: the guest writes, the image underneath is never touched.
//!
//! Written data lives in a sparse, unlinked temporary file at the same offsets as on the disk,
//! so no allocation table is needed: only a map of which chunks the store holds.
//!
//! How large it grows: the store file takes disk space for each 4 KiB chunk the guest writes, so
//! at most the virtual disk size (a guest that rewrites the whole disk fills it once, never more),
//! in the directory given by [`crate::OpenOptions::tmpdir`]. The chunk map costs one bit of memory
//! per written chunk (32 MiB for a fully written 1 TiB disk). Both go when the backend is dropped.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Mutex, RwLock};

use vm_memory::VolatileSlice;

use crate::iov;
use crate::raw::RawBackend;
use crate::scratch::sparse_temp_file;
use crate::{check_range, BlockBackend, DiskError};

/// 4 KiB chunks: guests write in 4 KiB pages/blocks, so copy-up is rare and small, while the
/// map costs one bit per 4 KiB written (32 MiB for a fully written 1 TiB disk).
const CHUNK_SHIFT: u32 = 12;
const CHUNK: u64 = 1 << CHUNK_SHIFT;
/// Bitmap words per leaf: a 4 KiB leaf covers 32768 chunks (128 MiB of disk).
const LEAF_WORDS: usize = 512;
const LEAF_CHUNKS: u64 = LEAF_WORDS as u64 * 64;
/// Most chunks one copy-on-read step copies (1 MiB).
const COPY_UP_RUN: u64 = 256;
/// Largest zero buffer written at once when a hole cannot be punched.
const ZERO_BUF: u64 = 1 << 20;

/// Which chunks are in the store; leaves are allocated only where something was written.
#[derive(Debug, Default)]
struct ChunkMap {
    leaves: BTreeMap<u64, Box<[u64; LEAF_WORDS]>>,
}

impl ChunkMap {
    fn contains(&self, chunk: u64) -> bool {
        let bit = chunk % LEAF_CHUNKS;
        self.leaves
            .get(&(chunk / LEAF_CHUNKS))
            .is_some_and(|leaf| leaf[(bit / 64) as usize] & (1 << (bit % 64)) != 0)
    }

    /// Whether no chunk of `chunk`'s leaf is in the store: reads skip a
    /// whole leaf (128 MiB) at a time, so a read-only drive that was never
    /// written costs one lookup per request.
    fn leaf_is_empty(&self, chunk: u64) -> bool {
        !self.leaves.contains_key(&(chunk / LEAF_CHUNKS))
    }

    fn insert_range(&mut self, first: u64, end: u64) {
        for chunk in first..end {
            let bit = chunk % LEAF_CHUNKS;
            let leaf = self
                .leaves
                .entry(chunk / LEAF_CHUNKS)
                .or_insert_with(|| Box::new([0; LEAF_WORDS]));
            leaf[(bit / 64) as usize] |= 1 << (bit % 64);
        }
    }
}

/// A writable view of a read-only backend.
#[derive(Debug)]
pub(crate) struct Overlay {
    base: Box<dyn BlockBackend>,
    /// Identity-mapped store: disk offset == store offset.
    store: RawBackend,
    size: u64,
    map: RwLock<ChunkMap>,
    /// Serialises writes so two copy-ups of one chunk cannot undo each other's data.
    write_lock: Mutex<()>,
    /// Copy-on-read: chunks read from the base are copied into the store first.
    copy_on_read: bool,
}

impl Overlay {
    /// An overlay over `base` whose store is an unlinked file in `dir`; with `copy_on_read`,
    /// what the guest reads from the base is kept in the store too.
    pub(crate) fn new(
        base: Box<dyn BlockBackend>,
        dir: &Path,
        copy_on_read: bool,
    ) -> Result<Self, DiskError> {
        let size = base.size();
        Ok(Overlay {
            store: sparse_temp_file(size, dir)?,
            base,
            size,
            map: RwLock::new(ChunkMap::default()),
            write_lock: Mutex::new(()),
            copy_on_read,
        })
    }

    /// End of a chunk, clipped to the disk (the last chunk may be short).
    fn chunk_end(&self, chunk: u64) -> u64 {
        ((chunk + 1) << CHUNK_SHIFT).min(self.size)
    }

    fn in_store(&self, chunk: u64) -> Result<bool, DiskError> {
        Ok(self.map.read().map_err(|_| poisoned())?.contains(chunk))
    }

    fn mark(&self, first: u64, end: u64) -> Result<(), DiskError> {
        self.map
            .write()
            .map_err(|_| poisoned())?
            .insert_range(first, end);
        Ok(())
    }

    /// Copies a whole chunk from the base into the store, before a partial write to it.
    fn copy_up(&self, chunk: u64) -> Result<(), DiskError> {
        let start = chunk << CHUNK_SHIFT;
        let mut buf = vec![0u8; (self.chunk_end(chunk) - start) as usize];
        let slice = [VolatileSlice::from(buf.as_mut_slice())];
        self.base.read_vectored(start, &slice)?;
        self.store.write_vectored(start, &slice)
    }

    /// Copy-on-read of the chunks `[first, end)`: each one not yet in the store is copied up,
    /// under `write_lock` so no guest write to it can be undone by the copy.
    fn copy_up_read(&self, first: u64, end: u64) -> Result<(), DiskError> {
        let _guard = self.write_lock.lock().map_err(|_| poisoned())?;
        let mut chunk = first;
        while chunk < end {
            if self.in_store(chunk)? {
                chunk += 1;
                continue;
            }
            // A run of missing chunks, copied with one read and one write.
            let mut run_end = chunk + 1;
            while run_end < end && run_end - chunk < COPY_UP_RUN && !self.in_store(run_end)? {
                run_end += 1;
            }
            let start = chunk << CHUNK_SHIFT;
            let mut buf = vec![0u8; (self.chunk_end(run_end - 1) - start) as usize];
            let slice = [VolatileSlice::from(buf.as_mut_slice())];
            self.base.read_vectored(start, &slice)?;
            self.store.write_vectored(start, &slice)?;
            self.mark(chunk, run_end)?;
            chunk = run_end;
        }
        Ok(())
    }

    /// Writes into the store; the caller holds `write_lock` and has checked the range.
    fn write_locked(
        &self,
        offset: u64,
        len: u64,
        bufs: &[VolatileSlice<'_>],
    ) -> Result<(), DiskError> {
        let end = offset + len;
        let first = offset >> CHUNK_SHIFT;
        let last = (end - 1) >> CHUNK_SHIFT;
        let head_partial = !offset.is_multiple_of(CHUNK) || end < self.chunk_end(first);
        if head_partial && !self.in_store(first)? {
            self.copy_up(first)?;
        }
        if last != first && end < self.chunk_end(last) && !self.in_store(last)? {
            self.copy_up(last)?;
        }
        self.store.write_vectored(offset, bufs)?;
        // Only now may readers see these chunks in the store.
        self.mark(first, last + 1)
    }

    /// Writes zeroes over [offset, offset + len) through the copy-up path.
    fn write_zeroes_locked(&self, mut offset: u64, len: u64) -> Result<(), DiskError> {
        let end = offset + len;
        let mut zeroes = vec![0u8; len.min(ZERO_BUF) as usize];
        while offset < end {
            let n = (end - offset).min(ZERO_BUF);
            let slice = [VolatileSlice::from(&mut zeroes[..n as usize])];
            self.write_locked(offset, n, &slice)?;
            offset += n;
        }
        Ok(())
    }
}

impl BlockBackend for Overlay {
    fn size(&self) -> u64 {
        self.size
    }

    fn is_read_only(&self) -> bool {
        false
    }

    fn supports_discard(&self) -> bool {
        true
    }

    fn read_vectored(&self, offset: u64, bufs: &[VolatileSlice<'_>]) -> Result<(), DiskError> {
        let len = iov::total_len(bufs);
        check_range(offset, len, self.size)?;
        let end = offset + len.unwrap_or(0);
        // Split into runs of chunks served by the same side, under one short read lock.
        let mut runs: Vec<(u64, u64, bool)> = Vec::new();
        {
            let map = self.map.read().map_err(|_| poisoned())?;
            let mut pos = offset;
            while pos < end {
                let chunk = pos >> CHUNK_SHIFT;
                let (stored, run_end) = if map.leaf_is_empty(chunk) {
                    let next_leaf = (chunk / LEAF_CHUNKS + 1).saturating_mul(LEAF_CHUNKS);
                    (false, next_leaf.saturating_mul(CHUNK).min(end))
                } else {
                    (map.contains(chunk), self.chunk_end(chunk).min(end))
                };
                match runs.last_mut() {
                    Some((_, run_len, s)) if *s == stored => *run_len += run_end - pos,
                    _ => runs.push((pos, run_end - pos, stored)),
                }
                pos = run_end;
            }
        }
        for (start, run_len, stored) in runs {
            let part =
                iov::sub_slices(bufs, start - offset, run_len).ok_or(DiskError::OutOfRange {
                    offset: start,
                    len: run_len,
                    size: self.size,
                })?;
            if stored {
                self.store.read_vectored(start, &part)?;
            } else if self.copy_on_read {
                let end = start + run_len;
                self.copy_up_read(start >> CHUNK_SHIFT, (end - 1) / CHUNK + 1)?;
                self.store.read_vectored(start, &part)?;
            } else {
                self.base.read_vectored(start, &part)?;
            }
        }
        Ok(())
    }

    fn write_vectored(&self, offset: u64, bufs: &[VolatileSlice<'_>]) -> Result<(), DiskError> {
        let len = iov::total_len(bufs);
        check_range(offset, len, self.size)?;
        let len = len.unwrap_or(0);
        if len == 0 {
            return Ok(());
        }
        let _guard = self.write_lock.lock().map_err(|_| poisoned())?;
        self.write_locked(offset, len, bufs)
    }

    fn flush(&self) -> Result<(), DiskError> {
        // The store dies with the backend: there is nothing to make durable.
        Ok(())
    }

    fn discard(&self, offset: u64, len: u64) -> Result<(), DiskError> {
        check_range(offset, Some(len), self.size)?;
        if len == 0 {
            return Ok(());
        }
        let end = offset + len;
        let _guard = self.write_lock.lock().map_err(|_| poisoned())?;
        // Whole chunks inside the range: punch them out of the store. Partial ones: write zeroes.
        let first_full = offset.div_ceil(CHUNK);
        let end_full = if end == self.size {
            end.div_ceil(CHUNK)
        } else {
            end / CHUNK
        };
        if first_full >= end_full {
            return self.write_zeroes_locked(offset, len);
        }
        let full_start = first_full << CHUNK_SHIFT;
        let full_end = (end_full << CHUNK_SHIFT).min(self.size);
        if offset < full_start {
            self.write_zeroes_locked(offset, full_start - offset)?;
        }
        match self.store.discard(full_start, full_end - full_start) {
            Ok(()) => self.mark(first_full, end_full)?,
            // No hole punching in the temp directory: zeroes cost space but are still correct.
            Err(DiskError::Unsupported(_)) => {
                self.write_zeroes_locked(full_start, full_end - full_start)?
            }
            Err(e) => return Err(e),
        }
        if full_end < end {
            self.write_zeroes_locked(full_end, end - full_end)?;
        }
        Ok(())
    }
}

fn poisoned() -> DiskError {
    DiskError::io(
        "access",
        std::io::Error::other("overlay state poisoned by an earlier panic"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunk_map_grows_with_writes_only() {
        let mut map = ChunkMap::default();
        assert!(!map.contains(0));
        map.insert_range(5, 7);
        // A write near the end of a 1 TiB disk allocates one 4 KiB leaf, not a full bitmap.
        map.insert_range((1 << 28) - 1, 1 << 28);
        assert_eq!(map.leaves.len(), 2);
        assert!(map.contains(5) && map.contains(6) && !map.contains(7) && !map.contains(4));
        assert!(map.contains((1 << 28) - 1));
    }
}
