//! MBR (msdos) tables: primary, extended and logical partitions (EBR
//! chain), deletion, the boot flag, part_disk.

use super::*;

fn reread(s: &Scratch) -> mbrman::MBR {
    let mut f = File::open(&s.device).expect("open device");
    mbrman::MBR::read_from(&mut f, 512).expect("a valid MBR")
}

/// sfdisk's (start, size) per partition node suffix (`p5` → 5).
fn sfdisk_extents(s: &Scratch) -> Vec<(u32, u64, u64)> {
    sfdisk(&s.device)
        .into_iter()
        .map(|(node, start, size, ..)| {
            let n = node
                .rsplit('p')
                .next()
                .and_then(|n| n.parse().ok())
                .unwrap_or(0);
            (n, start, size)
        })
        .collect()
}

#[test]
fn parts_mbr_primary_extended_logical() {
    let s = Scratch::new(64);
    let dev = s.dev();
    init(&dev, "msdos").unwrap();
    assert_eq!(parttype(&dev).unwrap(), "msdos");
    assert_eq!(
        blkid(&s.device).get("PTTYPE").map(String::as_str),
        Some("dos")
    );
    add(&dev, "p", 2048, 4095).unwrap();
    add(&dev, "e", 4096, 65535).unwrap();
    add(&dev, "l", 4098, 6143).unwrap();
    add(&dev, "logical", 8192, 10239).unwrap();
    let want = vec![
        bytes(1, 2048, 4095),
        bytes(2, 4096, 65535),
        bytes(5, 4098, 6143),
        bytes(6, 8192, 10239),
    ];
    assert_eq!(list(&dev).unwrap(), want);

    let m = reread(&s);
    assert_eq!(
        (m[1].sys, m[2].sys, m[2].starting_lba, m[2].sectors),
        (0x83, 0x05, 4096, 61440)
    );
    let logical: Vec<_> = m
        .logical_partitions
        .iter()
        .map(|l| {
            (
                l.absolute_ebr_lba,
                l.partition.starting_lba,
                l.partition.sectors,
            )
        })
        .collect();
    assert_eq!(logical, [(4096, 4098, 2046), (8191, 8192, 2048)]);
    if have("sfdisk") {
        assert_eq!(
            sfdisk_extents(&s),
            [
                (1, 2048, 2048),
                (2, 4096, 61440),
                (5, 4098, 2046),
                (6, 8192, 2048)
            ]
        );
        let types: Vec<String> = sfdisk(&s.device).into_iter().map(|p| p.3).collect();
        assert_eq!(types, ["83", "5", "83", "83"]);
    }
    if kernel_reads_partitions() {
        assert_eq!(s.kernel_part(1), Some((2048, 2048)));
        assert_eq!(s.kernel_part(2).map(|p| p.0), Some(4096));
        assert_eq!(s.kernel_part(5), Some((4098, 2046)));
        assert_eq!(s.kernel_part(6), Some((8192, 2048)));
    }
}

#[test]
fn parts_mbr_logical_partitions_keep_chain_order() {
    let s = Scratch::new(32);
    let dev = s.dev();
    init(&dev, "mbr").unwrap();
    add(&dev, "e", 2048, -1).unwrap();
    add(&dev, "l", 20480, 24575).unwrap();
    // Before the first one: it becomes 5, the other 6 with an EBR of its own.
    add(&dev, "l", 8192, 12287).unwrap();
    // In the gap right after the extended partition's first sector.
    add(&dev, "l", 2050, 4095).unwrap();
    let last = s.sectors() as i64 - 1;
    let want = vec![
        bytes(1, 2048, last),
        bytes(5, 2050, 4095),
        bytes(6, 8192, 12287),
        bytes(7, 20480, 24575),
    ];
    assert_eq!(list(&dev).unwrap(), want);
    let ebrs: Vec<u32> = reread(&s)
        .logical_partitions
        .iter()
        .map(|l| l.absolute_ebr_lba)
        .collect();
    assert_eq!(ebrs, [2048, 8191, 20479]);
    if have("sfdisk") {
        assert_eq!(
            &sfdisk_extents(&s)[1..],
            [(5, 2050, 2046), (6, 8192, 4096), (7, 20480, 4096)]
        );
    }
    if kernel_reads_partitions() {
        assert_eq!(
            (s.kernel_part(5), s.kernel_part(7)),
            (Some((2050, 2046)), Some((20480, 4096)))
        );
    }
}

