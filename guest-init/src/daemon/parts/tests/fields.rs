//! The single-field getters and setters, part_resize, part_expand_gpt,
//! part_to_dev / part_to_partnum, cross-checked with sgdisk and sfdisk
//! where installed and with the crates reading the disk back.

use super::*;

/// Runs a call on a fresh daemon: `call!(part_get_name { device: …, partnum: 1 })`.
macro_rules! call {
    ($f:ident { $($k:ident: $v:expr),* $(,)? }) => {
        $f(&mut d(), &mut TestIo::default(), calls::$f::Args { $($k: $v),* })
    };
}

/// sgdisk's text for partition `n` (or the disk with 0).
fn sgdisk(device: &str, n: u32) -> String {
    if n == 0 {
        run("sgdisk", &["-p", device])
    } else {
        run("sgdisk", &["-i", &n.to_string(), device])
    }
}

fn gpt_disk() -> Scratch {
    let s = Scratch::new(16);
    let dev = s.dev();
    init(&dev, "gpt").unwrap();
    add(&dev, "p", 2048, 4095).unwrap();
    add(&dev, "p", 4096, 8191).unwrap();
    s
}

#[test]
fn gpt_partition_fields() {
    let s = gpt_disk();
    let dev = s.dev();
    let get_type = call!(part_get_gpt_type {
        device: dev.clone(),
        partnum: 1
    });
    assert_eq!(get_type.unwrap(), LINUX_FS);
    set_type(&dev, 2, &EFI_SYSTEM.to_lowercase()).unwrap();
    let get_type = call!(part_get_gpt_type {
        device: dev.clone(),
        partnum: 2
    });
    assert_eq!(get_type.unwrap(), EFI_SYSTEM);

    let guid = "01234567-89AB-CDEF-0123-456789ABCDEF";
    call!(part_set_gpt_guid {
        device: dev.clone(),
        partnum: 1,
        guid: guid.to_lowercase()
    })
    .unwrap();
    assert_eq!(
        call!(part_get_gpt_guid {
            device: dev.clone(),
            partnum: 1
        })
        .unwrap(),
        guid
    );
    let bad = call!(part_set_gpt_guid {
        device: dev.clone(),
        partnum: 1,
        guid: "nope".into()
    });
    assert!(bad.unwrap_err().message.contains("not a GUID"));

    let attrs = (1i64 << 60) | (1 << 63) | 1;
    call!(part_set_gpt_attributes {
        device: dev.clone(),
        partnum: 1,
        attributes: attrs
    })
    .unwrap();
    assert_eq!(
        call!(part_get_gpt_attributes {
            device: dev.clone(),
            partnum: 1
        })
        .unwrap(),
        attrs
    );
    assert!(!call!(part_get_bootable {
        device: dev.clone(),
        partnum: 1
    })
    .unwrap());
    set_bootable(&dev, 1, true).unwrap();
    assert!(call!(part_get_bootable {
        device: dev.clone(),
        partnum: 1
    })
    .unwrap());
    assert_eq!(
        call!(part_get_gpt_attributes {
            device: dev.clone(),
            partnum: 1
        })
        .unwrap(),
        attrs | 4
    );

    set_name(&dev, 2, "EFI system").unwrap();
    assert_eq!(
        call!(part_get_name {
            device: dev.clone(),
            partnum: 2
        })
        .unwrap(),
        "EFI system"
    );
    assert_eq!(
        call!(part_get_name {
            device: dev.clone(),
            partnum: 1
        })
        .unwrap(),
        ""
    );
    let kind = call!(part_get_mbr_part_type {
        device: dev.clone(),
        partnum: 2
    });
    assert_eq!(kind.unwrap(), "primary");
    let err = call!(part_get_mbr_id {
        device: dev.clone(),
        partnum: 1
    })
    .unwrap_err();
    assert_eq!(err.kind, protocol::ErrorKind::InvalidArgument, "{err}");
    let err = call!(part_get_name {
        device: dev.clone(),
        partnum: 3
    })
    .unwrap_err();
    assert!(err.message.contains("no partition 3"), "{err}");

    if have("sgdisk") {
        let one = sgdisk(&s.device, 1);
        assert!(
            one.contains(&format!("Partition unique GUID: {guid}")),
            "{one}"
        );
        assert!(one.contains("Attribute flags: 9000000000000005"), "{one}");
        let two = sgdisk(&s.device, 2);
        assert!(
            two.contains(EFI_SYSTEM) && two.contains("'EFI system'"),
            "{two}"
        );
    }
}

