//! e2e: disks through virtio-scsi. The guest writes and checks patterns on
//! raw, qcow2, read-only, overlay and scratch drives; the host then checks
//! the image files.

use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::process::Command;

use libguest::{calls, Backend, DriveFormat, DriveOptions, Guest};
use libguest_tests::{e2e_test, fingerprint, pattern};

const MIB: u64 = 1 << 20;

fn raw_image(path: &Path, size: u64) {
    let f = std::fs::File::create(path).unwrap();
    f.set_len(size).unwrap();
}

fn qemu_img(args: &[&str]) -> String {
    let out = Command::new("qemu-img")
        .args(args)
        .output()
        .expect("qemu-img (apt-get install qemu-utils)");
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "qemu-img {args:?}: {text}");
    text
}

fn launch(g: &mut Guest) {
    if let Err(e) = g.launch() {
        panic!("launch: {e}\n{}", g.console_log());
    }
}

fn debug(g: &mut Guest, cmd: &str, args: &[&str]) -> String {
    g.debug(cmd, args)
        .unwrap_or_else(|e| panic!("debug {cmd} {args:?}: {e}\n{}", g.console_log()))
}

e2e_test! {
    /// Drives appear as sda, sdb, sdc in the order added, with their sizes;
    /// patterns written on a raw image land at the right offsets of the file.
    fn e2e_raw_qcow2_scratch_in_order_and_raw_bytes_land() {
        let dir = tempfile::tempdir().unwrap();
        let raw = dir.path().join("disk.raw");
        raw_image(&raw, 64 * MIB);
        let qcow2 = dir.path().join("disk.qcow2");
        qemu_img(&["create", "-q", "-f", "qcow2", qcow2.to_str().unwrap(), "32M"]);

        let mut g = Guest::new().unwrap();
        g.add_drive_opts(&raw, DriveOptions { format: Some(DriveFormat::Raw), ..Default::default() }).unwrap();
        g.add_drive(&qcow2).unwrap();
        g.add_drive_scratch(16 * MIB, calls::add_drive_scratch::Opts::default()).unwrap();
        launch(&mut g);
        let devs = debug(&mut g, "blockdevs", &[]);
        assert_eq!(devs, format!("sda:{}:0 sdb:{}:0 sdc:{}:0", 64 * MIB, 32 * MIB, 16 * MIB));

        let (off, len) = (3 * MIB + 512, 5 * MIB);
        debug(&mut g, "fill", &["/dev/sda", &off.to_string(), &len.to_string(), "42"]);
        debug(&mut g, "verify", &["/dev/sda", &off.to_string(), &len.to_string(), "42"]);
        let err = g.debug("verify", &["/dev/sda", &off.to_string(), &len.to_string(), "43"]).unwrap_err();
        assert!(err.to_string().contains("mismatch"), "{err}");

        debug(&mut g, "fill", &["/dev/sdb", "0", &(8 * MIB).to_string(), "7"]);
        debug(&mut g, "verify", &["/dev/sdb", "0", &(8 * MIB).to_string(), "7"]);
        debug(&mut g, "fill", &["/dev/sdc", &MIB.to_string(), &MIB.to_string(), "9"]);
        debug(&mut g, "verify", &["/dev/sdc", &MIB.to_string(), &MIB.to_string(), "9"]);
        g.shutdown().unwrap();

        let bytes = std::fs::read(&raw).unwrap();
        let (o, l) = (off as usize, len as usize);
        assert!(bytes[..o].iter().all(|&b| b == 0), "bytes before the pattern stay zero");
        assert!(bytes[o..o + l] == pattern(off, l, 42)[..], "the pattern is in the file");
        assert!(bytes[o + l..].iter().all(|&b| b == 0));

        let check = qemu_img(&["check", qcow2.to_str().unwrap()]);
        assert!(check.contains("No errors"), "{check}");
        let converted = dir.path().join("qcow2.raw");
        qemu_img(&["convert", "-O", "raw", qcow2.to_str().unwrap(), converted.to_str().unwrap()]);
        let bytes = std::fs::read(&converted).unwrap();
        assert!(bytes[..8 * MIB as usize] == pattern(0, 8 * MIB as usize, 7)[..]);
    }
}