#[test]
fn parts_mbr_delete() {
    let s = Scratch::new(32);
    let dev = s.dev();
    init(&dev, "mbr").unwrap();
    add(&dev, "p", 2048, 4095).unwrap();
    add(&dev, "e", 4096, 40959).unwrap();
    for (start, end) in [(6144, 8191), (10240, 12287), (14336, 16383)] {
        add(&dev, "l", start, end).unwrap();
    }
    // Deleting the first logical partition renumbers the others.
    del(&dev, 5).unwrap();
    let want = vec![
        bytes(1, 2048, 4095),
        bytes(2, 4096, 40959),
        bytes(5, 10240, 12287),
        bytes(6, 14336, 16383),
    ];
    assert_eq!(list(&dev).unwrap(), want);
    assert_eq!(reread(&s).logical_partitions[0].absolute_ebr_lba, 4096);
    if kernel_reads_partitions() {
        assert_eq!(
            (s.kernel_part(5), s.kernel_part(7)),
            (Some((10240, 2048)), None)
        );
    }
    // A primary partition: the others keep their numbers.
    del(&dev, 1).unwrap();
    assert_eq!(
        list(&dev)
            .unwrap()
            .iter()
            .map(|p| p.part_num)
            .collect::<Vec<_>>(),
        [2, 5, 6]
    );
    // The extended one takes its logical partitions with it.
    del(&dev, 2).unwrap();
    assert_eq!(list(&dev).unwrap(), vec![]);
    assert!(reread(&s).logical_partitions.is_empty());
    if kernel_reads_partitions() {
        assert_eq!((s.kernel_part(2), s.kernel_part(5)), (None, None));
    }
    // An empty extended partition holds no stale logical partition.
    add(&dev, "e", 4096, 40959).unwrap();
    assert_eq!(list(&dev).unwrap(), vec![bytes(1, 4096, 40959)]);
}

#[test]
fn parts_mbr_bootable() {
    let s = Scratch::new(16);
    let dev = s.dev();
    init(&dev, "mbr").unwrap();
    add(&dev, "p", 2048, 4095).unwrap();
    add(&dev, "p", 4096, 8191).unwrap();
    add(&dev, "e", 8192, 16383).unwrap();
    add(&dev, "l", 8194, 10000).unwrap();
    let flags = |s: &Scratch| {
        let mbr = s.read(0, 512);
        let ebr = s.read(8192 * 512, 512);
        (mbr[446], mbr[462], ebr[446])
    };
    set_bootable(&dev, 1, true).unwrap();
    assert_eq!(flags(&s), (0x80, 0, 0));
    // One bootable partition at a time, as parted does.
    set_bootable(&dev, 2, true).unwrap();
    assert_eq!(flags(&s), (0, 0x80, 0));
    set_bootable(&dev, 5, true).unwrap();
    assert_eq!(flags(&s), (0, 0, 0x80));
    assert!(reread(&s).logical_partitions[0].partition.is_active());
    set_bootable(&dev, 5, false).unwrap();
    assert_eq!(flags(&s), (0, 0, 0));
    set_bootable(&dev, 2, true).unwrap();
    if have("sfdisk") {
        let json = run("sfdisk", &["-J", &s.device]);
        let p2 = json.split("\"node\":").nth(2).unwrap_or_default();
        assert!(
            p2.contains("\"bootable\": true") || p2.contains("\"bootable\":true"),
            "{json}"
        );
    }
    assert!(
        set_bootable(&dev, 3, true).is_err(),
        "the extended partition"
    );
    assert!(set_bootable(&dev, 4, true).is_err(), "no partition 4");
}

#[test]
fn parts_mbr_part_disk_clears_gpt() {
    let s = Scratch::new(16);
    let dev = s.dev();
    add_table_then_part_disk(&s, "mbr");
    let last = s.sectors() as i64 - 1;
    assert_eq!(list(&dev).unwrap(), vec![bytes(1, 2048, last)]);
    assert_eq!(parttype(&dev).unwrap(), "msdos");
    let last_sector = s.read(last as u64 * 512, 8);
    assert_ne!(s.read(512, 8), b"EFI PART");
    assert_ne!(last_sector, b"EFI PART");
    assert_eq!(
        blkid(&s.device).get("PTTYPE").map(String::as_str),
        Some("dos")
    );
    if kernel_reads_partitions() {
        assert_eq!(s.kernel_part(1), Some((2048, last as u64 - 2047)));
    }
    // A random disk signature each time.
    let signature = s.read(440, 4);
    init(&dev, "mbr").unwrap();
    assert_ne!(signature, s.read(440, 4));
}
