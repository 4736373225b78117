//! A minimal read-only reader of SQLite database files: enough to walk
//! one table's b-tree and decode its rows, for the rpm database
//! (`rpmdb.sqlite`, table `Packages(hnum INTEGER PRIMARY KEY, blob)`).
//! Follows the "Database File Format" document of sqlite.org.
//!
//! Rather than linking SQLite into PID 1: the database is hostile input
//! and only its table b-trees are needed. Every page number, cell and
//! payload is checked, rows are capped in size, each b-tree page is
//! visited once, and the whole walk has a read budget. The write-ahead
//! log is not read (a cleanly shut down system has checkpointed it).
//! The `rpm_db` fuzz target runs it on arbitrary bytes.

use std::cell::Cell;
use std::collections::HashSet;

use crate::bytes::{be16, be32};
use crate::source::{read_exact_at, ReadAt};

/// Rows larger than this are skipped (an rpm header is a few MiB at most).
pub const MAX_PAYLOAD: usize = 32 << 20;
const MAX_DEPTH: usize = 64;
const MAX_COLUMNS: usize = 256;

/// Why a database (or a part of it) cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SqliteError(pub &'static str);

/// A database read's result.
pub type Result<T> = std::result::Result<T, SqliteError>;

/// One column of a row.
#[derive(Debug, Clone, PartialEq)]
pub enum Column {
    /// NULL.
    Null,
    /// An integer (and the constants 0 and 1).
    Int(i64),
    /// A float.
    Float(f64),
    /// Text, as stored (the database is UTF-8).
    Text(Vec<u8>),
    /// A blob.
    Blob(Vec<u8>),
}

/// An open database file.
pub struct Db<'a> {
    src: &'a dyn ReadAt,
    page_size: usize,
    usable: usize,
    pages: u64,
    /// Page reads left.
    budget: Cell<u64>,
}

