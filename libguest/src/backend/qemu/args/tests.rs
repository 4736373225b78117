//! The qemu command line: devices in order, and drives passed as the exact
//! node graph on checked descriptors, whatever their paths look like.

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::process::Command as Process;

use serde_json::{json, Value};

use super::*;
use crate::drive::DriveOptions;

fn node(fd: RawFd, format: DriveFormat, read_only: bool) -> QemuNode {
    QemuNode {
        fd,
        format,
        block_device: false,
        read_only,
    }
}

fn machine_args(drives: &[QemuDrive]) -> Vec<String> {
    let args = command_line(&Machine {
        kernel: Path::new("/k/vmlinux"),
        initramfs: Path::new("/k/initrd"),
        cmdline: "console=ttyS0 reboot=k",
        mem_mib: 768,
        vcpus: 2,
        drives,
        channel_fd: 7,
    });
    args.iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect()
}

fn after<'a>(args: &'a [String], flag: &str) -> Vec<&'a str> {
    args.windows(2)
        .filter(|w| w[0] == flag)
        .map(|w| w[1].as_str())
        .collect()
}

fn blockdevs(args: &[String]) -> Vec<Value> {
    after(args, "-blockdev")
        .iter()
        .map(|j| serde_json::from_str(j).unwrap_or_else(|e| panic!("{j}: {e}")))
        .collect()
}

#[test]
fn command_line_has_the_devices_in_order() {
    let drives = [
        QemuDrive {
            chain: vec![node(10, DriveFormat::Raw, false)],
            overlay: None,
            unmap: true,
            copy_on_read: false,
        },
        QemuDrive {
            chain: vec![
                node(11, DriveFormat::Qcow2, true),
                node(12, DriveFormat::Raw, true),
            ],
            overlay: None,
            unmap: false,
            copy_on_read: false,
        },
        QemuDrive {
            chain: vec![QemuNode {
                block_device: true,
                ..node(13, DriveFormat::Raw, true)
            }],
            overlay: Some(14),
            unmap: false,
            copy_on_read: true,
        },
    ];
    let args = machine_args(&drives);
    let joined = args.join(" ");
    assert_eq!(after(&args, "-M"), ["microvm,acpi=off,x-option-roms=off"]);
    assert_eq!(after(&args, "-accel"), ["tcg"]);
    assert_eq!(after(&args, "-m"), ["768"]);
    assert_eq!(after(&args, "-smp"), ["2"]);
    for flag in ["-nodefaults", "-no-user-config", "-no-reboot"] {
        assert!(args.iter().any(|a| a == flag), "{flag} missing: {joined}");
    }
    assert!(!args.iter().any(|a| a == "-drive"), "{joined}");
    assert_eq!(after(&args, "-serial"), ["stdio"]);
    assert_eq!(after(&args, "-append"), ["console=ttyS0 reboot=k reboot=t"]);
    assert_eq!(after(&args, "-kernel"), ["/k/vmlinux"]);
    assert_eq!(after(&args, "-initrd"), ["/k/initrd"]);
    assert_eq!(
        after(&args, "-add-fd"),
        (10..=14)
            .map(|fd| format!("fd={fd},set={fd}"))
            .collect::<Vec<_>>()
    );
    let device = |i: usize| {
        format!("scsi-hd,bus=scsi0.0,channel=0,scsi-id={i},lun=0,drive=drive{i},werror=report,rerror=report")
    };
    assert_eq!(
        after(&args, "-device"),
        [
            "virtio-scsi-device,id=scsi0".to_string(),
            "virtio-serial-device,id=vser0".into(),
            "virtserialport,bus=vser0.0,nr=1,chardev=channel0,name=org.libguest.channel.0".into(),
            device(0),
            device(1),
            device(2),
        ]
    );
    assert_eq!(after(&args, "-chardev"), ["socket,id=channel0,fd=7"]);

    let graphs = blockdevs(&args);
    assert_eq!(
        graphs[0],
        json!({"driver": "raw", "node-name": "drive0", "read-only": false,
               "auto-read-only": false, "discard": "unmap",
               "file": {"driver": "file", "node-name": "drive0-file",
                        "filename": "/dev/fdset/10", "read-only": false,
                        "auto-read-only": false, "discard": "unmap"}})
    );
    // qcow2 over raw: the backing node is given, not left to the header.
    let g = &graphs[1];
    assert_eq!(g["driver"], "qcow2");
    assert_eq!(g["node-name"], "drive1");
    assert_eq!(g["read-only"], true);
    assert_eq!(g["file"]["filename"], "/dev/fdset/11");
    assert_eq!(g["backing"]["driver"], "raw");
    assert_eq!(g["backing"]["read-only"], true);
    assert_eq!(g["backing"]["file"]["filename"], "/dev/fdset/12");
    // An overlay: a writable qcow2 over the read-only chain, under a
    // copy-on-read filter; discards ignored (discard:disable).
    assert_eq!(graphs[2]["driver"], "copy-on-read");
    assert_eq!(graphs[2]["node-name"], "drive2");
    assert_eq!(graphs[2]["discard"], "ignore");
    let g = &graphs[2]["file"];
    assert_eq!(g["driver"], "qcow2");
    assert_eq!(g["node-name"], "drive2-top");
    assert_eq!(g["read-only"], false);
    assert_eq!(g["discard"], "ignore");
    assert_eq!(g["file"]["discard"], "ignore");
    assert_eq!(g["file"]["filename"], "/dev/fdset/14");
    assert_eq!(g["backing"]["node-name"], "drive2-0");
    assert_eq!(g["backing"]["read-only"], true);
    assert_eq!(g["backing"]["file"]["driver"], "host_device");
    assert_eq!(g["backing"]["file"]["filename"], "/dev/fdset/13");
}

