//! The reader against `Packages` files made by db5.3_load from real rpm
//! headers, checked against what rpm's own bdb_ro backend lists; then
//! the same files damaged.

use super::*;
use crate::fixtures::rpmdb::{
    bdb_packages, package_line, real_headers, real_listing, rpm_query, scratch_dir,
};
use crate::rpm::parse_header;

/// The packages as [`crate::fixtures::rpmdb::QUERY_FORMAT`] prints them.
fn listed(bytes: &[u8]) -> Result<Vec<String>> {
    let mut lines = Vec::new();
    let src: &[u8] = bytes;
    HashDb::open(&src)?.for_each_header(&mut |_, blob| {
        lines.push(package_line(
            &parse_header(blob).expect("a real header parses"),
        ));
        true
    })?;
    lines.sort();
    Ok(lines)
}

#[test]
fn reads_what_rpm_reads_in_every_page_size_and_byte_order() {
    let headers = real_headers();
    assert!(
        headers.iter().any(|h| h.1.len() > 16 << 10),
        "a multi-page header"
    );
    for page_size in [512, 1024, 4096, 8192, 65536] {
        for big_endian in [false, true] {
            let dir = scratch_dir("bdb");
            let file = bdb_packages(&dir, headers, page_size, big_endian);
            let bytes = std::fs::read(&file).unwrap();
            let expected = rpm_query(&dir, "bdb_ro");
            assert_eq!(expected, real_listing());
            let what = format!("page size {page_size}, big-endian {big_endian}");
            assert_eq!(listed(&bytes).unwrap(), expected, "{what}");
            let src: &[u8] = &bytes;
            let db = HashDb::open(&src).unwrap();
            assert_eq!(db.big_endian(), big_endian);
            // Record 0 (rpm's counter) is a pair of the hash, not a package.
            let mut pairs = 0;
            db.for_each(&mut |_, _| {
                pairs += 1;
                true
            })
            .unwrap();
            assert_eq!(pairs, headers.len() + 1, "{what}");
            let _ = std::fs::remove_dir_all(&dir);
        }
    }
}

/// A little-endian 512-byte-page file, and the numbers of its first
/// overflow page and of the bucket page holding a reference to it.
fn sample() -> (Vec<u8>, usize, usize) {
    let dir = scratch_dir("bdb-bad");
    let bytes = std::fs::read(bdb_packages(&dir, real_headers(), 512, false)).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    let pages = bytes.len() / 512;
    let kind = |p: usize| bytes[p * 512 + 25];
    let overflow = (1..pages).find(|&p| kind(p) == P_OVERFLOW).unwrap();
    let bucket = (1..pages).find(|&p| kind(p) == P_HASH).unwrap();
    (bytes, overflow, bucket)
}

fn walk(bytes: &[u8]) -> Result<usize> {
    let mut n = 0;
    let src: &[u8] = bytes;
    HashDb::open(&src)?.for_each_header(&mut |_, _| {
        n += 1;
        true
    })?;
    Ok(n)
}

#[test]
fn truncated_files_are_errors() {
    let (bytes, _, _) = sample();
    assert_eq!(walk(&bytes), Ok(real_headers().len()));
    for cut in (0..bytes.len()).step_by(97) {
        assert!(walk(&bytes[..cut]).is_err(), "cut at {cut}");
    }
}

#[test]
fn an_overflow_cycle_is_an_error() {
    let (mut bytes, overflow, _) = sample();
    let at = overflow * 512 + 16;
    bytes[at..at + 4].copy_from_slice(&(overflow as u32).to_le_bytes());
    assert_eq!(walk(&bytes), Err(BdbError("page chain loops")));
    // A chain of overflow pages of length 0 never ends either.
    let (mut bytes, overflow, _) = sample();
    bytes[overflow * 512 + 22..overflow * 512 + 24].fill(0);
    assert!(walk(&bytes).is_err());
}

#[test]
fn a_bucket_chain_cycle_is_an_error() {
    let (mut bytes, _, bucket) = sample();
    let at = bucket * 512 + 16;
    bytes[at..at + 4].copy_from_slice(&(bucket as u32).to_le_bytes());
    assert_eq!(walk(&bytes), Err(BdbError("page chain loops")));
}

#[test]
fn offsets_out_of_the_page_and_huge_lengths_are_errors() {
    let (bytes, _, bucket) = sample();
    let base = bucket * 512;
    let mut bad = bytes.clone();
    bad[base + 26..base + 28].copy_from_slice(&600u16.to_le_bytes());
    assert_eq!(walk(&bad), Err(BdbError("item offset out of the page")));
    let mut bad = bytes.clone();
    bad[base + 20..base + 22].copy_from_slice(&u16::MAX.to_le_bytes());
    assert_eq!(walk(&bad), Err(BdbError("bad entry count")));
    // Every H_OFFPAGE item of the page claims 4 GiB, then 1 MiB more than
    // the chain holds.
    let page = bytes[base..base + 512].to_vec();
    let offpage: Vec<usize> = (0..usize::from(u16::from_le_bytes([page[20], page[21]])))
        .map(|i| usize::from(u16::from_le_bytes([page[26 + 2 * i], page[27 + 2 * i]])))
        .filter(|&o| page[o] == H_OFFPAGE)
        .collect();
    assert!(!offpage.is_empty());
    for tlen in [u32::MAX, 1 << 20] {
        let mut bad = bytes.clone();
        for o in &offpage {
            bad[base + o + 8..base + o + 12].copy_from_slice(&tlen.to_le_bytes());
        }
        assert!(walk(&bad).is_err(), "tlen {tlen}");
    }
}

#[test]
fn bad_meta_pages_are_errors() {
    let (bytes, _, _) = sample();
    let set = |at: usize, v: u32| {
        let mut b = bytes.clone();
        b[at..at + 4].copy_from_slice(&v.to_le_bytes());
        b
    };
    assert!(walk(&set(12, 0x0005_3162)).is_err(), "a btree");
    assert!(walk(&set(20, 1000)).is_err(), "page size");
    assert!(walk(&set(32, u32::MAX)).is_err(), "last page");
    assert!(walk(&set(72, u32::MAX)).is_err(), "max bucket");
    assert!(walk(&set(96, u32::MAX)).is_err(), "spares");
}

#[test]
fn flipped_bytes_never_panic() {
    let (bytes, _, _) = sample();
    for at in (0..bytes.len()).step_by(7) {
        for flip in [0x01, 0x80, 0xff] {
            let mut bad = bytes.clone();
            bad[at] ^= flip;
            let _ = walk(&bad);
        }
    }
}
