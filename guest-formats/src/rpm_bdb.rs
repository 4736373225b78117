//! A read-only reader of Berkeley DB *hash* databases, for rpm's
//! `Packages` file (RHEL/CentOS 7 and 8, Fedora < 33, SLES before 15 SP3):
//! key = the header number (4 bytes, in the database's byte order),
//! value = the rpm header blob. It walks the database as rpm's own
//! read-only backend (lib/backend/bdb_ro.c) does: bucket by bucket from
//! the meta page's spares table, along each bucket's page chain, then
//! the key/data pairs of each page, whose big items live in chains of
//! overflow pages.
//!
//! Page layout (db_page.h): a 26-byte header {lsn 8, pgno u32, prev u32,
//! next u32, entries u16, hf_offset u16, level u8, type u8}, then
//! `entries` u16 item offsets. Items are H_KEYDATA (type byte, then the
//! bytes up to the previous item) or H_OFFPAGE {type, 3 pad, pgno u32,
//! tlen u32}; an overflow page holds `hf_offset` bytes after its header.
//!
//! Hostile input: every page is read at most once per walk (cycles in
//! bucket or overflow chains are errors), the whole walk has a read
//! budget of twice the file's pages, values are capped, and every
//! offset is checked against its page. The `rpm_db` fuzz target runs it.

use std::collections::HashSet;

use crate::bytes::{array, slice, u8at};
use crate::source::{read_exact_at, ReadAt};

/// Values larger than this are an error (an rpm header is a few MiB).
pub const MAX_VALUE: usize = 32 << 20;

const HASH_MAGIC: u32 = 0x0006_1561;
const PAGE_HEADER: usize = 26;
const P_HASH_UNSORTED: u8 = 2;
const P_OVERFLOW: u8 = 7;
const P_HASH: u8 = 13;
const H_KEYDATA: u8 = 1;
const H_OFFPAGE: u8 = 3;

/// Why a database (or a part of it) cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Berkeley DB: {0}")]
pub struct BdbError(pub &'static str);

/// A database read's result.
pub type Result<T> = std::result::Result<T, BdbError>;

/// An open hash database.
pub struct HashDb<'a> {
    src: &'a dyn ReadAt,
    /// The database's integers are big-endian.
    big_endian: bool,
    page_size: usize,
    last_page: u32,
    max_bucket: u32,
    spares: [u32; 32],
}

/// One page, as read.
struct Page {
    bytes: Vec<u8>,
    big_endian: bool,
}

impl Page {
    fn u16at(&self, off: usize) -> Option<usize> {
        let b = array::<2>(&self.bytes, off)?;
        Some(usize::from(if self.big_endian {
            u16::from_be_bytes(b)
        } else {
            u16::from_le_bytes(b)
        }))
    }

    fn u32at(&self, off: usize) -> Option<u32> {
        let b = array::<4>(&self.bytes, off)?;
        Some(if self.big_endian {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        })
    }

    fn kind(&self) -> u8 {
        u8at(&self.bytes, 25).unwrap_or(0)
    }

    fn next(&self) -> u32 {
        self.u32at(16).unwrap_or(0)
    }
}

impl<'a> HashDb<'a> {
    /// Reads the meta page (page 0): magic in either byte order, hash
    /// version 8 to 10, page size, last page, buckets.
    pub fn open(src: &'a dyn ReadAt) -> Result<HashDb<'a>> {
        let meta = read_exact_at(src, 0, 512).ok_or(BdbError("shorter than a meta page"))?;
        let magic = array::<4>(&meta, 12).ok_or(BdbError("no magic"))?;
        let big_endian = if u32::from_le_bytes(magic) == HASH_MAGIC {
            false
        } else if u32::from_be_bytes(magic) == HASH_MAGIC {
            true
        } else {
            return Err(BdbError("not a Berkeley DB hash database"));
        };
        let meta = Page {
            bytes: meta,
            big_endian,
        };
        let field = |off| meta.u32at(off).ok_or(BdbError("meta page truncated"));
        if !(8..=10).contains(&field(16)?) {
            return Err(BdbError("unsupported hash version"));
        }
        let page_size = field(20)? as usize;
        if !(512..=65536).contains(&page_size) || !page_size.is_power_of_two() {
            return Err(BdbError("bad page size"));
        }
        let last_page = field(32)?;
        if u64::from(last_page) >= src.size() / page_size as u64 {
            return Err(BdbError("last page past the end of the file"));
        }
        let max_bucket = field(72)?;
        // Each bucket has a page of its own.
        if max_bucket >= last_page {
            return Err(BdbError("more buckets than pages"));
        }
        let mut spares = [0u32; 32];
        for (i, s) in spares.iter_mut().enumerate() {
            *s = field(96 + 4 * i)?;
        }
        Ok(HashDb {
            src,
            big_endian,
            page_size,
            last_page,
            max_bucket,
            spares,
        })
    }

    /// Whether the database's integers (rpm's header numbers included)
    /// are big-endian.
    pub fn big_endian(&self) -> bool {
        self.big_endian
    }

    /// Calls `f(key, value)` for each pair, bucket by bucket, until it
    /// returns false. An error stops the walk; pairs already passed stay
    /// passed.
    pub fn for_each(&self, f: &mut dyn FnMut(&[u8], &[u8]) -> bool) -> Result<()> {
        let mut walk = Walk {
            db: self,
            budget: 2 * (u64::from(self.last_page) + 1),
            seen: HashSet::new(),
        };
        for bucket in 0..=self.max_bucket {
            let mut pgno = self.bucket_page(bucket)?;
            loop {
                let page = walk.page(pgno)?;
                // A bucket page never written reads as zeros: empty.
                if page.kind() == 0 && page.bytes.iter().take(PAGE_HEADER).all(|&b| b == 0) {
                    break;
                }
                if page.u32at(8) != Some(pgno) {
                    return Err(BdbError("page number mismatch"));
                }
                if !matches!(page.kind(), P_HASH | P_HASH_UNSORTED) {
                    return Err(BdbError("bucket page is not a hash page"));
                }
                if !walk.pairs(&page, f)? {
                    return Ok(());
                }
                pgno = page.next();
                if pgno == 0 {
                    break;
                }
            }
        }
        Ok(())
    }

    /// bdb's BUCKET_TO_PAGE: the spares entry of the bucket's split point.
    fn bucket_page(&self, bucket: u32) -> Result<u32> {
        let split = (u32::BITS - bucket.leading_zeros()) as usize;
        let spare = self
            .spares
            .get(split)
            .ok_or(BdbError("bucket out of range"))?;
        bucket
            .checked_add(*spare)
            .ok_or(BdbError("bucket page out of range"))
    }
}

/// The state of one walk: pages read and the reads left.
struct Walk<'d, 'a> {
    db: &'d HashDb<'a>,
    budget: u64,
    seen: HashSet<u32>,
}

impl Walk<'_, '_> {
    /// Page `pgno`, read once per walk.
    fn page(&mut self, pgno: u32) -> Result<Page> {
        if pgno == 0 || pgno > self.db.last_page {
            return Err(BdbError("page number out of range"));
        }
        if !self.seen.insert(pgno) {
            return Err(BdbError("page chain loops"));
        }
        self.budget = self
            .budget
            .checked_sub(1)
            .ok_or(BdbError("read budget exceeded"))?;
        let size = self.db.page_size;
        let bytes = read_exact_at(self.db.src, u64::from(pgno) * size as u64, size)
            .ok_or(BdbError("page past the end of the file"))?;
        Ok(Page {
            bytes,
            big_endian: self.db.big_endian,
        })
    }

