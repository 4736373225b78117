//! Hostile images refused: external data files, a probed image naming a backing file, FIFOs and
//! character devices in the chain or as the drive, missing backing formats, loops.

use std::fs;
use std::path::Path;

use super::tests::qcow2;
use super::tests_hostile_util::*;
use super::*;

#[test]
fn qemu_img_data_file_pointing_at_a_host_file_is_refused_and_never_touched() {
    let dir = tempfile::tempdir().unwrap();
    let sentinel = dir.path().join("authorized_keys");
    let image = dir.path().join("evil.qcow2");
    let opt = format!("data_file={},data_file_raw=on", s(&sentinel));
    qemu_img(&["create", "-q", "-f", "qcow2", "-o", &opt, s(&image), "1M"]);
    // The host file the header points at, with contents of its own.
    fs::write(&sentinel, b"ssh-ed25519 AAAA... user@host\n".repeat(100)).unwrap();
    backdate(&sentinel);
    let before = fingerprint(&sentinel);

    let all = [
        OpenOptions::default(),
        qcow2(OpenOptions::default()),
        qcow2(OpenOptions {
            readonly: true,
            ..Default::default()
        }),
        qcow2(OpenOptions {
            overlay: true,
            ..Default::default()
        }),
    ];
    for options in all {
        let err = open(&image, &options).unwrap_err();
        assert!(
            matches!(err, DiskError::ExternalDataFile { .. }),
            "{options:?}: {err}"
        );
        let msg = err.to_string();
        assert!(
            msg.contains("authorized_keys") && msg.contains("evil.qcow2"),
            "{msg}"
        );
        assert_not_open_for_writing(&sentinel, "after a refused open");
        assert!(
            open_modes(&sentinel).is_empty(),
            "the data file stayed open"
        );
    }
    assert!(fingerprint(&sentinel) == before, "the data file changed");
}

#[test]
fn data_file_bit_or_extension_alone_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let bit_only = HandMade {
        size: MIB,
        data_file_bit: true,
        ..Default::default()
    }
    .write(&dir.path().join("bit.qcow2"));
    let err = open(&bit_only, &qcow2(OpenOptions::default())).unwrap_err();
    assert!(matches!(err, DiskError::ExternalDataFile { .. }), "{err}");
    assert!(err.to_string().contains("names none"), "{err}");

    let ext_only = HandMade {
        size: MIB,
        data_file_ext: Some("/etc/shadow".into()),
        ..Default::default()
    }
    .write(&dir.path().join("ext.qcow2"));
    let err = open(&ext_only, &qcow2(OpenOptions::default())).unwrap_err();
    assert!(matches!(err, DiskError::ExternalDataFile { .. }), "{err}");
    assert!(err.to_string().contains("/etc/shadow"), "{err}");

    // The hand-made layout itself is a valid image (qemu agrees), so only the data file refuses.
    let plain = HandMade {
        size: 3 * MIB,
        ..Default::default()
    }
    .write(&dir.path().join("plain.qcow2"));
    qemu_img(&["check", "-q", s(&plain)]);
    let disk = open(&plain, &OpenOptions::default()).unwrap();
    assert_eq!(disk.size(), 3 * MIB);
    assert!(read_all(disk.as_ref()).iter().all(|&b| b == 0));
}

#[test]
fn raw_disk_a_guest_turned_into_qcow2_with_a_backing_file_is_refused_when_probed() {
    // CVE-2008-2004: a guest writes a qcow2 header over sector 0 of its raw disk, naming a host
    // file as backing file. The next probing open would show that file to the guest.
    let dir = tempfile::tempdir().unwrap();
    let secret = dir.path().join("secret");
    fs::write(&secret, vec![0x5e; MIB as usize]).unwrap();
    let header = HandMade {
        size: MIB,
        backing: Some(s(&secret).into()),
        backing_format: Some("raw".into()),
        ..Default::default()
    }
    .bytes();
    let mut disk_bytes = vec![0u8; 4 * MIB as usize];
    disk_bytes[..header.len()].copy_from_slice(&header);
    let raw = dir.path().join("guest.img");
    fs::write(&raw, &disk_bytes).unwrap();

    let err = open(&raw, &OpenOptions::default()).unwrap_err();
    assert!(matches!(err, DiskError::ProbedBacking { .. }), "{err}");
    let msg = err.to_string();
    assert!(msg.contains("guest.img") && msg.contains("secret"), "{msg}");
    assert!(
        msg.contains("format qcow2 explicitly") && msg.contains("format raw"),
        "{msg}"
    );
    let read_only = OpenOptions {
        readonly: true,
        ..Default::default()
    };
    assert!(matches!(
        open(&raw, &read_only),
        Err(DiskError::ProbedBacking { .. })
    ));

    // Said to be raw, it is what the guest wrote, and nothing of the secret.
    let options = OpenOptions {
        format: Some(Format::Raw),
        readonly: true,
        ..Default::default()
    };
    let disk = open(&raw, &options).unwrap();
    assert_eq!(read_all(disk.as_ref()), disk_bytes);
}

