//! Hostile images that open: read-only and overlay drives hold nothing open for writing, stores
//! go to the directory given, headers are checked again, and odd guest requests stay harmless.

use std::fs;

use super::tests::qcow2;
use super::tests_hostile_util::*;
use super::*;
use std::os::unix::fs::MetadataExt;

#[test]
fn read_only_and_overlay_drives_open_nothing_for_writing() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("base.raw");
    fs::write(&base, vec![3u8; 2 * MIB as usize]).unwrap();
    let mid = dir.path().join("mid.qcow2");
    let top = dir.path().join("top.qcow2");
    qemu_img(&[
        "create",
        "-q",
        "-f",
        "qcow2",
        "-b",
        "base.raw",
        "-F",
        "raw",
        s(&mid),
    ]);
    qemu_img(&[
        "create",
        "-q",
        "-f",
        "qcow2",
        "-b",
        "mid.qcow2",
        "-F",
        "qcow2",
        s(&top),
    ]);
    // An image whose data file is a host file: the old code opened that O_RDWR even read-only.
    let sentinel = dir.path().join("sentinel");
    let evil = dir.path().join("evil.qcow2");
    let opt = format!("data_file={}", s(&sentinel));
    qemu_img(&["create", "-q", "-f", "qcow2", "-o", &opt, s(&evil), "1M"]);
    for f in [&base, &mid, &top, &sentinel] {
        backdate(f);
    }
    let before: Vec<_> = [&base, &mid, &top, &sentinel]
        .iter()
        .map(|f| fingerprint(f))
        .collect();

    let ro = OpenOptions {
        readonly: true,
        ..Default::default()
    };
    let ov = OpenOptions {
        overlay: true,
        ..Default::default()
    };
    for options in [qcow2(ro.clone()), qcow2(ov.clone())] {
        let disk = open_disk(&top, &options).unwrap();
        let paths: Vec<_> = disk.chain.iter().map(|n| n.path().to_path_buf()).collect();
        assert_eq!(paths, [top.clone(), mid.clone(), base.clone()]);
        assert!(disk.chain.iter().all(|n| !n.is_writable()));
        for f in [&top, &mid, &base] {
            assert!(
                !open_modes(f).is_empty(),
                "{} is not open at all",
                f.display()
            );
            assert_not_open_for_writing(f, &format!("{options:?}"));
        }
        assert!(read_all(disk.backend.as_ref()).iter().all(|&b| b == 3));
        if options.overlay {
            let mut data = [9u8; 4096];
            let buf = [VolatileSlice::from(&mut data[..])];
            disk.backend.write_vectored(MIB, &buf).unwrap();
        }
        drop(disk);

        if let Ok(disk) = open(&evil, &qcow2(options.clone())) {
            assert_not_open_for_writing(&sentinel, "the data file of a read-only image");
            drop(disk);
            panic!("an image with an external data file opened");
        }
    }
    let after: Vec<_> = [&base, &mid, &top, &sentinel]
        .iter()
        .map(|f| fingerprint(f))
        .collect();
    assert!(before == after, "a file of a read-only chain changed");

    // Read-write: the top only.
    let disk = open_disk(&top, &qcow2(OpenOptions::default())).unwrap();
    assert_eq!(open_modes(&top), vec![libc::O_RDWR; open_modes(&top).len()]);
    assert!(disk.chain[0].is_writable() && !disk.chain[1].is_writable());
    assert_not_open_for_writing(&mid, "a backing file");
    assert_not_open_for_writing(&base, "a backing file");
}

#[test]
fn overlay_and_scratch_stores_go_to_the_directory_given() {
    let base_dir = tempfile::tempdir().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let base = base_dir.path().join("base.raw");
    fs::write(&base, vec![1u8; MIB as usize]).unwrap();
    let in_tmp = |what: &str| {
        // Our unlinked files show in /proc/self/fd as "<dir>/<name> (deleted)" or "<dir>/#ino".
        let dir = fs::canonicalize(tmp.path()).unwrap();
        let found = fs::read_dir("/proc/self/fd")
            .unwrap()
            .flatten()
            .filter_map(|e| fs::read_link(e.path()).ok())
            .any(|t| t.parent() == Some(dir.as_path()));
        assert!(found, "no {what} store in {}", dir.display());
    };
    let options = OpenOptions {
        overlay: true,
        tmpdir: Some(tmp.path().to_path_buf()),
        ..Default::default()
    };
    let disk = open(&base, &options).unwrap();
    in_tmp("overlay");
    drop(disk);
    let scratch = scratch_disk(MIB, Some(tmp.path())).unwrap();
    assert!(scratch.chain[0]
        .path()
        .to_string_lossy()
        .contains("scratch disk"));
    in_tmp("scratch");
    drop(scratch);
    let overlay_file = qcow2_overlay_file(Some(tmp.path()), 3 * MIB).unwrap();
    in_tmp("qcow2 overlay");
    // qemu reads what imago formatted: an empty qcow2 of the size asked for.
    let fd = std::os::fd::AsRawFd::as_raw_fd(&overlay_file);
    let fd_path = format!("/proc/{}/fd/{fd}", std::process::id());
    let info = qemu_img(&["info", "--output=json", "-f", "qcow2", &fd_path]);
    assert!(info.contains("\"virtual-size\": 3145728"), "{info}");
    assert!(!info.contains("backing-filename"), "{info}");
    assert!(
        fs::read_dir(tmp.path()).unwrap().next().is_none(),
        "a named file was left"
    );

    let missing = tmp.path().join("no-such-dir");
    for err in [
        open(
            &base,
            &OpenOptions {
                tmpdir: Some(missing.clone()),
                ..options.clone()
            },
        )
        .unwrap_err(),
        scratch_disk(MIB, Some(&missing)).unwrap_err(),
    ] {
        assert!(matches!(err, DiskError::TempFile { .. }), "{err}");
        assert!(err.to_string().contains("no-such-dir"), "{err}");
        assert!(err.to_string().contains("LIBGUEST_TMPDIR"), "{err}");
    }
}