/// discard:enable with copyonread on a qcow2 over a backing file: the
/// filter and the writable top pass discards on, the backing node not.
#[test]
fn copy_on_read_filter_passes_enabled_discards_on() {
    let drives = [QemuDrive {
        chain: vec![
            node(10, DriveFormat::Qcow2, false),
            node(11, DriveFormat::Raw, true),
        ],
        overlay: None,
        unmap: true,
        copy_on_read: true,
    }];
    let g = &blockdevs(&machine_args(&drives))[0];
    assert_eq!(g["driver"], "copy-on-read");
    assert_eq!(g["node-name"], "drive0");
    assert_eq!(g["discard"], "unmap");
    assert_eq!(g["file"]["node-name"], "drive0-top");
    assert_eq!(g["file"]["discard"], "unmap");
    assert_eq!(g["file"]["file"]["discard"], "unmap");
    assert_eq!(g["file"]["backing"]["discard"], "ignore");
}

#[test]
fn missing_qemu_names_the_package() {
    let err = find_qemu(Some("/nonexistent".into()), None)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("/nonexistent") && err.contains("qemu-system-x86"),
        "{err}"
    );
    let err = find_qemu(None, Some("/nonexistent-dir".into()))
        .unwrap_err()
        .to_string();
    assert!(err.contains("apt-get install qemu-system-x86"), "{err}");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(QEMU), b"").unwrap();
    let found = find_qemu(Some("".into()), Some(dir.path().into())).unwrap();
    assert_eq!(found, dir.path().join(QEMU));
    let named = find_qemu(Some(QEMU.into()), Some(dir.path().into())).unwrap();
    assert_eq!(named, dir.path().join(QEMU));
}

