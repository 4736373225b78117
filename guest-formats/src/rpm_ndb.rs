//! A read-only reader of rpm's "ndb" package database, `Packages.db`
//! (SLES 15 SP3 and later, openSUSE), laid out as rpm's
//! lib/backend/ndb/rpmpkg.c writes it, all integers little-endian:
//!
//! - a 32-byte header {"RpmP", version 0, generation, slot pages,
//!   next package index};
//! - `slot pages` 4096-byte pages of 16-byte slots {"Slot", package
//!   index, block offset, block count} (the header takes page 0's first
//!   two); a slot with block offset 0 is free;
//! - blobs at `block offset` × 16, `block count` 16-byte blocks each:
//!   {"BlbS", package index, timestamp, length}, the rpm header blob,
//!   zero padding, then {adler32, length, "BlbE"}.
//!
//! Hostile input: every slot must be well formed, as rpm requires; the
//! slot pages and blobs are capped; each blob must lie in the file after
//! the slot pages, and all blobs together are read at most the file's
//! size, so overlapping slots cannot multiply the reads. Like rpm's read
//! path, the adler32 is not checked; the trailer's length and magic are.
//! The `rpm_ndb` fuzz target runs it.

use crate::bytes::le32;
use crate::source::{read_exact_at, ReadAt};

/// Blobs larger than this are an error (an rpm header is a few MiB).
pub const MAX_BLOB: usize = 32 << 20;
/// 1024 slot pages hold 262142 packages.
const MAX_SLOT_PAGES: u32 = 1024;

const HEADER_MAGIC: &[u8; 4] = b"RpmP";
const SLOT_MAGIC: &[u8; 4] = b"Slot";
const BLOB_HEAD_MAGIC: &[u8; 4] = b"BlbS";
const BLOB_TAIL_MAGIC: &[u8; 4] = b"BlbE";
const PAGE: usize = 4096;
const SLOT: usize = 16;
const BLOCK: u64 = 16;
const HEAD: usize = 16;
const TAIL: usize = 12;

/// Why a database (or a blob of it) cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("rpm ndb: {0}")]
pub struct NdbError(pub &'static str);

/// A database read's result.
pub type Result<T> = std::result::Result<T, NdbError>;

/// One used slot.
#[derive(Debug, Clone, Copy)]
struct Slot {
    pkgidx: u32,
    blkoff: u32,
    blkcnt: u32,
}

/// An open `Packages.db`: its header and slots, checked.
pub struct PackagesDb<'a> {
    src: &'a dyn ReadAt,
    slots: Vec<Slot>,
}

impl<'a> PackagesDb<'a> {
    /// Reads the header and every slot page; any bad slot is an error,
    /// as it is to rpm.
    pub fn open(src: &'a dyn ReadAt) -> Result<PackagesDb<'a>> {
        let size = src.size();
        let head = read_exact_at(src, 0, 32).ok_or(NdbError("shorter than its header"))?;
        if head.get(..4) != Some(&HEADER_MAGIC[..]) {
            return Err(NdbError("not an rpm ndb Packages.db"));
        }
        if le32(&head, 4) != Some(0) {
            return Err(NdbError("unsupported version"));
        }
        let slot_pages = le32(&head, 12).ok_or(NdbError("header truncated"))?;
        if slot_pages == 0 || slot_pages > MAX_SLOT_PAGES {
            return Err(NdbError("slot page count out of range"));
        }
        if !size.is_multiple_of(BLOCK) {
            return Err(NdbError("file size not a multiple of 16"));
        }
        let file_blocks = size / BLOCK;
        let first_blob = u64::from(slot_pages) * (PAGE as u64 / BLOCK);
        let mut slots = Vec::new();
        for page in 0..slot_pages {
            let bytes = read_exact_at(src, u64::from(page) * PAGE as u64, PAGE)
                .ok_or(NdbError("slot pages past the end of the file"))?;
            // Page 0 starts with the header, two slots long.
            let start = if page == 0 { 32 } else { 0 };
            for at in (start..PAGE).step_by(SLOT) {
                let field = |i: usize| le32(&bytes, at + 4 * i).ok_or(NdbError("slot truncated"));
                if bytes.get(at..at + 4) != Some(&SLOT_MAGIC[..]) {
                    return Err(NdbError("bad slot magic"));
                }
                let (pkgidx, blkoff, blkcnt) = (field(1)?, field(2)?, field(3)?);
                if blkoff == 0 {
                    continue;
                }
                let end = u64::from(blkoff) + u64::from(blkcnt);
                if pkgidx == 0 || blkcnt == 0 || u64::from(blkoff) < first_blob || end > file_blocks
                {
                    return Err(NdbError("bad slot"));
                }
                slots.push(Slot {
                    pkgidx,
                    blkoff,
                    blkcnt,
                });
            }
        }
        // rpm lists packages in the order of their blobs.
        slots.sort_by_key(|s| s.blkoff);
        Ok(PackagesDb { src, slots })
    }

    /// How many packages the slots name.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// Whether no slot is used.
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// Calls `f(package index, header blob or why it cannot be read)`
    /// for each package, in blob order, until it returns false. A bad
    /// blob does not stop the walk; exceeding the read budget does.
    pub fn for_each_header(&self, f: &mut dyn FnMut(u32, Result<&[u8]>) -> bool) -> Result<()> {
        let mut budget = self.src.size();
        for slot in &self.slots {
            let bytes = u64::from(slot.blkcnt) * BLOCK;
            budget = budget
                .checked_sub(bytes)
                .ok_or(NdbError("blobs overlap: read budget exceeded"))?;
            let blob = self.blob(*slot);
            if !f(slot.pkgidx, blob.as_deref().map_err(Clone::clone)) {
                break;
            }
        }
        Ok(())
    }

    /// The header blob of `slot`, its head and trailer checked.
    fn blob(&self, slot: Slot) -> Result<Vec<u8>> {
        let len = usize::try_from(u64::from(slot.blkcnt) * BLOCK)
            .ok()
            .filter(|&l| l >= HEAD + TAIL && l <= MAX_BLOB + HEAD + TAIL + BLOCK as usize)
            .ok_or(NdbError("blob size out of range"))?;
        let mut bytes = read_exact_at(self.src, u64::from(slot.blkoff) * BLOCK, len)
            .ok_or(NdbError("blob past the end of the file"))?;
        if bytes.get(..4) != Some(&BLOB_HEAD_MAGIC[..]) || le32(&bytes, 4) != Some(slot.pkgidx) {
            return Err(NdbError("bad blob head"));
        }
        let blob_len = le32(&bytes, 12).ok_or(NdbError("blob truncated"))? as usize;
        // The block count is exactly what head, blob and trailer need.
        if blob_len > MAX_BLOB || (HEAD + blob_len + TAIL).div_ceil(BLOCK as usize) * 16 != len {
            return Err(NdbError("blob length does not match its blocks"));
        }
        let tail = len - TAIL;
        if le32(&bytes, tail + 4) != Some(blob_len as u32)
            || bytes.get(tail + 8..) != Some(&BLOB_TAIL_MAGIC[..])
        {
            return Err(NdbError("bad blob trailer"));
        }
        bytes.truncate(HEAD + blob_len);
        bytes.drain(..HEAD);
        Ok(bytes)
    }
}

#[cfg(test)]
mod tests;