e2e_test! {
    /// A read-only drive, as in libguestfs: the guest writes into a
    /// throwaway overlay. With `overlay: Some(false)` it is write-protected
    /// instead: writes fail, reads work. Neither file's bytes or mtime
    /// change.
    fn e2e_readonly_drive_refuses_writes_and_file_is_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let raw = dir.path().join("ro.raw");
        std::fs::write(&raw, pattern(0, 4 * MIB as usize, 5)).unwrap();
        let protected = dir.path().join("protected.raw");
        std::fs::write(&protected, pattern(0, 4 * MIB as usize, 6)).unwrap();
        let before = (fingerprint(&raw), fingerprint(&protected));

        let mut g = Guest::new().unwrap();
        g.add_drive_ro(&raw).unwrap();
        let write_protected = DriveOptions {
            readonly: true,
            overlay: Some(false),
            ..Default::default()
        };
        g.add_drive_opts(&protected, write_protected).unwrap();
        launch(&mut g);
        assert_eq!(
            debug(&mut g, "blockdevs", &[]),
            format!("sda:{}:0 sdb:{}:1", 4 * MIB, 4 * MIB)
        );
        debug(&mut g, "verify", &["/dev/sda", "0", &(4 * MIB).to_string(), "5"]);
        debug(&mut g, "fill", &["/dev/sda", &MIB.to_string(), &MIB.to_string(), "9"]);
        debug(&mut g, "verify", &["/dev/sda", &MIB.to_string(), &MIB.to_string(), "9"]);
        debug(&mut g, "verify", &["/dev/sdb", "0", &(4 * MIB).to_string(), "6"]);
        let err = g.debug("write-probe", &["/dev/sdb"]).unwrap_err();
        assert!(err.to_string().contains("Read-only") || err.to_string().contains("ermission"), "{err}");
        g.shutdown().unwrap();
        assert!(
            (fingerprint(&raw), fingerprint(&protected)) == before,
            "a read-only drive changed on disk"
        );
    }
}

e2e_test! {
    /// An overlay takes the guest's writes; the image file stays identical.
    fn e2e_overlay_takes_writes_and_file_is_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let raw = dir.path().join("base.raw");
        std::fs::write(&raw, pattern(0, 8 * MIB as usize, 1)).unwrap();
        let before = fingerprint(&raw);

        let mut g = Guest::new().unwrap();
        g.add_drive_opts(&raw, DriveOptions { overlay: Some(true), ..Default::default() }).unwrap();
        launch(&mut g);
        assert_eq!(debug(&mut g, "blockdevs", &[]), format!("sda:{}:0", 8 * MIB));
        debug(&mut g, "fill", &["/dev/sda", &MIB.to_string(), &(2 * MIB).to_string(), "2"]);
        debug(&mut g, "verify", &["/dev/sda", &MIB.to_string(), &(2 * MIB).to_string(), "2"]);
        debug(&mut g, "verify", &["/dev/sda", "0", &MIB.to_string(), "1"]);
        debug(&mut g, "verify", &["/dev/sda", &(3 * MIB).to_string(), &(5 * MIB).to_string(), "1"]);
        g.shutdown().unwrap();
        assert!(fingerprint(&raw) == before, "an overlay changed the image");
    }
}

