//! Test fixtures: real filesystems (made with the host's mkfs) on loop
//! devices, mounted in a temporary directory that stands for `/sysroot`.
//! The daemon's calls are tested against them on the host, without a VM.
//! Needs root, losetup and mkfs.{ext4,xfs,vfat} (scripts/setup.sh installs
//! e2fsprogs, xfsprogs and dosfstools).

use std::path::{Path, PathBuf};
use std::process::Command;

use protocol::types::Pathname;

use super::root::Root;
use super::state::GuestDaemon;

pub(crate) fn run(cmd: &str, args: &[&str]) -> String {
    let out = Command::new(cmd)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{cmd}: {e} (install it: see scripts/setup.sh)"));
    assert!(
        out.status.success(),
        "{cmd} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// An image file attached to a loop device, optionally with a filesystem,
/// optionally mounted. Detached and removed on drop.
pub(crate) struct LoopFs {
    pub(crate) image: tempfile::NamedTempFile,
    pub(crate) device: String,
    pub(crate) mountpoint: Option<tempfile::TempDir>,
}

impl LoopFs {
    /// A `size_mib` image with `fstype` (`ext4`, `xfs`, `vfat`, or `none`)
    /// and `label`, attached but not mounted.
    pub(crate) fn new(fstype: &str, size_mib: u64, label: &str) -> LoopFs {
        let image = tempfile::NamedTempFile::new().expect("temp image");
        image
            .as_file()
            .set_len(size_mib << 20)
            .expect("size the image");
        let path = image.path().to_str().expect("utf-8 temp path").to_owned();
        match fstype {
            "none" => {}
            "ext4" => {
                run("mkfs.ext4", &["-q", "-F", "-L", label, &path]);
            }
            "xfs" => {
                run("mkfs.xfs", &["-q", "-f", "-L", label, &path]);
            }
            "vfat" => {
                run("mkfs.vfat", &["-n", label, &path]);
            }
            other => panic!("no mkfs for {other}"),
        }
        let device = run("losetup", &["-f", "--show", &path]);
        LoopFs {
            image,
            device,
            mountpoint: None,
        }
    }

    /// Mounts it on a fresh temporary directory and returns that directory.
    pub(crate) fn mount(&mut self) -> PathBuf {
        let dir = tempfile::tempdir().expect("temp mountpoint");
        run(
            "mount",
            &[&self.device, dir.path().to_str().expect("utf-8 temp path")],
        );
        let path = dir.path().to_path_buf();
        self.mountpoint = Some(dir);
        path
    }

    /// A daemon whose guest root is this filesystem, mounted, with the
    /// mount table saying so.
    pub(crate) fn daemon(&mut self) -> GuestDaemon {
        let dir = self.mount();
        let mut d = GuestDaemon::new(Root::new(&dir));
        d.mounts.record_for_tests(&self.device, "/", &dir);
        d
    }
}

impl Drop for LoopFs {
    fn drop(&mut self) {
        if let Some(dir) = &self.mountpoint {
            let _ = Command::new("umount").arg("-l").arg(dir.path()).status();
        }
        let _ = Command::new("losetup").args(["-d", &self.device]).status();
    }
}

pub(crate) fn p(s: &str) -> Pathname {
    Pathname::new(s).expect("valid test path")
}

/// The three filesystems the daemon's file calls are tested on.
pub(crate) const TEST_FSTYPES: [&str; 3] = ["ext4", "xfs", "vfat"];

/// Whether the running kernel can mount `fstype` (after trying to load
/// its module).
pub(crate) fn kernel_supports(fstype: &str) -> bool {
    let listed = || {
        std::fs::read_to_string("/proc/filesystems")
            .unwrap_or_default()
            .lines()
            .any(|l| l.split_whitespace().last() == Some(fstype))
    };
    if listed() {
        return true;
    }
    let _ = Command::new("modprobe").arg(fstype).output();
    listed()
}

/// A mounted filesystem of each test type (xfs needs 300 MiB). A type the
/// running kernel lacks (this build machine's kernel has no vfat) is left
/// out here, loudly: tests/e2e/daemon.rs runs these same tests inside the
/// test host, whose kernel has all three.
pub(crate) fn each_fs(mut test: impl FnMut(&str, &mut GuestDaemon, &Path)) {
    for fstype in TEST_FSTYPES {
        if !kernel_supports(fstype) {
            eprintln!("each_fs: this kernel cannot mount {fstype}; covered by tests/e2e/daemon.rs in the test host");
            continue;
        }
        let size = if fstype == "xfs" { 300 } else { 64 };
        let mut fs = LoopFs::new(fstype, size, "TESTFS");
        let mut d = fs.daemon();
        let root = fs
            .mountpoint
            .as_ref()
            .map(|m| m.path().to_path_buf())
            .expect("mounted");
        test(fstype, &mut d, &root);
    }
}

/// A CallIo for tests: records chunks written, feeds chunks read.
#[derive(Default)]
pub(crate) struct TestIo {
    pub(crate) input: std::collections::VecDeque<Vec<u8>>,
    pub(crate) output: Vec<u8>,
    pub(crate) cancel: bool,
}

impl protocol::CallIo for TestIo {
    fn cancelled(&self) -> bool {
        self.cancel
    }

    fn read_chunk(&mut self, buf: &mut Vec<u8>) -> Result<usize, protocol::ErrorReply> {
        match self.input.pop_front() {
            Some(chunk) => {
                buf.clear();
                buf.extend_from_slice(&chunk);
                Ok(chunk.len())
            }
            None => Ok(0),
        }
    }

    fn write_chunk(&mut self, data: &[u8]) -> Result<(), protocol::ErrorReply> {
        self.output.extend_from_slice(data);
        Ok(())
    }
}
