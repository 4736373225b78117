//! e2e: hostile disk images on both backends. An image whose external data
//! file is a host file, and a raw disk into which a guest wrote a qcow2
//! header naming a host file as backing file, are refused when added; a
//! qcow2 over a raw backing file, given with its format, opens read-only
//! (and as an overlay) and the guest reads the backing data. No byte or
//! mtime of any file involved changes. One appliance boot per backend.

use std::path::{Path, PathBuf};
use std::process::Command;

use libguest::{Backend, DriveFormat, DriveOptions, Guest};
use libguest_tests::{fingerprint, pattern};

const MIB: u64 = 1 << 20;
const SEED: u64 = 0x1057;

fn qemu_img(args: &[&str]) {
    let out = Command::new("qemu-img")
        .args(args)
        .output()
        .expect("qemu-img (apt-get install qemu-utils)");
    assert!(
        out.status.success(),
        "qemu-img {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn s(path: &Path) -> &str {
    path.to_str().unwrap()
}

fn debug(g: &mut Guest, cmd: &str, args: &[&str]) -> String {
    g.debug(cmd, args)
        .unwrap_or_else(|e| panic!("debug {cmd} {args:?}: {e}\n{}", g.console_log()))
}

struct Images {
    sentinel: PathBuf,
    data_file_image: PathBuf,
    secret: PathBuf,
    turned_raw: PathBuf,
    base: PathBuf,
    top: PathBuf,
}

fn make_images(dir: &Path) -> Images {
    // A qcow2 whose data file is a host file the user never named.
    let sentinel = dir.join("authorized_keys");
    let data_file_image = dir.join("evil.qcow2");
    let opt = format!("data_file={},data_file_raw=on", s(&sentinel));
    qemu_img(&[
        "create",
        "-q",
        "-f",
        "qcow2",
        "-o",
        &opt,
        s(&data_file_image),
        "1M",
    ]);
    std::fs::write(&sentinel, b"ssh-ed25519 AAAA host-key\n".repeat(64)).unwrap();

    // A raw disk whose first sectors a guest overwrote with a qcow2 header
    // that names a host file as backing file (CVE-2008-2004).
    let secret = dir.join("secret");
    std::fs::write(&secret, vec![0x5e; MIB as usize]).unwrap();
    let header = dir.join("header.qcow2");
    qemu_img(&[
        "create",
        "-q",
        "-u",
        "-f",
        "qcow2",
        "-b",
        s(&secret),
        "-F",
        "raw",
        s(&header),
        "1M",
    ]);
    let mut turned = std::fs::read(&header).unwrap();
    turned.resize(4 * MIB as usize, 0);
    let turned_raw = dir.join("guest.img");
    std::fs::write(&turned_raw, &turned).unwrap();

    // A trusted chain: qcow2 over raw, the backing format recorded.
    let base = dir.join("base.raw");
    std::fs::write(&base, pattern(0, 8 * MIB as usize, SEED)).unwrap();
    let top = dir.join("top.qcow2");
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
    Images {
        sentinel,
        data_file_image,
        secret,
        turned_raw,
        base,
        top,
    }
}

fn hostile_disks(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let img = make_images(dir.path());
    let all = [
        &img.sentinel,
        &img.data_file_image,
        &img.secret,
        &img.turned_raw,
        &img.base,
        &img.top,
    ];
    let before: Vec<_> = all.iter().map(|p| fingerprint(p)).collect();

    let mut g = Guest::new().unwrap();
    g.set_backend(backend).unwrap();
    g.set_tmpdir(Some(dir.path().to_path_buf())).unwrap();
    let qcow2 = |readonly, overlay| DriveOptions {
        format: Some(DriveFormat::Qcow2),
        readonly,
        overlay,
        ..Default::default()
    };
    for options in [
        DriveOptions::default(),
        qcow2(true, Some(false)),
        qcow2(true, None),
        qcow2(false, Some(true)),
    ] {
        let err = g
            .add_drive_opts(&img.data_file_image, options.clone())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("external data file") && err.contains("authorized_keys"),
            "{options:?}: {err}"
        );
    }
    let err = g.add_drive(&img.turned_raw).unwrap_err().to_string();
    assert!(err.contains("guest.img") && err.contains("secret"), "{err}");
    assert!(err.contains("--format qcow2"), "{err}");
    assert!(g.drives().is_empty());

    g.add_drive_opts(&img.top, qcow2(true, Some(false)))
        .unwrap();
    g.add_drive_opts(&img.top, qcow2(false, Some(true)))
        .unwrap();
    if let Err(e) = g.launch() {
        panic!("launch: {e}\n{}", g.console_log());
    }
    assert_eq!(
        g.backend(),
        Some(if backend == Backend::Tcg {
            "tcg"
        } else {
            "kvm"
        })
    );
    let size = 8 * MIB;
    assert_eq!(
        debug(&mut g, "blockdevs", &[]),
        format!("sda:{size}:1 sdb:{size}:0")
    );
    let whole = ["0", &size.to_string(), &SEED.to_string()];
    for dev in ["/dev/sda", "/dev/sdb"] {
        debug(&mut g, "verify", &[&[dev][..], &whole].concat());
    }
    let err = g
        .debug("write-probe", &["/dev/sda"])
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("Read-only") || err.contains("ermission"),
        "{err}"
    );
    // The overlay takes writes over the read-only chain.
    let (off, len) = (MIB.to_string(), (2 * MIB).to_string());
    debug(&mut g, "fill", &["/dev/sdb", &off, &len, "9"]);
    debug(&mut g, "verify", &["/dev/sdb", &off, &len, "9"]);
    debug(
        &mut g,
        "verify",
        &["/dev/sdb", "0", &off, &SEED.to_string()],
    );
    g.shutdown().unwrap();

    let after: Vec<_> = all.iter().map(|p| fingerprint(p)).collect();
    for ((path, b), a) in all.iter().zip(&before).zip(&after) {
        assert!(b == a, "{} changed (bytes or mtime)", path.display());
    }
}

libguest_tests::on_both_backends! {
    hostile_disks => e2e_hostile_disks, tcg_hostile_disks;
}