/// libguestfs's drive options, one boot for all of them:
/// - `discard:enable`: the guest's discard punches a hole in a raw file,
///   the range reads as zeroes and the file has fewer allocated blocks;
/// - the default (`disable`): the same discard succeeds in the guest and
///   the file keeps every block and byte;
/// - `copyonread`: what the guest reads through a qcow2 top from its raw
///   backing file lands in the top (qemu-img map), the backing file
///   unchanged; a plain read of another top copies nothing.
fn discard_modes_and_copy_on_read(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let thin = dir.path().join("thin.raw");
    let kept = dir.path().join("kept.raw");
    raw_image(&thin, 32 * MIB);
    raw_image(&kept, 32 * MIB);
    let base = dir.path().join("base.raw");
    std::fs::write(&base, pattern(0, 8 * MIB as usize, 5)).unwrap();
    let base_print = fingerprint(&base);
    let tops = [dir.path().join("cor.qcow2"), dir.path().join("plain.qcow2")];
    for top in &tops {
        qemu_img(&[
            "create",
            "-q",
            "-f",
            "qcow2",
            "-b",
            "base.raw",
            "-F",
            "raw",
            top.to_str().unwrap(),
        ]);
    }

    let mut g = Guest::new().unwrap();
    g.set_backend(backend).unwrap();
    let enable = calls::add_drive_opts::Opts {
        discard: Some("enable".into()),
        ..Default::default()
    };
    g.add_drive_opts(&thin, enable).unwrap();
    g.add_drive(&kept).unwrap();
    for (top, copy_on_read) in tops.iter().zip([true, false]) {
        let options = DriveOptions {
            format: Some(DriveFormat::Qcow2),
            copy_on_read,
            ..Default::default()
        };
        g.add_drive_opts(top, options).unwrap();
    }
    launch(&mut g);
    let (start, len) = ((4 * MIB).to_string(), (8 * MIB).to_string());
    for dev in ["/dev/sda", "/dev/sdb"] {
        debug(&mut g, "fill", &[dev, "0", &(16 * MIB).to_string(), "3"]);
    }
    let allocated = [&thin, &kept].map(|f| std::fs::metadata(f).unwrap().blocks());
    for dev in ["/dev/sda", "/dev/sdb"] {
        debug(&mut g, "discard", &[dev, &start, &len]);
    }
    for dev in ["/dev/sdc", "/dev/sdd"] {
        debug(
            &mut g,
            "verify",
            &[dev, &MIB.to_string(), &(2 * MIB).to_string(), "5"],
        );
    }
    g.shutdown().unwrap();

    let after = [&thin, &kept].map(|f| std::fs::metadata(f).unwrap().blocks());
    assert!(
        after[0] < allocated[0],
        "discard:enable: blocks {} -> {}",
        allocated[0],
        after[0]
    );
    assert_eq!(after[1], allocated[1], "discard:disable freed blocks");
    let (a, b) = (4 * MIB as usize, 12 * MIB as usize);
    let bytes = std::fs::read(&thin).unwrap();
    assert!(bytes[a..b].iter().all(|&x| x == 0));
    assert!(bytes[..a] == pattern(0, a, 3)[..]);
    assert!(bytes[b..16 * MIB as usize] == pattern(b as u64, 4 * MIB as usize, 3)[..]);
    let bytes = std::fs::read(&kept).unwrap();
    assert!(
        bytes[..16 * MIB as usize] == pattern(0, 16 * MIB as usize, 3)[..],
        "discard:disable changed data"
    );

    let top_data = |top: &Path| -> u64 {
        let map: serde_json::Value =
            serde_json::from_str(&qemu_img(&["map", "--output=json", top.to_str().unwrap()]))
                .unwrap();
        let entries = map.as_array().cloned().unwrap_or_default();
        let top_entries = entries
            .iter()
            .filter(|e| e["depth"] == 0 && e["data"] == true);
        top_entries.map(|e| e["length"].as_u64().unwrap()).sum()
    };
    // The guest reads more than asked (its read-ahead and the partition
    // scan), so at least the verified 2 MiB are in the top.
    let copied = top_data(&tops[0]);
    assert!(
        copied >= 2 * MIB,
        "copy-on-read put {copied} bytes in the top"
    );
    assert_eq!(top_data(&tops[1]), 0, "a plain read copied into the top");
    assert!(
        fingerprint(&base) == base_print,
        "copy-on-read changed the backing file"
    );
    qemu_img(&["check", "-q", tops[0].to_str().unwrap()]);
}

libguest_tests::on_both_backends! {
    discard_modes_and_copy_on_read => e2e_discard_modes_and_copy_on_read, tcg_discard_modes_and_copy_on_read;
}

/// Bad drives are refused when added, before anything boots (no VM needed).
#[test]
fn bad_drives_are_refused_before_launch() {
    {
        let dir = tempfile::tempdir().unwrap();
        let mut g = Guest::new().unwrap();
        let missing = dir.path().join("missing.img");
        assert!(g
            .add_drive(&missing)
            .unwrap_err()
            .to_string()
            .contains("missing.img"));
        let corrupt = dir.path().join("corrupt.qcow2");
        let mut bytes = b"QFI\xfb".to_vec();
        bytes.extend_from_slice(&[0xff; 508]);
        std::fs::write(&corrupt, &bytes).unwrap();
        let err = g.add_drive(&corrupt).unwrap_err().to_string();
        assert!(err.contains("corrupt.qcow2"), "{err}");
        // Said raw: never probed, so the same bytes are a fine raw disk.
        g.add_drive_opts(
            &corrupt,
            DriveOptions {
                format: Some(DriveFormat::Raw),
                readonly: true,
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(g.drives().len(), 1);
    }
}