#[test]
fn fifo_as_backing_file_or_drive_fails_at_once_instead_of_blocking() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("pipe");
    mkfifo(&fifo);
    let top = HandMade {
        size: MIB,
        backing: Some("pipe".into()),
        backing_format: Some("raw".into()),
        ..Default::default()
    }
    .write(&dir.path().join("top.qcow2"));

    let opened = within("opening a qcow2 whose backing file is a FIFO", move || {
        open(&top, &qcow2(OpenOptions::default())).map(drop)
    });
    let err = opened.unwrap_err();
    assert!(matches!(err, DiskError::BackingNotADisk { .. }), "{err}");
    assert!(
        err.to_string().contains("a FIFO") && err.to_string().contains("pipe"),
        "{err}"
    );

    for options in [OpenOptions::default(), qcow2(OpenOptions::default())] {
        let path = fifo.clone();
        let err = within("opening a FIFO as a drive", move || {
            open(&path, &options).map(drop)
        })
        .unwrap_err();
        assert!(matches!(err, DiskError::NotADisk { .. }), "{err}");
        assert!(err.to_string().contains("a FIFO"), "{err}");
    }
    let path = fifo.clone();
    let err = within("detect_format on a FIFO", move || detect_format(&path)).unwrap_err();
    assert!(matches!(err, DiskError::NotADisk { .. }), "{err}");
}

#[test]
fn character_devices_are_refused_in_the_chain_and_as_the_drive() {
    let dir = tempfile::tempdir().unwrap();
    for dev in ["/dev/zero", "/dev/null"] {
        let top = HandMade {
            size: MIB,
            backing: Some(dev.into()),
            backing_format: Some("raw".into()),
            ..Default::default()
        }
        .write(&dir.path().join("top.qcow2"));
        let err = open(&top, &qcow2(OpenOptions::default())).unwrap_err();
        assert!(matches!(err, DiskError::BackingNotADisk { .. }), "{err}");
        assert!(err.to_string().contains("a character device"), "{err}");
        assert!(err.to_string().contains(dev), "{err}");

        let err = open(Path::new(dev), &OpenOptions::default()).unwrap_err();
        assert!(matches!(err, DiskError::NotADisk { .. }), "{err}");
    }
}

#[test]
fn backing_format_is_never_probed() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("base.raw"), vec![7u8; MIB as usize]).unwrap();
    let top = HandMade {
        size: MIB,
        backing: Some("base.raw".into()),
        ..Default::default()
    }
    .write(&dir.path().join("top.qcow2"));
    for options in [
        qcow2(OpenOptions::default()),
        qcow2(OpenOptions {
            readonly: true,
            ..Default::default()
        }),
    ] {
        let err = open(&top, &options).unwrap_err();
        assert!(
            matches!(err, DiskError::BackingFormatMissing { .. }),
            "{err}"
        );
        let msg = err.to_string();
        assert!(
            msg.contains("base.raw") && msg.contains("top.qcow2"),
            "{msg}"
        );
        assert!(
            msg.contains("qemu-img rebase -u -b 'base.raw' -F raw"),
            "{msg}"
        );
    }
    // The fix the message gives works, and then the chain opens.
    qemu_img(&["rebase", "-u", "-b", "base.raw", "-F", "raw", s(&top)]);
    let disk = open(&top, &qcow2(OpenOptions::default())).unwrap();
    assert!(read_all(disk.as_ref()).iter().all(|&b| b == 7));
}

#[test]
fn backing_loops_are_named_as_loops() {
    let dir = tempfile::tempdir().unwrap();
    let looped = |name: &str, backing: &str| {
        HandMade {
            size: MIB,
            backing: Some(backing.into()),
            backing_format: Some("qcow2".into()),
            ..Default::default()
        }
        .write(&dir.path().join(name))
    };
    let a = looped("a.qcow2", "b.qcow2");
    looped("b.qcow2", "a.qcow2");
    let me = looped("self.qcow2", "self.qcow2");
    for top in [a, me] {
        let err = open(&top, &qcow2(OpenOptions::default())).unwrap_err();
        assert!(matches!(err, DiskError::BackingChain { .. }), "{err}");
        assert!(err.to_string().contains("loops"), "{err}");
    }
}
