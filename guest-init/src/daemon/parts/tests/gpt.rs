//! GPT tables: init, add, list, delete, names, type GUIDs, the legacy
//! BIOS bootable attribute, part_disk.

use super::*;

/// The GPT read back with the crate, both headers required valid.
fn reread(s: &Scratch) -> ::gpt::GptDisk<File> {
    ::gpt::GptConfig::new()
        .only_valid_headers(true)
        .open(&s.device)
        .expect("a valid GPT with both headers")
}

#[test]
fn parts_gpt_init_add_list() {
    let s = Scratch::new(64);
    let dev = s.dev();
    let last_usable = s.sectors() as i64 - 34;
    init(&dev, "gpt").unwrap();
    assert_eq!(parttype(&dev).unwrap(), "gpt");
    assert_eq!(list(&dev).unwrap(), vec![]);
    let ids = blkid(&s.device);
    assert_eq!(
        ids.get("PTTYPE").map(String::as_str),
        Some("gpt"),
        "{ids:?}"
    );
    add(&dev, "p", 2048, 4095).unwrap();
    add(&dev, "primary", 4096, -34).unwrap();
    let want = vec![bytes(1, 2048, 4095), bytes(2, 4096, last_usable)];
    assert_eq!(list(&dev).unwrap(), want);

    let g = reread(&s);
    assert_eq!(g.primary_header().unwrap().last_usable, last_usable as u64);
    let p1 = &g.partitions()[&1];
    assert_eq!(
        (p1.first_lba, p1.last_lba, p1.name.as_str()),
        (2048, 4095, "")
    );
    assert_eq!(p1.part_type_guid.guid.to_string().to_uppercase(), LINUX_FS);
    // The protective MBR covers the disk.
    let mbr = s.read(0, 512);
    assert_eq!((mbr[446 + 4], &mbr[510..]), (0xee, &[0x55, 0xaa][..]));

    if have("sfdisk") {
        let seen = sfdisk(&s.device);
        assert_eq!(seen.len(), 2, "{seen:?}");
        assert_eq!(
            (seen[0].1, seen[0].2, seen[0].3.as_str()),
            (2048, 2048, LINUX_FS)
        );
        assert_eq!(
            (seen[1].1, seen[1].2),
            (4096, last_usable as u64 - 4096 + 1)
        );
    }
    if kernel_reads_partitions() {
        assert_eq!(s.kernel_part(1), Some((2048, 2048)));
        assert_eq!(s.kernel_part(2), Some((4096, last_usable as u64 - 4095)));
    }
}

#[test]
fn parts_gpt_disk_guids_are_random() {
    let s = Scratch::new(8);
    init(&s.dev(), "gpt").unwrap();
    let first = *reread(&s).guid();
    init(&s.dev(), "efi").unwrap();
    assert_ne!(first, *reread(&s).guid());
}

#[test]
fn parts_gpt_del_keeps_numbers() {
    let s = Scratch::new(16);
    let dev = s.dev();
    init(&dev, "gpt").unwrap();
    for (start, end) in [(2048, 4095), (4096, 6143), (6144, 8191)] {
        add(&dev, "p", start, end).unwrap();
    }
    del(&dev, 2).unwrap();
    assert_eq!(
        list(&dev).unwrap(),
        vec![bytes(1, 2048, 4095), bytes(3, 6144, 8191)]
    );
    if kernel_reads_partitions() {
        assert_eq!(
            (s.kernel_part(2), s.kernel_part(3)),
            (None, Some((6144, 2048)))
        );
    }
    // The lowest free number is taken again.
    add(&dev, "p", 10000, 10999).unwrap();
    let numbers: Vec<i64> = list(&dev).unwrap().iter().map(|p| p.part_num).collect();
    assert_eq!(numbers, [1, 2, 3]);
    assert_eq!(reread(&s).partitions()[&2].first_lba, 10000);
}

#[test]
fn parts_gpt_name_type_bootable_round_trip() {
    let s = Scratch::new(16);
    let dev = s.dev();
    whole(&dev, "gpt").unwrap();
    set_name(&dev, 1, "boot partition é").unwrap();
    set_type(&dev, 1, &EFI_SYSTEM.to_lowercase()).unwrap();
    set_bootable(&dev, 1, true).unwrap();
    let g = reread(&s);
    let p = &g.partitions()[&1];
    assert_eq!(p.name, "boot partition é");
    assert_eq!(p.part_type_guid.guid.to_string().to_uppercase(), EFI_SYSTEM);
    assert_eq!(p.flags, 1 << 2);
    let guid = p.part_guid;
    if have("sfdisk") {
        let seen = sfdisk(&s.device);
        assert_eq!(
            (seen[0].3.as_str(), seen[0].4.as_str()),
            (EFI_SYSTEM, "boot partition é")
        );
        assert!(seen[0].5.contains("LegacyBIOSBootable"), "{seen:?}");
    }
    if kernel_reads_partitions() {
        let ids = blkid(&s.part(1));
        // blkid's export format escapes spaces and non-ASCII bytes.
        let name = ids
            .get("PART_ENTRY_NAME")
            .map(String::as_str)
            .unwrap_or_default();
        assert!(name.starts_with("boot\\ partition\\ "), "{ids:?}");
        assert_eq!(ids.get("PART_ENTRY_FLAGS").map(String::as_str), Some("0x4"));
        assert_eq!(
            ids.get("PART_ENTRY_TYPE").map(|t| t.to_uppercase()),
            Some(EFI_SYSTEM.into())
        );
    }
    set_bootable(&dev, 1, false).unwrap();
    set_name(&dev, 1, "").unwrap();
    let g = reread(&s);
    let p = &g.partitions()[&1];
    assert_eq!(
        (p.flags, p.name.as_str(), p.part_guid),
        (0, "", guid),
        "the partition GUID stays"
    );
    // 36 UTF-16 units fit.
    set_name(&dev, 1, &"x".repeat(36)).unwrap();
}

#[test]
fn parts_gpt_part_disk() {
    let s = Scratch::new(64);
    let dev = s.dev();
    add_table_then_part_disk(&s, "gpt");
    let last = s.sectors() as i64 - 34;
    assert_eq!(list(&dev).unwrap(), vec![bytes(1, 2048, last)]);
    assert_eq!(parttype(&dev).unwrap(), "gpt");
    if kernel_reads_partitions() {
        assert_eq!(s.kernel_part(1), Some((2048, last as u64 - 2047)));
        assert_eq!(s.kernel_part(2), None);
    }
}
