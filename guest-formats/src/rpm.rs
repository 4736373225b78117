//! rpm package headers, as stored in the rpm database (one blob per
//! package): an index of tagged entries, then a data store. The blob is
//! hostile input: every count, offset and string is checked against the
//! blob, and strings are capped. The `rpm_db` fuzz target runs it on
//! arbitrary bytes.

use crate::bytes::be32;

pub(crate) const TAG_NAME: u32 = 1000;
pub(crate) const TAG_VERSION: u32 = 1001;
pub(crate) const TAG_RELEASE: u32 = 1002;
pub(crate) const TAG_EPOCH: u32 = 1003;
pub(crate) const TAG_SUMMARY: u32 = 1004;
pub(crate) const TAG_DESCRIPTION: u32 = 1005;
pub(crate) const TAG_URL: u32 = 1020;
pub(crate) const TAG_ARCH: u32 = 1022;
pub(crate) const TAG_SOURCERPM: u32 = 1044;

pub(crate) const TYPE_INT32: u32 = 4;
pub(crate) const TYPE_STRING: u32 = 6;
const TYPE_STRING_ARRAY: u32 = 8;
pub(crate) const TYPE_I18NSTRING: u32 = 9;

/// rpm's own limits (header.c: hdrchkTags, hdrchkData).
const MAX_ENTRIES: usize = 0xFFFF;
const MAX_DATA: usize = 256 << 20;
/// Longer strings are cut (descriptions are a few KiB).
const MAX_STRING: usize = 64 << 10;
/// A header file (not a database blob) starts with this magic.
const HEADER_MAGIC: [u8; 8] = [0x8e, 0xad, 0xe8, 0x01, 0, 0, 0, 0];

/// What inspection reports about one installed package ("" or 0 for a
/// tag the header lacks).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RpmPackage {
    /// NAME.
    pub name: String,
    /// EPOCH.
    pub epoch: i64,
    /// VERSION.
    pub version: String,
    /// RELEASE.
    pub release: String,
    /// ARCH.
    pub arch: String,
    /// URL.
    pub url: String,
    /// SOURCERPM: the source package's file name.
    pub sourcerpm: String,
    /// SUMMARY (its first language).
    pub summary: String,
    /// DESCRIPTION (its first language).
    pub description: String,
}

/// Why a header blob cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("rpm header: {0}")]
pub struct RpmError(pub &'static str);

/// Parses one header blob; an error says what is wrong with it.
pub fn parse_header(blob: &[u8]) -> Result<RpmPackage, RpmError> {
    let blob = blob.strip_prefix(&HEADER_MAGIC[..]).unwrap_or(blob);
    let short = RpmError("header shorter than 8 bytes");
    let il = be32(blob, 0).ok_or(short.clone())? as usize;
    let dl = be32(blob, 4).ok_or(short)? as usize;
    if il == 0 || il > MAX_ENTRIES || dl > MAX_DATA {
        return Err(RpmError("header index or data size out of range"));
    }
    let store_start = 8 + il * 16;
    let store = blob
        .get(store_start..store_start + dl)
        .ok_or(RpmError("header shorter than its index and data"))?;
    let mut pkg = RpmPackage::default();
    let mut have_name = false;
    for i in 0..il {
        let entry = |field: usize| be32(blob, 8 + i * 16 + field * 4);
        let (Some(tag), Some(ty), Some(offset), Some(count)) =
            (entry(0), entry(1), entry(2), entry(3))
        else {
            return Err(RpmError("header index truncated"));
        };
        let offset = offset as usize;
        let text = || string_at(store, ty, offset, count);
        match tag {
            TAG_NAME => {
                pkg.name = text().ok_or(RpmError("bad NAME"))?;
                have_name = true;
            }
            TAG_VERSION => pkg.version = text().unwrap_or_default(),
            TAG_RELEASE => pkg.release = text().unwrap_or_default(),
            TAG_SUMMARY => pkg.summary = text().unwrap_or_default(),
            TAG_DESCRIPTION => pkg.description = text().unwrap_or_default(),
            TAG_URL => pkg.url = text().unwrap_or_default(),
            TAG_ARCH => pkg.arch = text().unwrap_or_default(),
            TAG_SOURCERPM => pkg.sourcerpm = text().unwrap_or_default(),
            TAG_EPOCH if ty == TYPE_INT32 && count >= 1 && offset & 3 == 0 => {
                pkg.epoch = i64::from(be32(store, offset).ok_or(RpmError("bad EPOCH"))?);
            }
            _ => {}
        }
    }
    if !have_name || pkg.name.is_empty() {
        return Err(RpmError("header without a NAME"));
    }
    Ok(pkg)
}

/// The (first) string of a STRING, STRING_ARRAY or I18NSTRING entry.
fn string_at(store: &[u8], ty: u32, offset: usize, count: u32) -> Option<String> {
    if !matches!(ty, TYPE_STRING | TYPE_STRING_ARRAY | TYPE_I18NSTRING) || count == 0 {
        return None;
    }
    let rest = store.get(offset..)?;
    let end = rest.iter().position(|&b| b == 0)?;
    let bytes = rest.get(..end.min(MAX_STRING))?;
    Some(String::from_utf8_lossy(bytes).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::rpm::build_header;

    #[test]
    fn parses_a_header() {
        let blob = build_header(
            &[
                (TAG_NAME, "bash"),
                (TAG_VERSION, "5.2.26"),
                (TAG_RELEASE, "3.fc40"),
                (TAG_ARCH, "x86_64"),
                (TAG_SUMMARY, "The GNU Bourne Again shell"),
                (TAG_URL, "https://www.gnu.org/software/bash"),
                (TAG_SOURCERPM, "bash-5.2.26-3.fc40.src.rpm"),
            ],
            Some(2),
        );
        let p = parse_header(&blob).unwrap();
        assert_eq!(p.name, "bash");
        assert_eq!(p.epoch, 2);
        assert_eq!(p.version, "5.2.26");
        assert_eq!(p.release, "3.fc40");
        assert_eq!(p.arch, "x86_64");
        assert_eq!(p.summary, "The GNU Bourne Again shell");
        assert_eq!(p.sourcerpm, "bash-5.2.26-3.fc40.src.rpm");
        let mut with_magic = HEADER_MAGIC.to_vec();
        with_magic.extend_from_slice(&blob);
        assert_eq!(parse_header(&with_magic).unwrap(), p);
    }

    #[test]
    fn hostile_headers_are_errors() {
        let blob = build_header(&[(TAG_NAME, "x")], None);
        for cut in 0..blob.len() {
            assert!(parse_header(&blob[..cut]).is_err(), "cut at {cut}");
        }
        // A string offset past the store, counts and sizes out of range.
        let mut bad = blob.clone();
        bad[16..20].copy_from_slice(&1000u32.to_be_bytes());
        assert!(parse_header(&bad).is_err());
        let mut huge = blob.clone();
        huge[0..4].copy_from_slice(&u32::MAX.to_be_bytes());
        assert!(parse_header(&huge).is_err());
        // A string without its NUL.
        let mut unterminated = blob;
        let last = unterminated.len() - 1;
        unterminated[last] = b'y';
        assert!(parse_header(&unterminated).is_err());
    }
}