#[test]
fn explicit_chain_records_formats_and_block_devices() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("base.raw");
    fs::write(&base, vec![0u8; MIB as usize]).unwrap();
    let top = dir.path().join("top.qcow2");
    qemu_img(&[
        "create",
        "-q",
        "-f",
        "qcow2",
        "-b",
        "base.raw",
        "-F",
        "raw",
        s(&top),
    ]);
    let disk = open_disk(&top, &qcow2(OpenOptions::default())).unwrap();
    let formats: Vec<_> = disk.chain.iter().map(ChainNode::format).collect();
    assert_eq!(formats, [Format::Qcow2, Format::Raw]);
    assert!(disk.chain.iter().all(|n| !n.is_block_device()));
    // The node's descriptor is the checked file itself.
    for (node, path) in disk.chain.iter().zip([&top, &base]) {
        let (a, b) = (node.file().metadata().unwrap(), fs::metadata(path).unwrap());
        assert_eq!((a.dev(), a.ino()), (b.dev(), b.ino()));
    }
}

#[test]
fn recheck_catches_a_data_file_added_after_the_open() {
    let dir = tempfile::tempdir().unwrap();
    let path = HandMade {
        size: MIB,
        ..Default::default()
    }
    .write(&dir.path().join("img.qcow2"));
    let disk = open_disk(&path, &qcow2(OpenOptions::default())).unwrap();
    disk.chain[0].recheck().unwrap();
    let rewritten = HandMade {
        size: MIB,
        data_file_bit: true,
        data_file_ext: Some("/root/.ssh/id_ed25519".into()),
        ..Default::default()
    };
    fs::write(&path, rewritten.bytes()).unwrap();
    let err = disk.chain[0].recheck().unwrap_err();
    assert!(matches!(err, DiskError::ExternalDataFile { .. }), "{err}");
    assert!(err.to_string().contains("id_ed25519"), "{err}");
}

#[test]
fn zero_length_guest_buffers_are_harmless_on_every_backend() {
    let dir = tempfile::tempdir().unwrap();
    let q = HandMade {
        size: MIB,
        ..Default::default()
    }
    .write(&dir.path().join("img.qcow2"));
    let r = dir.path().join("img.raw");
    fs::write(&r, vec![0u8; MIB as usize]).unwrap();
    let overlay = OpenOptions {
        overlay: true,
        ..Default::default()
    };
    for (path, options) in [
        (&q, qcow2(OpenOptions::default())),
        (&q, qcow2(overlay.clone())),
        (&r, OpenOptions::default()),
    ] {
        let disk = open(path, &options).unwrap();
        let (mut empty, mut data) = ([0u8; 0], [0x42u8; 512]);
        let bufs = [
            VolatileSlice::from(&mut empty[..]),
            VolatileSlice::from(&mut data[..]),
        ];
        disk.write_vectored(4096, &bufs).unwrap();
        disk.write_vectored(0, &bufs[..1]).unwrap();
        data.fill(0);
        let bufs = [
            VolatileSlice::from(&mut data[..]),
            VolatileSlice::from(&mut empty[..]),
        ];
        disk.read_vectored(4096, &bufs).unwrap();
        disk.read_vectored(0, &bufs[1..]).unwrap();
        assert_eq!(data, [0x42; 512], "{options:?}");
    }
}

#[test]
fn discard_inside_the_last_partial_cluster_keeps_the_rest() {
    // imago's own zeroing underflows here (a disk smaller than one cluster, a discard that stops
    // short of its end over data).
    let dir = tempfile::tempdir().unwrap();
    for size in [5 * 512, 64 * 1024 + 1536] {
        let path = HandMade {
            size,
            ..Default::default()
        }
        .write(&dir.path().join(format!("small-{size}.qcow2")));
        let disk = open(&path, &qcow2(OpenOptions::default())).unwrap();
        let mut data = vec![0x6bu8; size as usize];
        disk.write_vectored(0, &[VolatileSlice::from(data.as_mut_slice())])
            .unwrap();
        let (offset, len) = (size - 4 * 512, 2 * 512);
        disk.discard(offset, len).unwrap();
        data[(offset as usize)..(offset + len) as usize].fill(0);
        assert_eq!(read_all(disk.as_ref()), data, "size {size}");
        disk.flush().unwrap();
    }
}
