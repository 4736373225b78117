//! Corrupt tables, forged or random: every call gives an error or an
//! answer, never a panic (this is PID 1).

use protocol::ErrorKind;

use super::errors::refused;
use super::*;
use crate::daemon::parts::disk::crc32;

/// Rewrites the GPT header at `lba` with `edit` applied, its CRC made good
/// again (a corruption the crate's checksum does not catch).
fn forge_header(s: &Scratch, lba: u64, edit: impl FnOnce(&mut [u8])) {
    let mut h = s.read(lba * 512, 92);
    edit(&mut h);
    h[16..20].fill(0);
    let crc = crc32(&h);
    h[16..20].copy_from_slice(&crc.to_le_bytes());
    s.write(lba * 512, &h);
}

/// What a forged header should be refused for, and the forgery.
type Edit = (&'static str, fn(&mut [u8]));

fn gpt_with_partition(s: &Scratch) -> (u64, u64) {
    whole(&s.dev(), "gpt").unwrap();
    (1, s.sectors() - 1)
}

#[test]
fn parts_corrupt_gpt_gives_errors() {
    let s = Scratch::new(8);
    let dev = s.dev();
    let (primary, backup) = gpt_with_partition(&s);
    // Garbage over the primary header: the backup one serves, and a change
    // writes both again.
    s.write(512, &[0xa5; 512]);
    assert_eq!(list(&dev).unwrap().len(), 1);
    add(&dev, "p", 34, 2047).unwrap();
    assert_eq!(list(&dev).unwrap().len(), 2);
    assert_eq!(&s.read(512, 8), b"EFI PART");
    // Garbage over both: an error.
    s.write(512, &[0xa5; 512]);
    s.write(backup * 512, &[0x5a; 512]);
    refused(list(&dev), ErrorKind::Other, "cannot read the GPT");
    refused(
        add(&dev, "p", 34, 100),
        ErrorKind::Other,
        "cannot read the GPT",
    );
    assert_eq!(
        parttype(&dev).unwrap(),
        "gpt",
        "the protective MBR still says so"
    );
    // Headers with good checksums and impossible values.
    let edits: [Edit; 8] = [
        ("entry size", |h| {
            h[84..88].copy_from_slice(&64u32.to_le_bytes())
        }),
        ("entries", |h| {
            h[80..84].copy_from_slice(&u32::MAX.to_le_bytes())
        }),
        ("entries", |h| h[80..84].fill(0)),
        ("usable sectors", |h| h[40..48].fill(0)),
        ("usable sectors", |h| {
            h[48..56].copy_from_slice(&u64::MAX.to_le_bytes())
        }),
        ("header sectors", |h| {
            h[24..32].copy_from_slice(&u64::MAX.to_le_bytes())
        }),
        ("header sectors", |h| {
            h[32..40].copy_from_slice(&(1u64 << 62).to_le_bytes())
        }),
        ("entry array", |h| {
            h[72..80].copy_from_slice(&(u64::MAX / 256).to_le_bytes())
        }),
    ];
    for (words, edit) in edits {
        gpt_with_partition(&s);
        forge_header(&s, primary, edit);
        refused(list(&dev), ErrorKind::Other, words);
        refused(set_bootable(&dev, 1, true), ErrorKind::Other, words);
    }
    // A partition entry outside the usable sectors, checksums good.
    gpt_with_partition(&s);
    let mut entries = s.read(2 * 512, 128 * 128);
    entries[32..40].copy_from_slice(&5u64.to_le_bytes());
    s.write(2 * 512, &entries);
    let crc = crc32(&entries);
    forge_header(&s, primary, |h| {
        h[88..92].copy_from_slice(&crc.to_le_bytes())
    });
    s.write(backup * 512, &[0; 512]);
    refused(
        list(&dev),
        ErrorKind::Other,
        "not within the usable sectors",
    );
    // The entry array's checksum wrong.
    gpt_with_partition(&s);
    s.write(2 * 512 + 56, b"x");
    s.write(backup * 512, &[0; 512]);
    refused(list(&dev), ErrorKind::Other, "CRC");
}

#[test]
fn parts_corrupt_mbr_gives_errors() {
    let s = Scratch::new(8);
    let dev = s.dev();
    let entry = |s: &Scratch, i: usize, sys: u8, start: u32, size: u32| {
        let mut e = [0u8; 16];
        e[4] = sys;
        e[8..12].copy_from_slice(&start.to_le_bytes());
        e[12..16].copy_from_slice(&size.to_le_bytes());
        s.write(446 + 16 * i as u64, &e);
    };
    let cases: [(u8, u32, u32, &str); 4] = [
        (0x83, 0, 100, "start sector 0"),
        (0x83, 100, 0, "0 sectors"),
        (0x83, u32::MAX - 10, 100, "100 sectors"),
        (0x05, u32::MAX, 2, "start sector"),
    ];
    for (sys, start, size, words) in cases {
        init(&dev, "mbr").unwrap();
        entry(&s, 0, sys, start, size);
        refused(list(&dev), ErrorKind::Other, words);
        refused(add(&dev, "p", 5000, 6000), ErrorKind::Other, words);
    }
    init(&dev, "mbr").unwrap();
    s.write(446, &[0x7f]);
    refused(list(&dev), ErrorKind::Other, "cannot read the MBR");
    // EBR chains: backwards (a loop), overflowing, broken.
    let link = |s: &Scratch, ebr: u64, next: u32| {
        let mut e = [0u8; 16];
        e[4] = 0x05;
        e[8..12].copy_from_slice(&next.to_le_bytes());
        e[12..16].copy_from_slice(&100u32.to_le_bytes());
        s.write(ebr * 512 + 446 + 16, &e);
    };
    let chain = |s: &Scratch| {
        init(&s.dev(), "mbr").unwrap();
        add(&s.dev(), "e", 2048, 16000).unwrap();
        add(&s.dev(), "l", 2050, 3000).unwrap();
        add(&s.dev(), "l", 4000, 5000).unwrap();
    };
    chain(&s);
    link(&s, 3999, 1);
    refused(list(&dev), ErrorKind::Other, "goes backwards");
    chain(&s);
    link(&s, 3999, u32::MAX - 100);
    refused(list(&dev), ErrorKind::Other, "beyond sector 2^32");
    chain(&s);
    link(&s, 3999, 10000);
    refused(list(&dev), ErrorKind::Other, "no valid EBR at sector 12048");
    chain(&s);
    s.write(3999 * 512 + 446 + 8, &u32::MAX.to_le_bytes());
    refused(list(&dev), ErrorKind::Other, "starts beyond sector 2^32");
    // A garbage first EBR is an empty extended partition.
    chain(&s);
    s.write(2048 * 512, &[0x11; 512]);
    assert_eq!(
        list(&dev)
            .unwrap()
            .iter()
            .map(|p| p.part_num)
            .collect::<Vec<_>>(),
        [1]
    );
}

/// Random bytes over the table sectors, and random values in headers with
/// good checksums: every call answers, none panics.
#[test]
fn parts_random_corruption_never_panics() {
    let s = Scratch::new(4);
    let dev = s.dev();
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let values =
        |n: u64, r: u64| [0, 1, 2, 33, 34, n - 34, n - 1, n, n + 1, u64::MAX, r][(r % 11) as usize];
    let n = s.sectors();
    for round in 0..150 {
        if round % 2 == 0 {
            gpt_with_partition(&s);
            for _ in 0..3 {
                let field = [24, 32, 40, 48, 72, 80, 84][(next() % 7) as usize];
                let v = values(n, next());
                let lba = if next() % 3 == 0 { n - 1 } else { 1 };
                forge_header(&s, lba, |h| {
                    let len = if field >= 80 { 4 } else { 8 };
                    h[field..field + len].copy_from_slice(&v.to_le_bytes()[..len]);
                });
            }
        } else {
            init(&dev, if round % 4 == 1 { "mbr" } else { "gpt" }).unwrap();
            let garbage: Vec<u8> = (0..64).map(|_| next() as u8).collect();
            let at = [446, 446 + 8, 446 + 16, 512 + 24, 512 + 72, 1024, 1024 + 32]
                [(next() % 7) as usize];
            s.write(at, &garbage);
            s.write(510, &[0x55, 0xaa]);
        }
        let _ = list(&dev);
        let _ = parttype(&dev);
        let _ = add(&dev, "p", 34, 60);
        let _ = add(&dev, "l", 3000, 3500);
        let _ = del(&dev, 1);
        let _ = set_bootable(&dev, 1, true);
        let _ = set_name(&dev, 1, "n");
    }
}
