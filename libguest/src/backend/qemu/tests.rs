//! Boots the real appliance under qemu TCG. Deadlines are generous: they
//! only turn a hang into a failure, never decide a pass.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use protocol::frame::{Header, Kind, HEADER_LEN};
use vmm::{ExitReason, LineWait};

use super::*;
use crate::drive::{Drive, DriveOptions};

const DEADLINE: Duration = Duration::from_secs(300);
const MIB: u64 = 1 << 20;

fn spec(drives: &[Drive]) -> LaunchSpec<'_> {
    let images = appliance::BootImages::load(None).unwrap_or_else(|e| {
        panic!("the appliance kernel is needed (scripts/setup.sh builds it): {e}")
    });
    LaunchSpec {
        kernel: images.kernel,
        initramfs: images.initramfs,
        cmdline: appliance::kernel_cmdline(false, None),
        mem_mib: 512,
        vcpus: 1,
        console_file: None,
        console_file_limit: vmm::DEFAULT_CONSOLE_FILE_LIMIT,
        drives,
    }
}

/// Launches and waits for guest-init; returns the appliance and the time
/// from launch() to the ready line.
fn boot(drives: &[Drive]) -> (QemuAppliance, Duration) {
    boot_spec(&spec(drives))
}

fn boot_spec(spec: &LaunchSpec<'_>) -> (QemuAppliance, Duration) {
    let started = Instant::now();
    let app = launch(spec).expect("launch");
    let log = app.console();
    match log.wait_for_line(|l| l == b"guest-init: ready", 0, started + DEADLINE) {
        LineWait::Found(..) => {}
        other => panic!("not ready: {other:?}\n{}", log.tail(40)),
    }
    (app, started.elapsed())
}

/// Sends `ID cmd` on the console; returns guest-init's `ok ...`/`error ...`.
fn request(app: &QemuAppliance, id: u32, cmd: &str) -> String {
    let log = app.console();
    let from = log.end();
    app.send_console_input(format!("{id} {cmd}\n").as_bytes())
        .expect("console input");
    // The console echoes our input, and the echo can share a line with the
    // reply ("1 blockdevguest-init: 1 ok ..."), so the reply is found
    // anywhere in a line, not only at its start.
    let prefix = format!("guest-init: {id} ");
    let reply_at = |line: &[u8]| {
        line.windows(prefix.len())
            .position(|w| w == prefix.as_bytes())
    };
    match log.wait_for_line(|l| reply_at(l).is_some(), from, Instant::now() + DEADLINE) {
        LineWait::Found(_, line) => {
            let at = reply_at(line.as_bytes()).unwrap_or(0) + prefix.len();
            line[at..].to_string()
        }
        other => panic!("no reply to {cmd:?}: {other:?}\n{}", log.tail(40)),
    }
}

/// Reads guest-init's first frame, payload included.
fn read_hello(channel: &dyn ChannelIo) -> Header {
    let read_exact = |buf: &mut [u8]| {
        let mut got = 0;
        while got < buf.len() {
            got += channel.read(&mut buf[got..], None).expect("channel read");
        }
    };
    let mut head = [0u8; HEADER_LEN];
    read_exact(&mut head);
    let header = Header::decode(&head).expect("a frame header");
    read_exact(&mut vec![0u8; header.len as usize]);
    header
}

fn power_off(app: &QemuAppliance) -> ExitReason {
    let log = app.console();
    app.send_console_input(b"1 poweroff\n")
        .expect("console input");
    log.wait_exit(Instant::now() + DEADLINE)
        .unwrap_or_else(|| panic!("qemu did not exit\n{}", log.tail(40)))
}

fn proc_exists(pid: libc::pid_t) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// guest-init's `fill` pattern for `[offset, offset + len)`.
fn pattern(offset: u64, len: u64, seed: u64) -> Vec<u8> {
    (0..len / 8)
        .flat_map(|i| splitmix64(seed ^ (offset + i * 8)).to_le_bytes())
        .collect()
}

fn image(dir: &Path, name: &str, len: u64, byte: u8) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, vec![byte; len as usize]).expect("write image");
    path
}

fn mtime(path: &Path) -> std::time::SystemTime {
    std::fs::metadata(path)
        .and_then(|m| m.modified())
        .expect("mtime")
}

