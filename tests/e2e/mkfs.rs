//! e2e: mkfs and friends through the real appliance. The first call that
//! needs a tool makes the library build (or reuse) the tools layer and
//! stream it in; every filesystem type is then made, labelled, checked
//! and mounted. Runs on our VMM (in the test host here, whose filesystem
//! has the tools: see `run_e2e_with`) and on the qemu TCG fallback.

use std::time::Instant;

use libguest::{calls, Backend, Error, Guest};

const MIB: u64 = 1 << 20;

fn launched(backend: Backend) -> Guest {
    let mut g = Guest::new().unwrap();
    g.set_backend(backend).unwrap();
    g.add_drive_scratch(256 * MIB, calls::add_drive_scratch::Opts::default())
        .unwrap(); // sda: ext4
    g.add_drive_scratch(320 * MIB, calls::add_drive_scratch::Opts::default())
        .unwrap(); // sdb: xfs (300 MiB at least)
    g.add_drive_scratch(64 * MIB, calls::add_drive_scratch::Opts::default())
        .unwrap(); // sdc: vfat
    g.add_drive_scratch(192 * MIB, calls::add_drive_scratch::Opts::default())
        .unwrap(); // sdd: btrfs (about 110 MiB at least)
    if let Err(e) = g.launch() {
        panic!("launch: {e}\n{}", g.console_log());
    }
    g
}

fn label(l: &str) -> calls::mkfs::Opts {
    calls::mkfs::Opts {
        label: Some(l.into()),
        ..Default::default()
    }
}

/// One partition over sda where partitioning works, else the whole disk.
fn ext4_target(g: &mut Guest) -> &'static str {
    match g.part_disk("/dev/sda", "gpt") {
        Ok(()) => "/dev/sda1",
        Err(e) if e.to_string().contains("not implemented") => {
            eprintln!("part_disk is not implemented yet: using the whole of /dev/sda");
            "/dev/sda"
        }
        Err(e) => panic!("part_disk: {e}"),
    }
}

fn make_check_label_mount(backend: Backend) {
    let mut g = launched(backend);
    let sda = ext4_target(&mut g);

    // Timings: the layer on its own (cached after the first build), then
    // the first call that needs it (load + mke2fs), then mke2fs alone.
    let t = Instant::now();
    let layer = appliance::tools::build_tools_layer().unwrap();
    let build = t.elapsed();
    let size = std::fs::metadata(&layer.path).unwrap().len();
    let t = Instant::now();
    g.mkfs("ext4", sda, label("e2e-ext4"))
        .unwrap_or_else(|e| panic!("mkfs: {e}\n{}", g.console_log()));
    let first = t.elapsed();
    let t = Instant::now();
    g.mkfs("ext4", sda, label("e2e-ext4")).unwrap();
    let again = t.elapsed();
    eprintln!(
        "tools layer ({backend:?}): {size} bytes, {:?}; build/reuse {build:?}; first mkfs (load + mke2fs) {first:?}; mkfs alone {again:?}",
        layer.tools
    );
    assert_eq!(g.vfs_type(sda).unwrap(), "ext4");
    assert_eq!(g.vfs_label(sda).unwrap(), "e2e-ext4");

    g.mount(sda, "/").unwrap();
    g.write("/hello.txt", "made by mkfs\n").unwrap();
    // A mounted device is refused.
    match g.mkfs("xfs", sda, Default::default()) {
        Err(Error::Guest { errno, message, .. }) => {
            assert_eq!(errno, libc::EBUSY, "{message}")
        }
        other => panic!("mkfs on a mounted device: {other:?}"),
    }
    g.zero_free_space("/").unwrap();
    match g.fstrim("/") {
        Ok(()) => {}
        // Our VMM's virtio-scsi offers discard; qemu's set-up may not.
        Err(e) if backend == Backend::Tcg && e.to_string().contains("does not support discard") => {
            eprintln!("fstrim: {e}")
        }
        Err(e) => panic!("fstrim: {e}"),
    }
    g.umount("/", Default::default()).unwrap();

    let clean = calls::e2fsck::Opts {
        correct: Some(true),
        ..Default::default()
    };
    g.e2fsck(sda, clean).unwrap();
    g.e2fsck(sda, Default::default()).unwrap();
    assert_eq!(g.fsck("ext4", sda).unwrap(), 0);
    g.resize2fs(sda).unwrap();
    g.set_label(sda, "relabelled").unwrap();
    assert_eq!(g.vfs_label(sda).unwrap(), "relabelled");

    // The other types, each on its own disk.
    for (fstype, dev, name) in [
        ("xfs", "/dev/sdb", "e2e-xfs"),
        ("vfat", "/dev/sdc", "E2EFAT"),
        ("btrfs", "/dev/sdd", "e2e-btrfs"),
    ] {
        g.mkfs(fstype, dev, label(name))
            .unwrap_or_else(|e| panic!("mkfs {fstype}: {e}\n{}", g.console_log()));
        assert_eq!(g.vfs_type(dev).unwrap(), fstype);
        assert_eq!(g.vfs_label(dev).unwrap(), name);
        let new = format!("{}2", &name[..name.len() - 1]);
        g.set_label(dev, new.as_str())
            .unwrap_or_else(|e| panic!("set_label {fstype}: {e}"));
        assert_eq!(g.vfs_label(dev).unwrap(), new, "{fstype}");
        assert_eq!(g.fsck(fstype, dev).unwrap(), 0, "{fstype}");
    }

    // Everything mounts, takes a file, and keeps it.
    g.mount(sda, "/").unwrap();
    assert_eq!(g.cat("/hello.txt").unwrap(), "made by mkfs\n");
    for (dev, dir) in [("/dev/sdb", "/x"), ("/dev/sdc", "/f"), ("/dev/sdd", "/b")] {
        g.mkdir(dir).unwrap();
        g.mount(dev, dir)
            .unwrap_or_else(|e| panic!("mount {dev}: {e}"));
        let file = format!("{dir}/data");
        g.write(file.as_str(), dev).unwrap();
        assert_eq!(g.cat(file.as_str()).unwrap(), dev);
    }
    g.zero_free_space("/f").unwrap();
    g.umount_all().unwrap();
    g.mount_ro("/dev/sdd", "/").unwrap();
    assert_eq!(g.cat("/data").unwrap(), "/dev/sdd");
    g.umount_all().unwrap();
    g.shutdown().unwrap();
}

libguest_tests::on_both_backends! {
    make_check_label_mount => e2e_mkfs_make_check_label_mount, tcg_mkfs_make_check_label_mount;
}