impl<'a> Db<'a> {
    /// Checks the header (magic, page size, reserved space, encoding).
    pub fn open(src: &'a dyn ReadAt) -> Result<Db<'a>> {
        let head = read_exact_at(src, 0, 100).ok_or(SqliteError("shorter than a SQLite header"))?;
        if head.get(..16) != Some(b"SQLite format 3\0") {
            return Err(SqliteError("not a SQLite database"));
        }
        let page_size = match be16(&head, 16).unwrap_or(0) {
            1 => 65536,
            n if n >= 512 && n.is_power_of_two() => usize::from(n),
            _ => return Err(SqliteError("bad page size")),
        };
        let reserved = usize::from(*head.get(20).unwrap_or(&0));
        let usable = page_size.saturating_sub(reserved);
        if usable < 480 {
            return Err(SqliteError("bad reserved space"));
        }
        if !matches!(be32(&head, 56), Some(0 | 1)) {
            return Err(SqliteError("not UTF-8 (unsupported text encoding)"));
        }
        let pages = src.size() / page_size as u64;
        Ok(Db {
            src,
            page_size,
            usable,
            pages,
            budget: Cell::new(pages.saturating_mul(4).saturating_add(1 << 14)),
        })
    }

    fn page(&self, number: u32) -> Result<Vec<u8>> {
        if number == 0 || u64::from(number) > self.pages {
            return Err(SqliteError("page number out of the file"));
        }
        let left = self.budget.get();
        if left == 0 {
            return Err(SqliteError(
                "read budget spent (a looping or hostile database)",
            ));
        }
        self.budget.set(left - 1);
        let offset = (u64::from(number) - 1) * self.page_size as u64;
        read_exact_at(self.src, offset, self.page_size).ok_or(SqliteError("unreadable page"))
    }

    /// The root page of a table, from the schema table (page 1).
    pub fn table_root(&self, name: &str) -> Result<Option<u32>> {
        let mut found = None;
        self.for_each_row(1, &mut |_, cols| {
            let text = |i: usize| match cols.get(i) {
                Some(Column::Text(t)) => Some(t.as_slice()),
                _ => None,
            };
            if text(0) == Some(b"table")
                && text(1).is_some_and(|n| n.eq_ignore_ascii_case(name.as_bytes()))
            {
                if let Some(Column::Int(root)) = cols.get(3) {
                    found = u32::try_from(*root).ok();
                }
                return false;
            }
            true
        })?;
        Ok(found)
    }

    /// Calls `f(rowid, columns)` for each row of the table b-tree rooted
    /// at `root` until it returns false. Rows too big or malformed are
    /// skipped; a malformed tree is an error (after the rows before it).
    pub fn for_each_row(
        &self,
        root: u32,
        f: &mut dyn FnMut(i64, Vec<Column>) -> bool,
    ) -> Result<()> {
        let mut visited = HashSet::new();
        let mut stack = vec![(root, 0usize)];
        while let Some((number, depth)) = stack.pop() {
            if depth > MAX_DEPTH || !visited.insert(number) {
                return Err(SqliteError("b-tree too deep or looping"));
            }
            let page = self.page(number)?;
            let hdr = if number == 1 { 100 } else { 0 };
            let kind = *page.get(hdr).ok_or(SqliteError("short page"))?;
            let cells = usize::from(be16(&page, hdr + 3).ok_or(SqliteError("short page"))?);
            let interior = match kind {
                0x05 => true,
                0x0D => false,
                _ => return Err(SqliteError("not a table b-tree page")),
            };
            let array = hdr + if interior { 12 } else { 8 };
            if interior {
                stack.push((
                    be32(&page, hdr + 8).ok_or(SqliteError("short page"))?,
                    depth + 1,
                ));
            }
            for i in 0..cells {
                let at = usize::from(
                    be16(&page, array + 2 * i).ok_or(SqliteError("cell array out of page"))?,
                );
                if interior {
                    stack.push((
                        be32(&page, at).ok_or(SqliteError("cell out of page"))?,
                        depth + 1,
                    ));
                    continue;
                }
                let Some((rowid, payload)) = self.leaf_cell(&page, at)? else {
                    continue;
                };
                if let Some(cols) = record(&payload) {
                    if !f(rowid, cols) {
                        return Ok(());
                    }
                }
            }
        }
        Ok(())
    }

    /// A table leaf cell: rowid and the whole payload (None when too big).
    fn leaf_cell(&self, page: &[u8], at: usize) -> Result<Option<(i64, Vec<u8>)>> {
        let (size, n1) = varint(page, at).ok_or(SqliteError("bad cell"))?;
        let (rowid, n2) = varint(page, at + n1).ok_or(SqliteError("bad cell"))?;
        let start = at + n1 + n2;
        if size > MAX_PAYLOAD as u64 {
            return Ok(None);
        }
        let size = size as usize;
        let u = self.usable;
        let x = u - 35;
        let local = if size <= x {
            size
        } else {
            let m = ((u - 12) * 32 / 255) - 23;
            let k = m + ((size - m) % (u - 4));
            if k <= x {
                k
            } else {
                m
            }
        };
        let mut payload = page
            .get(start..start + local)
            .ok_or(SqliteError("cell out of page"))?
            .to_vec();
        if local < size {
            let mut next = be32(page, start + local).ok_or(SqliteError("cell out of page"))?;
            while payload.len() < size {
                let overflow = self.page(next)?;
                next = be32(&overflow, 0).ok_or(SqliteError("short overflow page"))?;
                let take = (size - payload.len()).min(u - 4);
                payload.extend_from_slice(
                    overflow
                        .get(4..4 + take)
                        .ok_or(SqliteError("short overflow page"))?,
                );
            }
        }
        Ok(Some((rowid as i64, payload)))
    }
}

/// A SQLite varint at `pos`: value and length (1 to 9 bytes).
fn varint(b: &[u8], pos: usize) -> Option<(u64, usize)> {
    let mut v = 0u64;
    for i in 0..9 {
        let byte = *b.get(pos + i)?;
        if i == 8 {
            return Some(((v << 8) | u64::from(byte), 9));
        }
        v = (v << 7) | u64::from(byte & 0x7F);
        if byte & 0x80 == 0 {
            return Some((v, i + 1));
        }
    }
    None
}

/// Decodes a record (header of serial types, then the values).
fn record(payload: &[u8]) -> Option<Vec<Column>> {
    let (header_len, mut pos) = varint(payload, 0)?;
    let header_len = usize::try_from(header_len).ok()?;
    let mut body = header_len;
    let mut out = Vec::new();
    while pos < header_len {
        if out.len() >= MAX_COLUMNS {
            return None;
        }
        let (serial, n) = varint(payload, pos)?;
        pos += n;
        let int = |len: usize| -> Option<i64> {
            let bytes = payload.get(body..body.checked_add(len)?)?;
            let first = i64::from(*bytes.first()? as i8);
            Some(
                bytes
                    .iter()
                    .skip(1)
                    .fold(first, |acc, &b| (acc << 8) | i64::from(b)),
            )
        };
        let (col, len) = match serial {
            0 => (Column::Null, 0),
            1..=4 => (Column::Int(int(serial as usize)?), serial as usize),
            5 => (Column::Int(int(6)?), 6),
            6 => (Column::Int(int(8)?), 8),
            7 => (Column::Float(f64::from_bits(int(8)? as u64)), 8),
            8 => (Column::Int(0), 0),
            9 => (Column::Int(1), 0),
            10 | 11 => return None,
            n => {
                let len = usize::try_from((n - 12) / 2).ok()?;
                let bytes = payload.get(body..body.checked_add(len)?)?.to_vec();
                if n % 2 == 0 {
                    (Column::Blob(bytes), len)
                } else {
                    (Column::Text(bytes), len)
                }
            }
        };
        body = body.checked_add(len)?;
        out.push(col);
    }
    Some(out)
}