    /// The key/data pairs of one hash page; false when `f` stopped.
    fn pairs(&mut self, page: &Page, f: &mut dyn FnMut(&[u8], &[u8]) -> bool) -> Result<bool> {
        let size = self.db.page_size;
        let entries = page.u16at(20).ok_or(BdbError("page truncated"))?;
        if entries % 2 != 0 || PAGE_HEADER + 2 * entries > size {
            return Err(BdbError("bad entry count"));
        }
        let offset = |i: usize| {
            page.u16at(PAGE_HEADER + 2 * i)
                .filter(|&o| o >= PAGE_HEADER + 2 * entries && o < size)
                .ok_or(BdbError("item offset out of the page"))
        };
        for i in (0..entries).step_by(2) {
            let key_off = offset(i)?;
            let key_end = if i == 0 { size } else { offset(i - 1)? };
            let val_off = offset(i + 1)?;
            let key = self.item(page, key_off, key_end)?;
            let val = self.item(page, val_off, key_off)?;
            if !f(&key, &val) {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// The item at `off..end` of `page`, inline or from its overflow chain.
    fn item(&mut self, page: &Page, off: usize, end: usize) -> Result<Vec<u8>> {
        let bytes = (end > off)
            .then(|| page.bytes.get(off..end))
            .flatten()
            .ok_or(BdbError("item overlaps the next"))?;
        match bytes.first() {
            Some(&H_KEYDATA) => Ok(bytes.get(1..).unwrap_or_default().to_vec()),
            Some(&H_OFFPAGE) if bytes.len() == 12 => {
                let pgno = page.u32at(off + 4).ok_or(BdbError("item truncated"))?;
                let tlen = page.u32at(off + 8).ok_or(BdbError("item truncated"))? as usize;
                self.overflow(pgno, tlen)
            }
            _ => Err(BdbError("unsupported item type (duplicates?)")),
        }
    }

    /// `tlen` bytes from the overflow chain starting at `pgno`.
    fn overflow(&mut self, mut pgno: u32, tlen: usize) -> Result<Vec<u8>> {
        if tlen == 0 || tlen > MAX_VALUE {
            return Err(BdbError("overflow item size out of range"));
        }
        let per_page = self.db.page_size - PAGE_HEADER;
        // A chain needs this many pages: more than the file has is hostile.
        if (tlen / per_page) as u64 > u64::from(self.db.last_page) {
            return Err(BdbError("overflow item larger than the file"));
        }
        let mut data = Vec::with_capacity(tlen);
        while data.len() < tlen {
            let page = self.page(pgno)?;
            if page.u32at(8) != Some(pgno) || page.kind() != P_OVERFLOW {
                return Err(BdbError("bad overflow page"));
            }
            let len = page.u16at(22).ok_or(BdbError("page truncated"))?;
            let chunk = slice(&page.bytes, PAGE_HEADER, len)
                .filter(|c| !c.is_empty() && c.len() <= tlen - data.len())
                .ok_or(BdbError("bad overflow page length"))?;
            data.extend_from_slice(chunk);
            pgno = page.next();
        }
        Ok(data)
    }
}

impl HashDb<'_> {
    /// rpm's `Packages`: calls `f(header number, header blob)` for each
    /// package (record 0, rpm's counter, is left out) until it returns
    /// false. Errors as [`HashDb::for_each`].
    pub fn for_each_header(&self, f: &mut dyn FnMut(u32, &[u8]) -> bool) -> Result<()> {
        let big_endian = self.big_endian;
        self.for_each(&mut |key, value| {
            let Some(k) = array::<4>(key, 0).filter(|_| key.len() == 4) else {
                return true;
            };
            let num = if big_endian {
                u32::from_be_bytes(k)
            } else {
                u32::from_le_bytes(k)
            };
            num == 0 || f(num, value)
        })
    }
}

#[cfg(test)]
mod tests;
