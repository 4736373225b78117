//! A read-only parser for Windows registry hive files ("regf"), enough
//! for inspection: keys by path, their subkeys and values. The format is
//! the one hivex and nt-hive read (see the "Windows registry file format
//! specification" by Maxim Suhanov): a 4 KiB base block, then hive bins
//! holding cells; every reference is a cell offset from the end of the
//! base block.
//!
//! The hive is hostile input: it is read through positioned reads (a
//! SOFTWARE hive can be hundreds of MiB, the appliance has 512), every
//! cell is bounds-checked against the hive-bins size in the header, every
//! list and value is capped, and nothing recurses on the data (a subkey
//! list may nest one level, `ri` → `li`/`lf`/`lh`, as Windows writes).
//! The `registry_hive` fuzz target runs it on arbitrary bytes.

use std::cell::Cell;

use crate::bytes::{be32, le16, le32};
use crate::source::{read_exact_at, ReadAt};

#[cfg(test)]
mod tests;

const BASE_BLOCK: u64 = 4096;
/// The largest value data we return.
const MAX_DATA: usize = 1 << 20;
const MAX_SUBKEYS: usize = 1 << 16;
const MAX_VALUES: usize = 1 << 16;
/// The largest cell we read: value data, or a list of MAX_SUBKEYS.
const MAX_CELL: usize = MAX_DATA + 8;
/// Key and value names longer than this (in bytes; Windows allows 255
/// characters for keys) make the key or value unreadable.
const MAX_NAME: usize = 2048;
/// What one open hive may read in all, in units of one cell read per
/// 4 KiB (plus one): bounds the time a hostile hive can take.
const READ_BUDGET: u64 = 1 << 19;
/// Data above this size is split in "db" segments (hive version 1.4+).
const BIG_DATA_SEGMENT: usize = 16344;
const KEY_COMP_NAME: u16 = 0x0020;
const VALUE_COMP_NAME: u16 = 0x0001;

/// A string (UTF-16LE).
pub const REG_SZ: u32 = 1;
/// A string with `%VARIABLE%` references (UTF-16LE).
pub const REG_EXPAND_SZ: u32 = 2;
/// Raw bytes (MountedDevices' disk blobs).
pub const REG_BINARY: u32 = 3;
/// A 32-bit number, little-endian.
pub const REG_DWORD: u32 = 4;
/// A 32-bit number, big-endian.
pub const REG_DWORD_BIG_ENDIAN: u32 = 5;
/// NUL-separated strings (UTF-16LE).
pub const REG_MULTI_SZ: u32 = 7;
/// A 64-bit number, little-endian.
pub const REG_QWORD: u32 = 11;

/// Why a hive (or a part of it) cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("registry hive: {0}")]
pub struct HiveError(pub &'static str);

/// A hive read's result.
pub type Result<T> = std::result::Result<T, HiveError>;

fn bad<T>(why: &'static str) -> Result<T> {
    Err(HiveError(why))
}

/// An open hive.
pub struct Hive<'a> {
    src: &'a dyn ReadAt,
    bins_len: u32,
    root: u32,
    budget: Cell<u64>,
}

/// A key ("nk" cell).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key {
    /// The key's name (not its path).
    pub name: String,
    subkey_count: u32,
    subkey_list: u32,
    value_count: u32,
    value_list: u32,
}

/// A value's "vk" cell: its name and where its data is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValueRef {
    /// The value's name ("" for the key's default value).
    pub name: String,
    /// Its type: `REG_SZ`, `REG_DWORD`…
    pub data_type: u32,
    size: u32,
    data_off: u32,
}

/// A value and its data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Value {
    /// The value's name ("" for the key's default value).
    pub name: String,
    /// Its type: `REG_SZ`, `REG_DWORD`…
    pub data_type: u32,
    /// Its data, at most 1 MiB.
    pub data: Vec<u8>,
}

