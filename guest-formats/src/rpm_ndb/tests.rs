//! The reader against `Packages.db` files holding real rpm headers
//! (written by fixtures::ndb as rpmpkg.c lays them out), compared with
//! what rpm lists of the same headers; then the files damaged.

use super::*;
use crate::fixtures::ndb::{adler32, ndb_packages};
use crate::fixtures::rpmdb::{package_line, real_headers, real_listing};
use crate::rpm::parse_header;

/// Package lines, and the number of unreadable blobs.
fn walk(bytes: &[u8]) -> Result<(Vec<String>, usize)> {
    let src: &[u8] = bytes;
    let db = PackagesDb::open(&src)?;
    let (mut lines, mut bad) = (Vec::new(), 0);
    db.for_each_header(&mut |_, blob| {
        match blob.map(parse_header) {
            Ok(Ok(p)) => lines.push(package_line(&p)),
            _ => bad += 1,
        }
        true
    })?;
    lines.sort();
    Ok((lines, bad))
}

#[test]
fn reads_the_real_headers_over_one_or_more_slot_pages() {
    for slot_pages in [1, 3] {
        let file = ndb_packages(real_headers(), slot_pages);
        assert_eq!(walk(&file), Ok((real_listing().to_vec(), 0)));
        let src: &[u8] = &file;
        assert_eq!(PackagesDb::open(&src).unwrap().len(), real_headers().len());
    }
    // An empty database: a slot page, no packages.
    let empty = ndb_packages(&[], 1);
    assert_eq!(walk(&empty), Ok((Vec::new(), 0)));
}

#[test]
fn the_fixture_checksum_is_rfc_1950s() {
    assert_eq!(adler32(b"Wikipedia"), 0x11E6_0398);
}

/// The file and the offset of its first used slot.
fn sample() -> (Vec<u8>, usize) {
    let file = ndb_packages(real_headers(), 1);
    let slot = (32..4096)
        .step_by(16)
        .find(|&at| file[at + 8..at + 12] != [0; 4])
        .unwrap();
    (file, slot)
}

fn set(bytes: &mut [u8], at: usize, v: u32) {
    bytes[at..at + 4].copy_from_slice(&v.to_le_bytes());
}

#[test]
fn truncated_files_and_bad_headers_are_errors() {
    let (file, _) = sample();
    for cut in (0..file.len()).step_by(61) {
        assert!(walk(&file[..cut]).is_err(), "cut at {cut}");
    }
    for (at, v) in [(0, 0), (4, 1), (12, 0), (12, 2), (12, u32::MAX)] {
        let mut bad = file.clone();
        set(&mut bad, at, v);
        assert!(walk(&bad).is_err(), "header field {at} = {v}");
    }
}

#[test]
fn bad_slots_are_errors() {
    let (file, slot) = sample();
    let blocks = (file.len() / 16) as u32;
    for (field, v) in [(0, 0), (4, 0), (8, 1), (8, blocks), (12, 0), (12, u32::MAX)] {
        let mut bad = file.clone();
        set(&mut bad, slot + field, v);
        assert!(walk(&bad).is_err(), "slot field {field} = {v}");
    }
    // A free slot without its magic, as rpm sees it: the file is bad.
    let mut bad = file.clone();
    bad[4096 - 16..4096 - 12].copy_from_slice(b"Sl0t");
    assert_eq!(walk(&bad), Err(NdbError("bad slot magic")));
}

#[test]
fn bad_blobs_are_skipped_and_overlaps_bounded() {
    let (file, slot) = sample();
    let blob = u32::from_le_bytes(file[slot + 8..slot + 12].try_into().unwrap()) as usize * 16;
    let n = real_headers().len();
    for (at, v) in [(0, 0), (4, 99), (12, 0), (12, u32::MAX)] {
        let mut bad = file.clone();
        set(&mut bad, blob + at, v);
        let (lines, skipped) = walk(&bad).unwrap();
        assert_eq!((lines.len(), skipped), (n - 1, 1), "blob head {at} = {v}");
    }
    // A damaged trailer.
    let cnt = u32::from_le_bytes(file[slot + 12..slot + 16].try_into().unwrap()) as usize;
    let mut bad = file.clone();
    bad[blob + cnt * 16 - 1] ^= 0xff;
    assert_eq!(walk(&bad).unwrap().1, 1);
    // Every slot naming the whole data area: reads stop at the file size.
    let mut bad = file.clone();
    let data_blocks = (file.len() / 16 - 256) as u32;
    for at in (32..4096).step_by(16) {
        set(&mut bad, at + 4, 1);
        set(&mut bad, at + 8, 256);
        set(&mut bad, at + 12, data_blocks);
    }
    assert!(walk(&bad).is_err());
}

#[test]
fn flipped_bytes_never_panic() {
    let (file, _) = sample();
    for at in (0..file.len()).step_by(5) {
        for flip in [0x01, 0x80, 0xff] {
            let mut bad = file.clone();
            bad[at] ^= flip;
            let _ = walk(&bad);
        }
    }
}