#[test]
fn gpt_disk_guid() {
    let s = gpt_disk();
    let dev = s.dev();
    let guid = "FEDCBA98-7654-3210-FEDC-BA9876543210";
    call!(part_set_disk_guid {
        device: dev.clone(),
        guid: guid.into()
    })
    .unwrap();
    assert_eq!(
        call!(part_get_disk_guid {
            device: dev.clone()
        })
        .unwrap(),
        guid
    );
    if have("sgdisk") {
        let out = sgdisk(&s.device, 0);
        assert!(
            out.contains(&format!("Disk identifier (GUID): {guid}")),
            "{out}"
        );
    }
    call!(part_set_disk_guid_random {
        device: dev.clone()
    })
    .unwrap();
    let random = call!(part_get_disk_guid {
        device: dev.clone()
    })
    .unwrap();
    assert_ne!(random, guid);
    assert_eq!(random.len(), 36);
    // Version 4: the 13th hex digit.
    assert_eq!(random.as_bytes()[14], b'4', "{random}");
    // Both headers still valid, partitions kept.
    let g = ::gpt::GptConfig::new()
        .only_valid_headers(true)
        .open(&s.device)
        .unwrap();
    assert_eq!(g.guid().hyphenated().to_string().to_uppercase(), random);
    assert_eq!(list(&dev).unwrap().len(), 2);
}

#[test]
fn gpt_resize_and_expand() {
    let s = gpt_disk();
    let dev = s.dev();
    call!(part_resize {
        device: dev.clone(),
        partnum: 1,
        endsect: 3000
    })
    .unwrap();
    assert_eq!(list(&dev).unwrap()[0], bytes(1, 2048, 3000));
    let err = call!(part_resize {
        device: dev.clone(),
        partnum: 1,
        endsect: 5000
    })
    .unwrap_err();
    assert!(err.message.contains("overlap partition 2"), "{err}");
    let err = call!(part_resize {
        device: dev.clone(),
        partnum: 2,
        endsect: 100
    })
    .unwrap_err();
    assert!(err.message.contains("must lie within"), "{err}");
    call!(part_resize {
        device: dev.clone(),
        partnum: 2,
        endsect: -34
    })
    .unwrap();
    let last = s.sectors() as i64 - 34;
    assert_eq!(list(&dev).unwrap()[1], bytes(2, 4096, last));

    // Grow the disk: the backup header is then in the middle.
    s._image.as_file().set_len(32 << 20).unwrap();
    run("losetup", &["-c", &s.device]);
    assert_eq!(s.sectors(), 32 * 2048);
    call!(part_expand_gpt {
        device: dev.clone()
    })
    .unwrap();
    let g = ::gpt::GptConfig::new()
        .only_valid_headers(true)
        .open(&s.device)
        .unwrap();
    let h = g.primary_header().unwrap();
    assert_eq!(
        (h.backup_lba, h.last_usable),
        (32 * 2048 - 1, 32 * 2048 - 34)
    );
    // The old backup header is gone; the protective MBR covers the disk.
    assert_eq!(&s.read(16 * 2048 * 512 - 512, 8), &[0; 8]);
    let mbr = s.read(0, 512);
    assert_eq!(mbr[446 + 12..446 + 16], (32u32 * 2048 - 1).to_le_bytes());
    call!(part_resize {
        device: dev.clone(),
        partnum: 2,
        endsect: -34
    })
    .unwrap();
    assert_eq!(list(&dev).unwrap()[1], bytes(2, 4096, 32 * 2048 - 34));
    if have("sgdisk") {
        let out = run("sgdisk", &["-v", &s.device]);
        assert!(out.contains("No problems found"), "{out}");
    }
}