impl Value {
    /// REG_SZ and REG_EXPAND_SZ (UTF-16LE up to the first NUL); the
    /// first string of a REG_MULTI_SZ.
    pub fn string(&self) -> Option<String> {
        if !matches!(self.data_type, REG_SZ | REG_EXPAND_SZ | REG_MULTI_SZ) {
            return None;
        }
        let units: Vec<u16> = self
            .data
            .chunks_exact(2)
            .map(|p| u16::from_le_bytes([p[0], p[1]]))
            .take_while(|&u| u != 0)
            .collect();
        Some(String::from_utf16_lossy(&units))
    }

    /// REG_DWORD (either byte order) and the low half of a REG_QWORD.
    pub fn dword(&self) -> Option<u32> {
        match self.data_type {
            REG_DWORD | REG_QWORD => le32(&self.data, 0),
            REG_DWORD_BIG_ENDIAN => be32(&self.data, 0),
            _ => None,
        }
    }
}

/// Registry names compare case-insensitively.
pub fn names_equal(a: &str, b: &str) -> bool {
    a.chars()
        .flat_map(char::to_uppercase)
        .eq(b.chars().flat_map(char::to_uppercase))
}

/// The base block's checksum: XOR of its first 127 dwords, never 0 or -1.
pub fn header_checksum(base: &[u8]) -> u32 {
    let x = (0..127).fold(0u32, |acc, i| acc ^ le32(base, i * 4).unwrap_or(0));
    match x {
        0xFFFF_FFFF => 0xFFFF_FFFE,
        0 => 1,
        x => x,
    }
}

fn name_from(raw: &[u8], compressed: bool) -> String {
    if compressed {
        raw.iter().map(|&b| char::from(b)).collect()
    } else {
        let units: Vec<u16> = raw
            .chunks_exact(2)
            .map(|p| u16::from_le_bytes([p[0], p[1]]))
            .collect();
        String::from_utf16_lossy(&units)
    }
}

