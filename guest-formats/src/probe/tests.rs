//! The prober against blkid, on images made by the host's mkfs (and hand
//! made for NTFS, ISO 9660 and partition tables, which have no mkfs here),
//! and on corrupted images, which must never panic.

use std::fs::File;
use std::process::Command;

use super::common::HEAD;
use super::*;
use crate::FileSource;

/// A sparse image file of `mib` MiB, formatted with `mkfs args… <image>`.
fn mkfs_image(mib: u64, mkfs: &[&str]) -> tempfile::NamedTempFile {
    let image = tempfile::NamedTempFile::new().expect("temp image");
    image.as_file().set_len(mib << 20).expect("size the image");
    if let Some((cmd, args)) = mkfs.split_first() {
        let out = Command::new(cmd)
            .args(args)
            .arg(image.path())
            .output()
            .unwrap_or_else(|e| panic!("{cmd}: {e}"));
        assert!(
            out.status.success(),
            "{mkfs:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    image
}

/// blkid's low-level view: (TYPE or PTTYPE, LABEL, UUID).
fn blkid(path: &std::path::Path) -> (String, String, String) {
    let out = Command::new("blkid")
        .args(["-p", "-o", "export"])
        .arg(path)
        .output()
        .expect("blkid");
    let text = String::from_utf8_lossy(&out.stdout);
    let get = |key: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(key)?.strip_prefix('='))
            .unwrap_or_default()
            .replace("\\ ", " ")
    };
    let kind = if get("TYPE").is_empty() {
        get("PTTYPE")
    } else {
        get("TYPE")
    };
    (kind, get("LABEL"), get("UUID"))
}

fn ours(path: &std::path::Path) -> (String, String, String) {
    let image = FileSource::new(File::open(path).expect("open image")).expect("image size");
    match probe(&image).expect("probe") {
        Content::Filesystem(fs) => (fs.fstype.to_owned(), fs.label, fs.uuid),
        Content::PartitionTable(t) => (t.name().to_owned(), String::new(), String::new()),
        Content::Unknown => Default::default(),
    }
}

fn same_as_blkid(mib: u64, mkfs: &[&str], fstype: &str) -> tempfile::NamedTempFile {
    let image = mkfs_image(mib, mkfs);
    let expected = blkid(image.path());
    assert_eq!(expected.0, fstype, "blkid on {mkfs:?}");
    assert_eq!(ours(image.path()), expected, "{mkfs:?}");
    image
}

#[test]
fn ext_family_told_apart_like_blkid() {
    same_as_blkid(16, &["mkfs.ext2", "-q", "-F", "-L", "two"], "ext2");
    same_as_blkid(16, &["mkfs.ext3", "-q", "-F", "-L", "three"], "ext3");
    same_as_blkid(
        32,
        &["mkfs.ext4", "-q", "-F", "-L", "a label 16 bytes"],
        "ext4",
    );
    same_as_blkid(16, &["mkfs.ext4", "-q", "-F"], "ext4");
    // An ext2 with extents is ext4 to blkid; ext4 without a journal too.
    same_as_blkid(16, &["mkfs.ext2", "-q", "-F", "-O", "extent"], "ext4");
    same_as_blkid(16, &["mkfs.ext4", "-q", "-F", "-O", "^has_journal"], "ext4");
    same_as_blkid(
        16,
        &["mkfs.ext4", "-q", "-F", "-O", "^metadata_csum"],
        "ext4",
    );
}

#[test]
fn xfs_btrfs_swap_like_blkid() {
    same_as_blkid(300, &["mkfs.xfs", "-q", "-f", "-L", "xfslabel"], "xfs");
    same_as_blkid(300, &["mkfs.xfs", "-q", "-f", "-m", "crc=0"], "xfs");
    same_as_blkid(
        128,
        &["mkfs.btrfs", "-q", "-f", "-L", "btrfs label"],
        "btrfs",
    );
    same_as_blkid(16, &["mkswap", "-L", "swappy"], "swap");
    same_as_blkid(16, &["mkswap"], "swap");
}