#[test]
fn mbr_partition_fields() {
    let s = Scratch::new(16);
    let dev = s.dev();
    init(&dev, "mbr").unwrap();
    add(&dev, "p", 2048, 4095).unwrap();
    add(&dev, "e", 4096, 16383).unwrap();
    add(&dev, "l", 6144, 8191).unwrap();
    add(&dev, "l", 10240, 12287).unwrap();
    let id = |n| {
        call!(part_get_mbr_id {
            device: dev.clone(),
            partnum: n
        })
        .unwrap()
    };
    assert_eq!((id(1), id(2), id(5)), (0x83, 0x05, 0x83));
    call!(part_set_mbr_id {
        device: dev.clone(),
        partnum: 1,
        idbyte: 0x07
    })
    .unwrap();
    call!(part_set_mbr_id {
        device: dev.clone(),
        partnum: 6,
        idbyte: 0x82
    })
    .unwrap();
    assert_eq!((id(1), id(6)), (0x07, 0x82));
    assert_eq!(s.read(446 + 4, 1), [0x07]);
    for (n, idbyte) in [(1, 0x05), (2, 0x83), (1, 256), (1, 0)] {
        let err = call!(part_set_mbr_id {
            device: dev.clone(),
            partnum: n,
            idbyte: idbyte
        });
        assert!(err.is_err(), "{n} {idbyte}");
    }
    let kind = |n| {
        call!(part_get_mbr_part_type {
            device: dev.clone(),
            partnum: n
        })
        .unwrap()
    };
    assert_eq!(
        (kind(1), kind(2), kind(5)),
        ("primary".into(), "extended".into(), "logical".into())
    );
    let gpt_type = |n| {
        call!(part_get_gpt_type {
            device: dev.clone(),
            partnum: n
        })
        .unwrap()
    };
    assert_eq!(gpt_type(1), "EBD0A0A2-B9E5-4433-87C0-68B6B72699C7");
    assert_eq!(gpt_type(5), LINUX_FS);
    assert_eq!(gpt_type(6), "0657FD6D-A4AB-43C4-84E5-0933C84B4F4F");
    assert!(!call!(part_get_bootable {
        device: dev.clone(),
        partnum: 1
    })
    .unwrap());
    set_bootable(&dev, 1, true).unwrap();
    assert!(call!(part_get_bootable {
        device: dev.clone(),
        partnum: 1
    })
    .unwrap());
    for err in [
        call!(part_get_name {
            device: dev.clone(),
            partnum: 1
        })
        .unwrap_err(),
        call!(part_get_gpt_guid {
            device: dev.clone(),
            partnum: 1
        })
        .unwrap_err(),
        call!(part_get_disk_guid {
            device: dev.clone()
        })
        .unwrap_err(),
        call!(part_expand_gpt {
            device: dev.clone()
        })
        .unwrap_err(),
    ] {
        assert!(err.message.contains("only GPT"), "{err}");
    }

    // Resizing: a primary, a logical, the extended one.
    call!(part_resize {
        device: dev.clone(),
        partnum: 1,
        endsect: 3000
    })
    .unwrap();
    call!(part_resize {
        device: dev.clone(),
        partnum: 5,
        endsect: 9000
    })
    .unwrap();
    let err = call!(part_resize {
        device: dev.clone(),
        partnum: 5,
        endsect: 10239
    })
    .unwrap_err();
    assert!(err.message.contains("EBR"), "{err}");
    let err = call!(part_resize {
        device: dev.clone(),
        partnum: 2,
        endsect: 12000
    })
    .unwrap_err();
    assert!(err.message.contains("logical partition in it"), "{err}");
    call!(part_resize {
        device: dev.clone(),
        partnum: 6,
        endsect: 16383
    })
    .unwrap();
    let want = vec![
        bytes(1, 2048, 3000),
        bytes(2, 4096, 16383),
        bytes(5, 6144, 9000),
        bytes(6, 10240, 16383),
    ];
    assert_eq!(list(&dev).unwrap(), want);
    if have("sfdisk") {
        let seen = sfdisk(&s.device);
        let sizes: Vec<(u64, u64)> = seen.iter().map(|p| (p.1, p.2)).collect();
        assert_eq!(
            sizes,
            [(2048, 953), (4096, 12288), (6144, 2857), (10240, 6144)],
            "{seen:?}"
        );
    }
}

#[test]
fn part_to_dev_and_partnum() {
    let s = gpt_disk();
    let err = call!(part_to_dev { partition: s.dev() }).unwrap_err();
    assert!(err.message.contains("not a partition"), "{err}");
    if !kernel_reads_partitions() {
        return;
    }
    let part = Device::new(s.part(2)).unwrap();
    assert_eq!(
        call!(part_to_dev {
            partition: part.clone()
        })
        .unwrap(),
        s.device
    );
    assert_eq!(call!(part_to_partnum { partition: part }).unwrap(), 2);
}