#[test]
fn boots_answers_on_the_console_and_says_hello_on_the_channel() {
    let dir = tempfile::tempdir().unwrap();
    let console_file = dir.path().join("console.log");
    let (mut app, took) = boot_spec(&LaunchSpec {
        console_file: Some(console_file.clone()),
        ..spec(&[])
    });
    eprintln!("tcg: launch() to ready in {} ms", took.as_millis());
    assert_eq!(app.name(), "tcg");
    assert_eq!(app.exit_count(), None);
    assert_eq!(request(&app, 1, "ping"), "ok pong");
    let hello = read_hello(app.channel().as_ref());
    assert_eq!(hello.kind, Kind::Hello);
    // qemu was given the checked bytes as sealed in-memory copies, never
    // a path into the cache it could find something else at.
    let pid = app.pid();
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap();
    let argv: Vec<String> = cmdline
        .split(|&b| b == 0)
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect();
    let images = spec(&[]);
    for (flag, image) in [("-kernel", &images.kernel), ("-initrd", &images.initramfs)] {
        let at = argv.iter().position(|a| a == flag).expect(flag);
        let fd = argv[at + 1]
            .strip_prefix("/proc/self/fd/")
            .unwrap_or_else(|| panic!("{flag} {}", argv[at + 1]));
        let theirs = format!("/proc/{pid}/fd/{fd}");
        let target = std::fs::read_link(&theirs).unwrap();
        assert!(
            target
                .to_string_lossy()
                .starts_with("/memfd:libguest-boot-image"),
            "{flag}: {}",
            target.display()
        );
        assert!(std::fs::read(&theirs).unwrap() == *image.bytes, "{flag}");
    }
    assert_eq!(app.stop(), ExitReason::Stopped);
    let copy = std::fs::read_to_string(&console_file).unwrap();
    assert!(copy.contains("guest-init: 1 ok pong"), "{copy}");
}

#[test]
fn drives_appear_in_order_and_writes_land_where_they_should() {
    let dir = tempfile::tempdir().unwrap();
    let raw = image(dir.path(), "a.raw", 16 * MIB, 0);
    let qcow2 = dir.path().join("b.qcow2");
    let out = Command::new("qemu-img")
        .args(["create", "-q", "-f", "qcow2"])
        .arg(&qcow2)
        .arg("16M")
        .output()
        .expect("qemu-img (Debian: qemu-utils)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let ro = image(dir.path(), "c.ro", 8 * MIB, 0xa5);
    let overlay = image(dir.path(), "e.overlay", 4 * MIB, 0x5a);
    // Read-only as libguestfs means it: writable through an overlay.
    let ro_overlay = image(dir.path(), "f.ro", 4 * MIB, 0x3c);
    let (ro_mtime, overlay_mtime) = (mtime(&ro), mtime(&overlay));
    let ro_overlay_mtime = mtime(&ro_overlay);
    let opts = |readonly, overlay| DriveOptions {
        readonly,
        overlay,
        ..Default::default()
    };
    let tmp = std::env::temp_dir();
    let drives = [
        Drive::open(&raw, opts(false, None), &tmp).unwrap(),
        Drive::open(&qcow2, opts(false, None), &tmp).unwrap(),
        Drive::open(&ro, opts(true, Some(false)), &tmp).unwrap(),
        Drive::scratch(32 * MIB, &tmp).unwrap(),
        Drive::open(&overlay, opts(false, Some(true)), &tmp).unwrap(),
        Drive::open(&ro_overlay, opts(true, None), &tmp).unwrap(),
    ];
    let (app, _) = boot(&drives);
    assert_eq!(
        request(&app, 1, "blockdevs"),
        "ok sda:16777216:0 sdb:16777216:0 sdc:8388608:1 sdd:33554432:0 sde:4194304:0 sdf:4194304:0"
    );
    for (id, cmd) in [
        (2, "fill /dev/sda 0 1048576 7"),
        (3, "verify /dev/sda 0 1048576 7"),
        (4, "fill /dev/sdb 1048576 1048576 9"),
        (5, "verify /dev/sdb 1048576 1048576 9"),
        (6, "fill /dev/sdd 4194304 1048576 3"),
        (7, "verify /dev/sdd 4194304 1048576 3"),
        (8, "fill /dev/sde 0 1048576 5"),
        (9, "verify /dev/sde 0 1048576 5"),
        (11, "fill /dev/sdf 0 1048576 6"),
        (12, "verify /dev/sdf 0 1048576 6"),
    ] {
        assert!(request(&app, id, cmd).starts_with("ok "), "{cmd}");
    }
    let refused = request(&app, 10, "write-probe /dev/sdc");
    assert!(refused.starts_with("error "), "{refused}");
    // Scratch and overlay files are unlinked once qemu has them open.
    assert!(!app._dir.path().exists(), "temporary files left behind");
    assert_eq!(power_off(&app), ExitReason::Reset);

    let raw_bytes = std::fs::read(&raw).unwrap();
    assert!(
        raw_bytes[..MIB as usize] == pattern(0, MIB, 7)[..],
        "raw image not written"
    );
    let flat = dir.path().join("b.flat");
    let out = Command::new("qemu-img")
        .args(["convert", "-O", "raw"])
        .arg(&qcow2)
        .arg(&flat)
        .output()
        .expect("qemu-img convert");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let flat = std::fs::read(&flat).unwrap();
    assert!(
        flat[MIB as usize..2 * MIB as usize] == pattern(MIB, MIB, 9)[..],
        "qcow2 not written"
    );
    for (path, byte, len, before) in [
        (&ro, 0xa5, 8 * MIB, ro_mtime),
        (&overlay, 0x5a, 4 * MIB, overlay_mtime),
        (&ro_overlay, 0x3c, 4 * MIB, ro_overlay_mtime),
    ] {
        let bytes = std::fs::read(path).unwrap();
        assert!(
            bytes.len() as u64 == len && bytes.iter().all(|&b| b == byte),
            "{} changed",
            path.display()
        );
        assert_eq!(mtime(path), before, "{} mtime changed", path.display());
    }
}

#[test]
fn power_off_ends_qemu_and_fails_the_channel() {
    let (mut app, _) = boot(&[]);
    let pid = app.pid();
    let channel = app.channel();
    assert_eq!(read_hello(channel.as_ref()).kind, Kind::Hello);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(channel.read(&mut [0u8; 64], None).map_err(|e| e.kind()));
    });
    assert_eq!(power_off(&app), ExitReason::Reset);
    assert!(app
        .console()
        .snapshot()
        .text
        .contains("guest-init: power off"));
    let blocked = rx.recv_timeout(DEADLINE).expect("the channel reader hung");
    assert_eq!(blocked, Err(std::io::ErrorKind::BrokenPipe));
    assert!(!proc_exists(pid), "qemu {pid} still there after power-off");
    assert_eq!(app.stop(), ExitReason::Reset);
    assert!(app.send_console_input(b"ping\n").is_err());
}