/// mksquashfs (squashfs-tools) makes the image from a directory.
#[test]
fn squashfs_like_blkid() {
    let src = tempfile::tempdir().expect("source dir");
    std::fs::write(src.path().join("hello"), "hello\n").expect("write");
    let image = tempfile::NamedTempFile::new().expect("temp image");
    let out = Command::new("mksquashfs")
        .arg(src.path())
        .arg(image.path())
        .args(["-noappend", "-quiet"])
        .output()
        .expect("mksquashfs (apt-get install squashfs-tools)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let expected = blkid(image.path());
    assert_eq!(expected.0, "squashfs");
    assert_eq!(ours(image.path()), expected);
}

#[test]
fn fat_variants_like_blkid() {
    same_as_blkid(4, &["mkfs.vfat", "-F", "12", "-n", "TWELVE"], "vfat");
    same_as_blkid(32, &["mkfs.vfat", "-F", "16", "-n", "SIXTEEN"], "vfat");
    same_as_blkid(64, &["mkfs.vfat", "-F", "32", "-n", "THIRTY2"], "vfat");
    same_as_blkid(64, &["mkfs.vfat", "-F", "32", "-S", "4096"], "vfat");
    let image = same_as_blkid(32, &["mkfs.vfat", "-i", "1a2B3c4D"], "vfat");
    assert_eq!(ours(image.path()).2, "1A2B-3C4D");
}

/// A small NTFS: boot sector, MFT at cluster 4 with 1 KiB records, the
/// $Volume record (3) holding a $VOLUME_NAME attribute.
fn ntfs_image(name: &str) -> Vec<u8> {
    let mut img = vec![0u8; 4 << 20];
    img[..3].copy_from_slice(&[0xEB, 0x52, 0x90]);
    img[3..11].copy_from_slice(b"NTFS    ");
    img[0x0B..0x0D].copy_from_slice(&512u16.to_le_bytes());
    img[0x0D] = 8; // 4 KiB clusters
    img[0x15] = 0xF8;
    img[0x28..0x30].copy_from_slice(&8191u64.to_le_bytes());
    img[0x30..0x38].copy_from_slice(&4u64.to_le_bytes());
    img[0x38..0x40].copy_from_slice(&8u64.to_le_bytes());
    img[0x40] = 0xF6; // 2^10-byte MFT records
    img[0x44] = 1;
    img[0x48..0x50].copy_from_slice(&0x1234_ABCD_5678_EF90u64.to_le_bytes());
    img[510..512].copy_from_slice(&[0x55, 0xAA]);
    let mft = 4 * 4096;
    for rec in [mft, mft + 3 * 1024] {
        img[rec..rec + 4].copy_from_slice(b"FILE");
        img[rec + 0x14..rec + 0x16].copy_from_slice(&0x38u16.to_le_bytes());
        img[rec + 0x1C..rec + 0x20].copy_from_slice(&1024u32.to_le_bytes());
        img[rec + 0x38..rec + 0x3C].copy_from_slice(&0xFFFF_FFFFu32.to_le_bytes());
    }
    let attr = mft + 3 * 1024 + 0x38;
    let value: Vec<u8> = name.encode_utf16().flat_map(u16::to_le_bytes).collect();
    let len = (0x18 + value.len() as u32).div_ceil(8) * 8;
    img[attr..attr + 4].copy_from_slice(&0x60u32.to_le_bytes());
    img[attr + 4..attr + 8].copy_from_slice(&len.to_le_bytes());
    img[attr + 0x10..attr + 0x14].copy_from_slice(&(value.len() as u32).to_le_bytes());
    img[attr + 0x14..attr + 0x16].copy_from_slice(&0x18u16.to_le_bytes());
    img[attr + 0x18..attr + 0x18 + value.len()].copy_from_slice(&value);
    let end = attr + len as usize;
    img[end..end + 4].copy_from_slice(&0xFFFF_FFFFu32.to_le_bytes());
    img
}

/// A bare ISO 9660 volume-descriptor set, optionally with a Joliet SVD.
fn iso_image(volume_id: &str, joliet: Option<&str>) -> Vec<u8> {
    let mut img = vec![0u8; 1 << 20];
    let mut vd = 0x8000;
    let mut put_vd = |img: &mut Vec<u8>, kind: u8| {
        img[vd] = kind;
        img[vd + 1..vd + 6].copy_from_slice(b"CD001");
        img[vd + 6] = 1;
        vd += 2048;
        vd - 2048
    };
    let pvd = put_vd(&mut img, 1);
    img[pvd + 40..pvd + 72].copy_from_slice(format!("{volume_id:<32}").as_bytes());
    img[pvd + 813..pvd + 829].copy_from_slice(b"2023120100000000");
    img[pvd + 830..pvd + 846].copy_from_slice(b"2024010203040506");
    if let Some(name) = joliet {
        let svd = put_vd(&mut img, 2);
        let units: Vec<u8> = format!("{name:<16}")
            .encode_utf16()
            .flat_map(u16::to_be_bytes)
            .collect();
        img[svd + 40..svd + 72].copy_from_slice(&units[..32]);
        img[svd + 88..svd + 91].copy_from_slice(b"%/E");
    }
    put_vd(&mut img, 0xFF);
    img
}

fn write_temp(bytes: &[u8]) -> tempfile::NamedTempFile {
    let file = tempfile::NamedTempFile::new().expect("temp image");
    std::fs::write(file.path(), bytes).expect("write image");
    file
}

#[test]
fn ntfs_and_iso9660_like_blkid() {
    for bytes in [
        ntfs_image("Windows Data"),
        iso_image("MY_DISC", None),
        iso_image("MY_DISC", Some("MY_DISC")),
        iso_image("MY_DISC", Some("Joliet name")),
    ] {
        let image = write_temp(&bytes);
        let expected = blkid(image.path());
        assert!(
            !expected.0.is_empty(),
            "blkid recognises the hand-made image"
        );
        assert_eq!(ours(image.path()), expected);
    }
    let ntfs = probe(&ntfs_image("Windows Data").as_slice()).expect("probe");
    let Content::Filesystem(fs) = ntfs else {
        panic!("{ntfs:?}")
    };
    assert_eq!((fs.fstype, fs.label.as_str()), ("ntfs", "Windows Data"));
    assert_eq!(fs.uuid, "1234ABCD5678EF90");
}

/// An MBR with a Linux partition and an extended one.
fn mbr_image(types: [u8; 4]) -> Vec<u8> {
    let mut img = vec![0u8; 8 << 20];
    for (i, t) in types.iter().enumerate() {
        let e = 446 + 16 * i;
        img[e + 4] = *t;
        if *t != 0 {
            let start = 2048 + 4096 * i as u32;
            img[e + 8..e + 12].copy_from_slice(&start.to_le_bytes());
            img[e + 12..e + 16].copy_from_slice(&4096u32.to_le_bytes());
        }
    }
    img[510..512].copy_from_slice(&[0x55, 0xAA]);
    img
}

#[test]
fn partition_tables() {
    let dos = mbr_image([0x83, 0x05, 0, 0]);
    let image = write_temp(&dos);
    assert_eq!(blkid(image.path()).0, "dos");
    assert_eq!(ours(image.path()).0, "dos");
    assert_eq!(mbr_partition_type(&dos.as_slice(), 1).unwrap(), Some(0x83));
    assert!(is_extended(
        mbr_partition_type(&dos.as_slice(), 2).unwrap().unwrap()
    ));
    assert_eq!(mbr_partition_type(&dos.as_slice(), 5).unwrap(), None);
    let gpt = mbr_image([0xEE, 0, 0, 0]);
    assert_eq!(
        probe(&gpt.as_slice()).unwrap(),
        Content::PartitionTable(PartTable::Gpt)
    );
    assert_eq!(mbr_partition_type(&gpt.as_slice(), 1).unwrap(), None);
    let mut bad_flags = dos.clone();
    bad_flags[446] = 0x12;
    assert_eq!(probe(&bad_flags.as_slice()).unwrap(), Content::Unknown);
    // A FAT boot sector ends in 55 AA too: still vfat, not "dos".
    let fat = mkfs_image(4, &["mkfs.vfat"]);
    assert_eq!(ours(fat.path()).0, "vfat");
    assert_eq!(probe(&[0u8; 100].as_slice()).unwrap(), Content::Unknown);
    assert_eq!(probe(&[0u8; 0].as_slice()).unwrap(), Content::Unknown);
}

/// Tiny xorshift: deterministic corruption without a rand dependency.
fn next(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

/// Corrupted and truncated images never panic or hang the prober.
#[test]
fn hostile_images_do_not_panic() {
    let mut seeds = vec![
        ntfs_image("x"),
        iso_image("A", Some("B")),
        mbr_image([0x83, 5, 0, 0]),
    ];
    for mkfs in [
        &["mkfs.ext4", "-q", "-F"][..],
        &["mkfs.vfat", "-F", "32"],
        &["mkfs.vfat", "-F", "12"],
    ] {
        let image = mkfs_image(64, mkfs);
        let mut bytes = std::fs::read(image.path()).expect("read image");
        bytes.truncate(4 << 20);
        seeds.push(bytes);
    }
    let mut state = 0x9E37_79B9_7F4A_7C15;
    for seed in &seeds {
        for round in 0..300 {
            let mut bytes = seed.clone();
            for _ in 0..1 + round % 16 {
                let at = (next(&mut state) % (HEAD as u64 + 0x10000)) as usize % bytes.len();
                bytes[at] = next(&mut state) as u8;
            }
            let _ = probe(&bytes.as_slice());
            let cut = (next(&mut state) % (HEAD as u64 + 4096)) as usize;
            let _ = probe(&&bytes[..cut.min(bytes.len())]);
        }
    }
}