impl<'a> Hive<'a> {
    /// Checks the base block (signature, checksum, version, sizes).
    pub fn new(src: &'a dyn ReadAt) -> Result<Hive<'a>> {
        let Some(base) = read_exact_at(src, 0, 512) else {
            return bad("shorter than its base block");
        };
        if base.get(0..4) != Some(b"regf") {
            return bad("no regf signature");
        }
        if le32(&base, 0x1FC) != Some(header_checksum(&base)) {
            return bad("base block checksum mismatch");
        }
        let field = |off| le32(&base, off).ok_or(HiveError("short base block"));
        let (major, minor) = (field(0x14)?, field(0x18)?);
        if major != 1 || !(2..=6).contains(&minor) {
            return bad("unsupported hive version");
        }
        if field(0x1C)? != 0 || field(0x20)? != 1 {
            return bad("not a primary hive file");
        }
        let (root, bins_len) = (field(0x24)?, field(0x28)?);
        if bins_len == 0 || bins_len % 4096 != 0 {
            return bad("bad hive bins size");
        }
        if BASE_BLOCK + u64::from(bins_len) > src.size() {
            return bad("truncated: the file is shorter than its hive bins");
        }
        Ok(Hive {
            src,
            bins_len,
            root,
            budget: Cell::new(READ_BUDGET),
        })
    }

    /// The body of the allocated cell at `off` (without its size field).
    fn cell(&self, off: u32) -> Result<Vec<u8>> {
        self.cell_prefix(off, MAX_CELL)
    }

    /// Up to `max` bytes of the cell's body.
    fn cell_prefix(&self, off: u32, max: usize) -> Result<Vec<u8>> {
        let in_bins = |end: u64| end <= u64::from(self.bins_len);
        if off & 7 != 0 || !in_bins(u64::from(off) + 4) {
            return bad("cell offset out of range");
        }
        let start = BASE_BLOCK + u64::from(off);
        let Some(size) = read_exact_at(self.src, start, 4) else {
            return bad("unreadable cell");
        };
        let size = i32::from_le_bytes([size[0], size[1], size[2], size[3]]);
        if size >= 0 {
            return bad("reference to a free cell");
        }
        let len = size.unsigned_abs() as usize;
        if len < 4 || !in_bins(u64::from(off) + len as u64) {
            return bad("bad cell size");
        }
        let want = (len - 4).min(max);
        let cost = 1 + want as u64 / 4096;
        let left = self.budget.get();
        if left < cost {
            return bad("too big or too tangled to inspect (read budget spent)");
        }
        self.budget.set(left - cost);
        read_exact_at(self.src, start + 4, want).ok_or(HiveError("unreadable cell"))
    }

    /// The root key.
    pub fn root(&self) -> Result<Key> {
        self.key_at(self.root)
    }

    fn key_at(&self, off: u32) -> Result<Key> {
        let c = self.cell_prefix(off, 76 + MAX_NAME)?;
        if c.get(0..2) != Some(b"nk") {
            return bad("key cell without nk signature");
        }
        let f = |o| le32(&c, o).ok_or(HiveError("short key cell"));
        let flags = le16(&c, 2).unwrap_or(0);
        let name_len = usize::from(le16(&c, 72).unwrap_or(0));
        let Some(raw) = c.get(76..76 + name_len) else {
            return bad("key name out of its cell");
        };
        Ok(Key {
            name: name_from(raw, flags & KEY_COMP_NAME != 0),
            subkey_count: f(20)?,
            subkey_list: f(28)?,
            value_count: f(36)?,
            value_list: f(40)?,
        })
    }

    /// The nk offsets of a key's subkeys.
    fn subkey_offsets(&self, key: &Key) -> Result<Vec<u32>> {
        if key.subkey_count == 0 {
            return Ok(Vec::new());
        }
        let list = self.cell(key.subkey_list)?;
        let mut out = Vec::new();
        if list.get(0..2) == Some(b"ri") {
            for sub in list_entries(&list, 4)? {
                let leaf = self.cell(sub)?;
                if leaf.get(0..2) == Some(b"ri") {
                    return bad("nested ri subkey lists");
                }
                out.extend(leaf_entries(&leaf)?);
                if out.len() > MAX_SUBKEYS {
                    return bad("too many subkeys");
                }
            }
        } else {
            out = leaf_entries(&list)?;
        }
        Ok(out)
    }

    /// A key's subkeys, in the hive's order.
    pub fn subkeys(&self, key: &Key) -> Result<Vec<Key>> {
        let offsets = self.subkey_offsets(key)?;
        offsets.into_iter().map(|o| self.key_at(o)).collect()
    }

    /// A direct subkey by name (case-insensitive).
    pub fn subkey(&self, key: &Key, name: &str) -> Result<Option<Key>> {
        for off in self.subkey_offsets(key)? {
            let sub = self.key_at(off)?;
            if names_equal(&sub.name, name) {
                return Ok(Some(sub));
            }
        }
        Ok(None)
    }

    /// A key by its path from the root, `\`-separated.
    pub fn open(&self, path: &str) -> Result<Option<Key>> {
        let mut key = self.root()?;
        for part in path.split('\\').filter(|p| !p.is_empty()) {
            match self.subkey(&key, part)? {
                Some(sub) => key = sub,
                None => return Ok(None),
            }
        }
        Ok(Some(key))
    }

    /// The values of a key, without their data.
    pub fn values(&self, key: &Key) -> Result<Vec<ValueRef>> {
        if key.value_count == 0 {
            return Ok(Vec::new());
        }
        let count = key.value_count as usize;
        if count > MAX_VALUES {
            return bad("too many values");
        }
        let list = self.cell(key.value_list)?;
        (0..count)
            .map(|i| {
                let off = le32(&list, i * 4).ok_or(HiveError("value list out of its cell"))?;
                self.value_ref(off)
            })
            .collect()
    }

    /// A value by name (case-insensitive; "" is the default value).
    pub fn value(&self, key: &Key, name: &str) -> Result<Option<Value>> {
        let refs = self.values(key)?;
        find(&refs, name).map(|r| self.read_value(r)).transpose()
    }

    fn value_ref(&self, off: u32) -> Result<ValueRef> {
        let c = self.cell_prefix(off, 20 + MAX_NAME)?;
        if c.get(0..2) != Some(b"vk") {
            return bad("value cell without vk signature");
        }
        let f = |o| le32(&c, o).ok_or(HiveError("short value cell"));
        let name_len = usize::from(le16(&c, 2).unwrap_or(0));
        let flags = le16(&c, 16).unwrap_or(0);
        let Some(raw) = c.get(20..20 + name_len) else {
            return bad("value name out of its cell");
        };
        Ok(ValueRef {
            name: name_from(raw, flags & VALUE_COMP_NAME != 0),
            size: f(4)?,
            data_off: f(8)?,
            data_type: f(12)?,
        })
    }

    /// A value's data.
    pub fn read_value(&self, r: &ValueRef) -> Result<Value> {
        let len = (r.size & 0x7FFF_FFFF) as usize;
        let data = if r.size & 0x8000_0000 != 0 {
            // Up to 4 bytes stored in the offset field itself.
            r.data_off
                .to_le_bytes()
                .get(..len.min(4))
                .unwrap_or_default()
                .to_vec()
        } else if len == 0 {
            Vec::new()
        } else if len > MAX_DATA {
            return bad("value data too big");
        } else {
            self.data(r.data_off, len)?
        };
        Ok(Value {
            name: r.name.clone(),
            data_type: r.data_type,
            data,
        })
    }

    /// `len` bytes of value data: one cell, or "db" segments.
    fn data(&self, off: u32, len: usize) -> Result<Vec<u8>> {
        let cell = self.cell(off)?;
        if len > BIG_DATA_SEGMENT && cell.get(0..2) == Some(b"db") {
            let count = usize::from(le16(&cell, 2).unwrap_or(0));
            let list = self.cell(le32(&cell, 4).ok_or(HiveError("short db cell"))?)?;
            let mut out = Vec::with_capacity(len);
            for i in 0..count {
                if out.len() >= len {
                    break;
                }
                let seg_off = le32(&list, i * 4).ok_or(HiveError("db list out of its cell"))?;
                let seg = self.cell_prefix(seg_off, BIG_DATA_SEGMENT)?;
                let take = (len - out.len()).min(seg.len()).min(BIG_DATA_SEGMENT);
                out.extend_from_slice(seg.get(..take).unwrap_or_default());
            }
            if out.len() < len {
                return bad("big data shorter than its size");
            }
            return Ok(out);
        }
        match cell.get(..len) {
            Some(d) => Ok(d.to_vec()),
            None => bad("value data out of its cell"),
        }
    }
}

/// A value of `refs` by name (case-insensitive).
pub fn find<'r>(refs: &'r [ValueRef], name: &str) -> Option<&'r ValueRef> {
    refs.iter().find(|r| names_equal(&r.name, name))
}

/// The offsets in an "ri" or "li" list (`stride` 4) or lf/lh (8).
fn list_entries(list: &[u8], stride: usize) -> Result<Vec<u32>> {
    let count = usize::from(le16(list, 2).unwrap_or(0));
    if count > MAX_SUBKEYS {
        return bad("too many subkeys");
    }
    (0..count)
        .map(|i| le32(list, 4 + i * stride).ok_or(HiveError("subkey list out of its cell")))
        .collect()
}

fn leaf_entries(list: &[u8]) -> Result<Vec<u32>> {
    match list.get(0..2) {
        Some(b"li") => list_entries(list, 4),
        Some(b"lf") | Some(b"lh") => list_entries(list, 8),
        _ => bad("unknown subkey list type"),
    }
}
