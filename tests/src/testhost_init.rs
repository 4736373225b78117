//! PID 1 of the e2e test host (not of the appliance): mounts the pseudo
//! filesystems, runs the program named in /e2e/argv with the environment in
//! /e2e/env, prints its exit status on the console and powers off.

use std::ffi::CString;
use std::io::Write;
use std::path::Path;
use std::process::Command;

use crate::testhost::{EXIT_MARKER, HEARTBEAT_EVERY, HEARTBEAT_PORT};

fn mount(source: &str, target: &str, fstype: &str) {
    let _ = std::fs::create_dir_all(target);
    let (Ok(s), Ok(t), Ok(f)) = (
        CString::new(source),
        CString::new(target),
        CString::new(fstype),
    ) else {
        return;
    };
    // SAFETY: valid NUL-terminated strings that outlive the call; null data.
    let rc = unsafe { libc::mount(s.as_ptr(), t.as_ptr(), f.as_ptr(), 0, std::ptr::null()) };
    if rc != 0 {
        eprintln!(
            "testhost-init: mount {fstype} on {target}: {}",
            std::io::Error::last_os_error()
        );
    }
}

fn nul_list(path: &str) -> Vec<String> {
    std::fs::read(path)
        .map(|b| {
            b.split(|&c| c == 0)
                .filter(|s| !s.is_empty())
                .map(|s| String::from_utf8_lossy(s).into_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// A line on the heartbeat port every [`HEARTBEAT_EVERY`], so that the
/// host can tell a program that hung from an emulated machine that stopped
/// (testhost.rs).
fn start_heartbeat() {
    std::thread::spawn(|| {
        let start = std::time::Instant::now();
        // The port shows up once the virtio-serial handshake is done.
        let mut port = loop {
            if let Some(port) = heartbeat_port() {
                break port;
            }
            if start.elapsed() > std::time::Duration::from_secs(30) {
                eprintln!("testhost-init: no {HEARTBEAT_PORT} port: no heartbeat");
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(200));
        };
        loop {
            let _ = writeln!(port, "alive {}", start.elapsed().as_secs());
            std::thread::sleep(HEARTBEAT_EVERY);
        }
    });
}

/// /dev/vportNpM of the port named [`HEARTBEAT_PORT`] (no udev here to
/// make the /dev/virtio-ports link).
fn heartbeat_port() -> Option<std::fs::File> {
    let ports = std::fs::read_dir("/sys/class/virtio-ports").ok()?;
    let dev = ports.filter_map(|p| p.ok()).find_map(|p| {
        let name = std::fs::read_to_string(p.path().join("name")).ok()?;
        (name.trim() == HEARTBEAT_PORT).then(|| p.file_name())
    })?;
    let path = Path::new("/dev").join(dev);
    std::fs::OpenOptions::new().write(true).open(path).ok()
}

fn run() -> i32 {
    mount("proc", "/proc", "proc");
    mount("sysfs", "/sys", "sysfs");
    mount("devtmpfs", "/dev", "devtmpfs");
    mount("tmpfs", "/tmp", "tmpfs");
    start_heartbeat();
    let argv = nul_list("/e2e/argv");
    let Some((program, args)) = argv.split_first() else {
        eprintln!("testhost-init: /e2e/argv is empty");
        return 127;
    };
    let mut cmd = Command::new(program);
    cmd.args(args).env_clear().current_dir("/tmp");
    for kv in nul_list("/e2e/env") {
        if let Some((k, v)) = kv.split_once('=') {
            cmd.env(k, v);
        }
    }
    match cmd.status() {
        Ok(status) => status
            .code()
            .unwrap_or_else(|| 128 + status_signal(&status)),
        Err(e) => {
            eprintln!("testhost-init: cannot run {program}: {e}");
            127
        }
    }
}

fn status_signal(status: &std::process::ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    status.signal().unwrap_or(0)
}

/// The whole of PID 1: run the named program, report, power off.
pub fn main() -> ! {
    let code = run();
    let _ = std::io::stderr().flush();
    println!("\n{EXIT_MARKER} {code}");
    let _ = std::io::stdout().flush();
    // SAFETY: sync(2) and reboot(2) take no pointers. With `reboot=t` and
    // qemu's -no-reboot, the reboot ends qemu.
    unsafe {
        libc::sync();
        libc::reboot(libc::RB_AUTOBOOT);
    }
    std::process::exit(code)
}
