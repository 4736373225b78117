//! LUKS and md RAID calls on loop devices, checked against cryptsetup,
//! mdadm, blkid and the kernel's own view (sysfs, /proc/mdstat). They
//! need device-mapper with dm-crypt and md RAID in the kernel: where the
//! kernel lacks them (this build machine's has neither) they say so and
//! pass; tests/e2e/daemon.rs runs them inside the test host, whose
//! kernel has both.

mod luks;
mod md;

use std::process::Command;

use protocol::{Call, ErrorReply};

use crate::daemon::root::Root;
use crate::daemon::state::GuestDaemon;
use crate::daemon::tests::{run, TestIo};

fn bare() -> (tempfile::TempDir, GuestDaemon) {
    let dir = tempfile::tempdir().expect("temp root");
    let d = GuestDaemon::new(Root::new(dir.path()));
    (dir, d)
}

fn io() -> TestIo {
    TestIo::default()
}

/// Arguments by name, parsed as command words are.
struct Named<'a>(&'a [(&'a str, &'a str)]);

impl protocol::ArgSource for Named<'_> {
    type Error = String;
    fn required<T: protocol::ArgType>(&mut self, name: &'static str) -> Result<T, String> {
        self.optional(name)?
            .ok_or_else(|| format!("missing {name}"))
    }
    fn optional<T: protocol::ArgType>(&mut self, name: &'static str) -> Result<Option<T>, String> {
        self.0
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, w)| T::from_word(w))
            .transpose()
    }
}

fn args<C: Call>(pairs: &[(&str, &str)]) -> C::Args {
    C::read_args(&mut Named(pairs)).unwrap_or_else(|e| panic!("{}: {e}", C::INFO.name))
}

fn ok<T>(what: &str, r: Result<T, ErrorReply>) -> T {
    r.unwrap_or_else(|e| panic!("{what}: {e:?}"))
}

/// A name no other test on this host uses at the same time.
fn unique(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!("{prefix}{}x{:05x}", std::process::id(), nanos & 0xf_ffff)
}

/// A blank image file on a loop device, which can be detached and
/// attached again (read-only or not); detached and removed on drop.
struct Loop {
    image: tempfile::NamedTempFile,
    device: Option<String>,
}

impl Loop {
    fn new(size_mib: u64) -> Loop {
        let image = tempfile::NamedTempFile::new().expect("temp image");
        image.as_file().set_len(size_mib << 20).expect("size image");
        let mut l = Loop {
            image,
            device: None,
        };
        l.attach(false);
        l
    }

    fn path(&self) -> &str {
        self.image.path().to_str().expect("utf-8 temp path")
    }

    fn attach(&mut self, read_only: bool) -> String {
        let mut argv = vec!["-f", "--show"];
        if read_only {
            argv.push("-r");
        }
        let path = self.path().to_owned();
        argv.push(&path);
        let device = run("losetup", &argv);
        self.device = Some(device.clone());
        device
    }

    fn dev(&self) -> &str {
        self.device.as_deref().expect("attached")
    }

    fn detach(&mut self) {
        if let Some(dev) = self.device.take() {
            stop_holders(&dev);
            let _ = Command::new("losetup").args(["-d", &dev]).status();
        }
    }

    fn sha256(&self) -> String {
        run("sha256sum", &[self.path()])
    }
}

impl Drop for Loop {
    fn drop(&mut self) {
        self.detach();
    }
}

/// Closes the dm mappings and stops the md arrays that hold `dev`, so a
/// failed test leaves nothing behind.
fn stop_holders(dev: &str) {
    let name = dev.trim_start_matches("/dev/");
    let Ok(holders) = std::fs::read_dir(format!("/sys/block/{name}/holders")) else {
        return;
    };
    for holder in holders.filter_map(|h| h.ok()?.file_name().into_string().ok()) {
        if holder.starts_with("md") {
            let _ = Command::new("mdadm")
                .args(["--stop", &format!("/dev/{holder}")])
                .output();
        } else if let Ok(dm) = std::fs::read_to_string(format!("/sys/block/{holder}/dm/name")) {
            let _ = Command::new("cryptsetup")
                .args(["close", dm.trim()])
                .env("DM_DISABLE_UDEV", "1")
                .output();
        }
    }
}

/// Whether the kernel has device-mapper (and so, in the kernels we
/// test on, dm-crypt).
fn have_dm() -> bool {
    let misc = std::fs::read_to_string("/proc/misc").unwrap_or_default();
    let ok = misc.lines().any(|l| l.ends_with(" device-mapper"));
    if !ok {
        eprintln!("SKIPPED: this kernel has no device-mapper (tests/e2e/daemon.rs runs this in the test host)");
    }
    ok
}

fn have_md() -> bool {
    let ok = std::path::Path::new("/proc/mdstat").exists();
    if !ok {
        eprintln!(
            "SKIPPED: this kernel has no md RAID (tests/e2e/daemon.rs runs this in the test host)"
        );
    }
    ok
}
