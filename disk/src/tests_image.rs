//! image_info and create_image: images made here read back as made, and
//! qemu-img (where installed) reads them the same way; what drives refuse
//! is refused, and a backing file is named, never opened.

use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::Path;
use std::process::Command;

use crate::tests_hostile_util::{mkfifo, within};
use crate::{
    create_image, image_info, open_disk, resolve_backing, CreateOptions, DiskError, Format,
    OpenOptions, Preallocation,
};

fn opts(format: Format, size: u64) -> CreateOptions {
    CreateOptions {
        format,
        size,
        backing: None,
        preallocation: Preallocation::Off,
        cluster_size: None,
        compat_v2: false,
    }
}

/// `qemu-img info --output=json` (and `check` for qcow2), or None with a
/// note where qemu-img is not installed (apt-get install qemu-utils).
fn qemu_img_info(path: &Path) -> Option<String> {
    let out = match Command::new("qemu-img")
        .args(["info", "--output=json"])
        .arg(path)
        .output()
    {
        Ok(out) => out,
        Err(_) => {
            eprintln!("qemu-img not installed (qemu-utils): cross-check skipped");
            return None;
        }
    };
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn qemu_img_check(path: &Path) {
    if let Ok(out) = Command::new("qemu-img").arg("check").arg(path).output() {
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
}

fn has(info: &str, field: &str, value: &str) {
    let wanted = format!("\"{field}\": {value}");
    assert!(info.contains(&wanted), "{wanted} not in {info}");
}

#[test]
fn raw_images_are_as_long_as_asked_sparse_or_full() {
    let dir = tempfile::tempdir().unwrap();
    let sparse = dir.path().join("a.raw");
    // libguestfs truncates raw images itself: the length is exact; qemu-img
    // reports it in whole sectors, and so does image_info.
    create_image(&sparse, &opts(Format::Raw, 1000)).unwrap();
    let info = image_info(&sparse).unwrap();
    assert_eq!((info.format, info.virtual_size), (Format::Raw, 1024));
    assert_eq!(info.backing_file, None);
    let meta = std::fs::metadata(&sparse).unwrap();
    assert_eq!((meta.len(), meta.blocks()), (1000, 0));
    if let Some(q) = qemu_img_info(&sparse) {
        has(&q, "format", "\"raw\"");
        has(&q, "virtual-size", "1024");
    }

    let full = dir.path().join("full.raw");
    let mut o = opts(Format::Raw, 3 << 19);
    o.preallocation = Preallocation::Full;
    create_image(&full, &o).unwrap();
    let meta = std::fs::metadata(&full).unwrap();
    assert_eq!(meta.len(), 3 << 19);
    assert!(meta.blocks() * 512 >= 3 << 19, "{} blocks", meta.blocks());
    assert!(std::fs::read(&full).unwrap().iter().all(|b| *b == 0));

    // An existing image is truncated and made again.
    create_image(&full, &opts(Format::Raw, 512)).unwrap();
    assert_eq!(image_info(&full).unwrap().virtual_size, 512);

    o.preallocation = Preallocation::Metadata;
    assert!(create_image(&full, &o).is_err());
}

#[test]
fn qcow2_images_agree_with_qemu_img() {
    let dir = tempfile::tempdir().unwrap();
    let img = dir.path().join("a.qcow2");
    let mut o = opts(Format::Qcow2, 5 << 20);
    o.cluster_size = Some(4096);
    create_image(&img, &o).unwrap();
    let info = image_info(&img).unwrap();
    assert_eq!(info.format, Format::Qcow2);
    assert_eq!(info.virtual_size, 5 << 20);
    assert_eq!(info.backing_file, None);
    // Sparse: a few clusters of metadata, not 5 MiB.
    assert!(std::fs::metadata(&img).unwrap().len() < 1 << 20);
    if let Some(q) = qemu_img_info(&img) {
        has(&q, "format", "\"qcow2\"");
        has(&q, "virtual-size", &(5u64 << 20).to_string());
        has(&q, "cluster-size", "4096");
        has(&q, "compat", "\"1.1\"");
        qemu_img_check(&img);
    }
    // And the other way: what qemu-img makes, image_info reads.
    let theirs = dir.path().join("theirs.qcow2");
    if let Ok(out) = Command::new("qemu-img")
        .args(["create", "-q", "-f", "qcow2"])
        .arg(&theirs)
        .arg("3M")
        .output()
    {
        assert!(out.status.success());
        let info = image_info(&theirs).unwrap();
        assert_eq!((info.format, info.virtual_size), (Format::Qcow2, 3 << 20));
    }
}

#[test]
fn qcow2_preallocation_allocates_what_it_says() {
    let dir = tempfile::tempdir().unwrap();
    let size = 2u64 << 20;
    let meta = dir.path().join("meta.qcow2");
    let mut o = opts(Format::Qcow2, size);
    o.preallocation = Preallocation::Metadata;
    create_image(&meta, &o).unwrap();
    assert_eq!(image_info(&meta).unwrap().virtual_size, size);
    let full = dir.path().join("full.qcow2");
    o.preallocation = Preallocation::Full;
    create_image(&full, &o).unwrap();
    let on_disk = std::fs::metadata(&full).unwrap();
    assert!(
        on_disk.blocks() * 512 >= size,
        "{} blocks",
        on_disk.blocks()
    );
    for img in [&meta, &full] {
        qemu_img_check(img);
        // Every guest byte is mapped to data in the image file.
        if let Ok(out) = Command::new("qemu-img")
            .args(["map", "--output=json"])
            .arg(img)
            .output()
        {
            let map = String::from_utf8_lossy(&out.stdout);
            assert!(map.contains("\"data\": true"), "{map}");
            assert!(!map.contains("\"data\": false"), "{map}");
        }
    }
    // Reads as zeroes through the disk layer.
    let opened = open_disk(
        &meta,
        &OpenOptions {
            format: Some(Format::Qcow2),
            readonly: true,
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(opened.backend.size(), size);
}

#[test]
fn backing_files_are_named_not_opened() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("base.raw");
    create_image(&base, &opts(Format::Raw, 1 << 20)).unwrap();
    let top = dir.path().join("top.qcow2");
    let mut o = opts(Format::Qcow2, 1 << 20);
    o.backing = Some(("base.raw".into(), Format::Raw));
    create_image(&top, &o).unwrap();
    let info = image_info(&top).unwrap();
    assert_eq!(info.format, Format::Qcow2);
    assert_eq!(info.virtual_size, 1 << 20);
    assert_eq!(info.backing_file.as_deref(), Some("base.raw"));
    assert_eq!(resolve_backing(&top, "base.raw"), base);
    if let Some(q) = qemu_img_info(&top) {
        has(&q, "backing-filename", "\"base.raw\"");
        has(&q, "backing-filename-format", "\"raw\"");
        qemu_img_check(&top);
    }
    // The disk layer opens what was written, chain and all.
    let opened = open_disk(
        &top,
        &OpenOptions {
            format: Some(Format::Qcow2),
            readonly: true,
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(opened.chain.len(), 2);

    // A backing file that is a FIFO (or gone) is reported, not opened:
    // opening the FIFO would block, so a hang fails the test.
    std::fs::remove_file(&base).unwrap();
    let info = image_info(&top).unwrap();
    assert_eq!(info.backing_file.as_deref(), Some("base.raw"));
    mkfifo(&base);
    let probed = top.clone();
    let info = within("image_info with a FIFO backing file", move || {
        image_info(&probed)
    })
    .unwrap();
    assert_eq!(info.backing_file.as_deref(), Some("base.raw"));

    // Preallocation is refused with a backing file.
    o.preallocation = Preallocation::Metadata;
    assert!(create_image(&dir.path().join("p.qcow2"), &o).is_err());
}

#[test]
fn fifos_and_devices_are_refused_without_blocking() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("fifo");
    mkfifo(&fifo);
    let f = fifo.clone();
    let err = within("image_info on a FIFO", move || image_info(&f)).unwrap_err();
    assert!(matches!(err, DiskError::NotADisk { .. }), "{err}");
    let f = fifo.clone();
    let err = within("create_image on a FIFO", move || {
        create_image(&f, &opts(Format::Raw, 512))
    })
    .unwrap_err();
    assert!(matches!(err, DiskError::NotADisk { .. }), "{err}");
    assert!(std::fs::metadata(&fifo).unwrap().file_type().is_fifo());

    let err = image_info(Path::new("/dev/null")).unwrap_err();
    assert!(matches!(err, DiskError::NotADisk { .. }), "{err}");
    let err = create_image(Path::new("/dev/null"), &opts(Format::Raw, 512)).unwrap_err();
    assert!(matches!(err, DiskError::NotADisk { .. }), "{err}");
    let err = image_info(&dir.path().join("missing.img")).unwrap_err();
    assert!(matches!(err, DiskError::NotFound { .. }), "{err}");
    let err = image_info(dir.path()).unwrap_err();
    assert!(matches!(err, DiskError::NotADisk { .. }), "{err}");
}

/// A loop device over a file, detached on drop; None (with a note) where
/// this test cannot make one (not root, no loop driver).
struct Loop(String);

impl Loop {
    fn over(file: &Path) -> Option<Loop> {
        let out = Command::new("losetup")
            .args(["--find", "--show"])
            .arg(file)
            .output()
            .ok()?;
        if !out.status.success() {
            eprintln!(
                "no loop device ({}): block-device case skipped",
                String::from_utf8_lossy(&out.stderr).trim()
            );
            return None;
        }
        Some(Loop(String::from_utf8_lossy(&out.stdout).trim().to_owned()))
    }
}

impl Drop for Loop {
    fn drop(&mut self) {
        let _ = Command::new("losetup").args(["-d", &self.0]).status();
    }
}

#[test]
fn a_raw_image_on_a_block_device_is_the_device_discarded() {
    let dir = tempfile::tempdir().unwrap();
    let backing = dir.path().join("dev.img");
    std::fs::write(&backing, vec![0xaa; 4 << 20]).unwrap();
    let Some(dev) = Loop::over(&backing) else {
        return;
    };
    let dev_path = Path::new(&dev.0);
    // The size asked for is ignored: a device keeps its own.
    create_image(dev_path, &opts(Format::Raw, 512)).unwrap();
    let info = image_info(dev_path).unwrap();
    assert_eq!((info.format, info.virtual_size), (Format::Raw, 4 << 20));
    // The loop driver discards by punching holes: the blocks read as zeroes.
    let data = std::fs::read(&backing).unwrap();
    assert_eq!(data.len(), 4 << 20);
    assert!(data.iter().all(|b| *b == 0), "the device was not discarded");
    let err = create_image(dev_path, &opts(Format::Qcow2, 1 << 20)).unwrap_err();
    assert!(matches!(err, DiskError::NotADisk { .. }), "{err}");
    assert!(err.to_string().contains("raw images only"), "{err}");
}

#[test]
fn compat_0_10_writes_a_version_2_header_qemu_accepts() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("base.qcow2");
    create_image(&base, &opts(Format::Qcow2, 1 << 20)).unwrap();
    for (name, backing) in [("plain.qcow2", None), ("top.qcow2", Some("base.qcow2"))] {
        let img = dir.path().join(name);
        let mut o = opts(Format::Qcow2, 3 << 20);
        o.compat_v2 = true;
        o.cluster_size = Some(512);
        o.backing = backing.map(|b| (b.to_owned(), Format::Qcow2));
        create_image(&img, &o).unwrap();
        let head = std::fs::read(&img).unwrap();
        assert_eq!(&head[4..8], &2u32.to_be_bytes(), "{name}: version");
        let info = image_info(&img).unwrap();
        assert_eq!(info.virtual_size, 3 << 20);
        assert_eq!(info.backing_file.as_deref(), backing);
        if let Some(q) = qemu_img_info(&img) {
            has(&q, "compat", "\"0.10\"");
            has(&q, "virtual-size", &(3u64 << 20).to_string());
            has(&q, "cluster-size", "512");
            if let Some(b) = backing {
                has(&q, "backing-filename", &format!("\"{b}\""));
                has(&q, "backing-filename-format", "\"qcow2\"");
            }
            qemu_img_check(&img);
        }
        // The disk layer (imago) opens and reads it.
        let opened = open_disk(
            &img,
            &OpenOptions {
                format: Some(Format::Qcow2),
                readonly: true,
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(opened.backend.size(), 3 << 20);
        assert_eq!(opened.chain.len(), if backing.is_some() { 2 } else { 1 });
    }
}

#[test]
fn other_formats_are_named_as_qemu_img_names_them() {
    let dir = tempfile::tempdir().unwrap();
    // Without qemu-img: a VMDK's magic alone.
    let fake = dir.path().join("fake.vmdk");
    let mut bytes = b"KDMV".to_vec();
    bytes.resize(4096, 0);
    std::fs::write(&fake, &bytes).unwrap();
    let err = image_info(&fake).unwrap_err();
    assert!(
        matches!(err, DiskError::ForeignFormat { format: "vmdk", .. }),
        "{err}"
    );
    assert!(
        err.to_string().contains("qemu-img convert -O qcow2"),
        "{err}"
    );
    // Given as raw, it is raw: the magic is data.
    let info = crate::image_info_as(&fake, Some(Format::Raw)).unwrap();
    assert_eq!((info.format, info.virtual_size), (Format::Raw, 4096));

    for format in ["vmdk", "vdi", "vhdx", "vpc", "qed", "parallels", "qcow"] {
        let img = dir.path().join(format!("x.{format}"));
        let Ok(out) = Command::new("qemu-img")
            .args(["create", "-q", "-f", format])
            .arg(&img)
            .arg("4M")
            .output()
        else {
            eprintln!("qemu-img not installed (qemu-utils): cross-check skipped");
            return;
        };
        assert!(
            out.status.success(),
            "{format}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let q = qemu_img_info(&img).unwrap();
        has(&q, "format", &format!("\"{format}\""));
        match image_info(&img) {
            Err(DiskError::ForeignFormat { format: named, .. }) => assert_eq!(named, format),
            other => panic!("{format}: {other:?}"),
        }
    }
}