fn qemu_img(args: &[&str]) {
    let out = Process::new("qemu-img")
        .args(args)
        .output()
        .expect("qemu-img is needed for this test: apt-get install qemu-utils");
    assert!(
        out.status.success(),
        "qemu-img {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// (dev, ino) of what descriptor `fd` of this process is open on, and its
/// access mode.
fn fd_target(fd: RawFd) -> ((u64, u64), i32) {
    let meta = fs::metadata(format!("/proc/self/fd/{fd}")).unwrap();
    // SAFETY: F_GETFL on a descriptor this test holds open.
    let flags = unsafe { libc::fcntl(fd, libc::F_GETFL) };
    assert!(flags >= 0);
    ((meta.dev(), meta.ino()), flags & libc::O_ACCMODE)
}

fn identity(path: &Path) -> (u64, u64) {
    let meta = fs::metadata(path).unwrap();
    (meta.dev(), meta.ino())
}

/// Every string of a JSON value, keys excluded.
fn strings(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => out.push(s.clone()),
        Value::Array(a) => a.iter().for_each(|v| strings(v, out)),
        Value::Object(o) => o.values().for_each(|v| strings(v, out)),
        _ => {}
    }
}

#[test]
fn drive_paths_never_reach_qemu_and_the_checked_files_do() {
    // Paths that qemu would read as options or protocols if it ever parsed them.
    let dir = tempfile::tempdir().unwrap();
    let odd = dir.path().join("-blockdev,driver=nbd,host=x");
    fs::create_dir(&odd).unwrap();
    let raw = odd.join("json:{\"driver\":\"nbd\",\"host\":\"evil\"}");
    fs::write(&raw, vec![1u8; 1 << 20]).unwrap();
    let base = odd.join("nbd:localhost:10809,file=x");
    fs::write(&base, vec![2u8; 1 << 20]).unwrap();
    let top = odd.join("-top,,x.qcow2");
    // -u: qemu-img itself would take "nbd:" for a protocol and connect.
    qemu_img(&[
        "create",
        "-q",
        "-u",
        "-f",
        "qcow2",
        "-b",
        base.file_name().unwrap().to_str().unwrap(),
        "-F",
        "raw",
        top.to_str().unwrap(),
        "1M",
    ]);
    let tmp = tempfile::tempdir().unwrap();
    let opts = |format, readonly, overlay| DriveOptions {
        format: Some(format),
        readonly,
        overlay,
        ..Default::default()
    };
    let drives = [
        Drive::open(&raw, opts(DriveFormat::Raw, false, None), tmp.path()).unwrap(),
        Drive::open(
            &top,
            opts(DriveFormat::Qcow2, true, Some(false)),
            tmp.path(),
        )
        .unwrap(),
        Drive::open(
            &top,
            opts(DriveFormat::Qcow2, false, Some(true)),
            tmp.path(),
        )
        .unwrap(),
        Drive::open(&top, opts(DriveFormat::Qcow2, false, None), tmp.path()).unwrap(),
        Drive::scratch(1 << 20, tmp.path()).unwrap(),
    ];
    let resolved = resolve_drives(&drives).unwrap();
    let args = machine_args(&resolved.drives);
    for a in &args {
        assert!(
            !a.contains(dir.path().to_str().unwrap()) && !a.contains("nbd:"),
            "a user path reached qemu's command line: {a}"
        );
    }
    let passed: Vec<RawFd> = resolved.fds.iter().map(AsRawFd::as_raw_fd).collect();
    let sets: Vec<String> = passed
        .iter()
        .map(|fd| format!("fd={fd},set={fd}"))
        .collect();
    assert_eq!(after(&args, "-add-fd"), sets);
    let graphs = blockdevs(&args);
    assert_eq!(graphs.len(), drives.len());
    for g in &graphs {
        let mut all = Vec::new();
        strings(g, &mut all);
        assert!(!g.to_string().contains("data-file"), "{g}");
        for s in all.iter().filter(|s| s.starts_with('/')) {
            let fd: RawFd = s
                .strip_prefix("/dev/fdset/")
                .and_then(|n| n.parse().ok())
                .unwrap_or_else(|| panic!("{s} is not a passed descriptor"));
            assert!(passed.contains(&fd), "{s} was not passed");
        }
    }
    let file_of = |g: &Value| -> RawFd {
        let name = g["file"]["filename"].as_str().unwrap();
        name["/dev/fdset/".len()..].parse().unwrap()
    };
    let (raw_id, top_id, base_id) = (identity(&raw), identity(&top), identity(&base));
    // Read-write raw: its own file, writable.
    assert_eq!(fd_target(file_of(&graphs[0])), (raw_id, libc::O_RDWR));
    // Read-only chain: qemu holds no writable descriptor on any of it.
    assert_eq!(fd_target(file_of(&graphs[1])), (top_id, libc::O_RDONLY));
    assert_eq!(graphs[1]["backing"]["driver"], "raw");
    assert_eq!(
        fd_target(file_of(&graphs[1]["backing"])),
        (base_id, libc::O_RDONLY)
    );
    // Overlay: a fresh writable qcow2 in the tmpdir over the read-only chain.
    let overlay_fd = file_of(&graphs[2]);
    let (overlay_id, overlay_mode) = fd_target(overlay_fd);
    assert_eq!(overlay_mode, libc::O_RDWR);
    assert!(overlay_id != top_id && overlay_id != base_id);
    let link = fs::read_link(format!("/proc/self/fd/{overlay_fd}")).unwrap();
    assert!(link.starts_with(tmp.path()), "{}", link.display());
    assert_eq!(fd_target(file_of(&graphs[2]["backing"])).1, libc::O_RDONLY);
    assert_eq!(
        fd_target(file_of(&graphs[2]["backing"]["backing"])),
        (base_id, libc::O_RDONLY)
    );
    // Read-write chain: the top only is writable; the bottom's backing is null.
    assert_eq!(fd_target(file_of(&graphs[3])), (top_id, libc::O_RDWR));
    assert_eq!(
        fd_target(file_of(&graphs[3]["backing"])),
        (base_id, libc::O_RDONLY)
    );
    assert_eq!(graphs[3]["backing"]["read-only"], true);
    assert_eq!(fd_target(file_of(&graphs[4])).1, libc::O_RDWR);
}

#[test]
fn the_child_inherits_exactly_the_descriptors_passed() {
    let dir = tempfile::tempdir().unwrap();
    let passed = dir.path().join("passed");
    let kept = dir.path().join("kept");
    fs::write(&passed, b"checked file").unwrap();
    fs::write(&kept, b"not for the child").unwrap();
    let passed = OwnedFd::from(fs::File::open(&passed).unwrap());
    let kept = fs::File::open(&kept).unwrap();
    let (p, k) = (passed.as_raw_fd(), kept.as_raw_fd());
    let mut cmd = Command::new("sh");
    cmd.arg("-c").arg(format!(
        "cat /dev/fd/{p}; cat /dev/fd/{k} 2>/dev/null || echo ' closed'"
    ));
    inherit_fds(&mut cmd, vec![passed]);
    let out = cmd.output().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "checked file closed\n"
    );
    // Here both stay close-on-exec (`cmd` still holds the passed one open).
    for fd in [p, k] {
        // SAFETY: F_GETFD on a descriptor this test holds open.
        assert_eq!(unsafe { libc::fcntl(fd, libc::F_GETFD) }, libc::FD_CLOEXEC);
    }
    drop(cmd);
}