#[test]
fn stop_kills_a_running_qemu_and_reaps_it() {
    let (mut app, _) = boot(&[]);
    let pid = app.pid();
    assert!(proc_exists(pid));
    assert_eq!(app.stop(), ExitReason::Stopped);
    assert!(
        !proc_exists(pid),
        "qemu {pid} left behind (zombie or alive)"
    );
    assert!(app.channel().read(&mut [0u8; 8], None).is_err());
    assert_eq!(app.stop(), ExitReason::Stopped);
}

#[test]
fn the_kill_switch_stops_qemu_from_another_thread_and_wakes_a_blocked_reader() {
    let (mut app, _) = boot(&[]);
    let pid = app.pid();
    let channel = app.channel();
    assert_eq!(read_hello(channel.as_ref()).kind, Kind::Hello);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(channel.read(&mut [0u8; 64], None).map_err(|e| e.kind()));
    });
    let kill = app.kill_switch();
    std::thread::spawn(move || kill.kill()).join().unwrap();
    let blocked = rx.recv_timeout(DEADLINE).expect("the channel reader hung");
    assert_eq!(blocked, Err(std::io::ErrorKind::BrokenPipe));
    assert_eq!(
        app.console().wait_exit(Instant::now() + DEADLINE),
        Some(ExitReason::Stopped)
    );
    assert_eq!(app.stop(), ExitReason::Stopped);
    assert!(!proc_exists(pid), "qemu {pid} left behind");
    // After the appliance is gone the switch does nothing.
    app.kill_switch().kill();
}

#[test]
fn missing_qemu_says_what_to_install() {
    let spec = spec(&[]);
    let err = launch_with(&spec, PathBuf::from("/nonexistent/qemu-system-x86_64"))
        .err()
        .expect("launch must fail")
        .to_string();
    assert!(err.contains("apt-get install qemu-system-x86"), "{err}");
}

#[test]
fn qemu_errors_reach_the_exit_reason_and_the_console() {
    // qemu gets the drives and the kernel as descriptors, so a vanished
    // file no longer makes it fail; a kernel it cannot load does.
    let mut spec = spec(&[]);
    spec.kernel = appliance::BootImage {
        name: "garbage-vmlinux".into(),
        bytes: std::sync::Arc::from(&b"this is not a kernel"[..]),
    };
    let app = launch(&spec).expect("launch");
    let log = app.console();
    let reason = log
        .wait_exit(Instant::now() + DEADLINE)
        .expect("qemu must exit");
    let ExitReason::Crashed(msg) = reason else {
        panic!("not a crash: {reason:?}");
    };
    assert!(msg.contains("kernel"), "{msg}");
    assert!(log.snapshot().text.contains("kernel"));
}
