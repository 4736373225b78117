//! Shared by the transfer tests: a sandbox (`root/dest` next to
//! `root/sentinel/canary`) and hostile archives built header by header.

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use tar::{EntryType, Header};

use super::{unpack_into, unpack_into_opts, TransferError, UnpackOptions, UnpackSummary};

pub(super) struct Sandbox {
    pub(super) tmp: tempfile::TempDir,
    pub(super) dest: PathBuf,
    pub(super) sentinel: PathBuf,
}

impl Sandbox {
    pub(super) fn new() -> Sandbox {
        let tmp = tempfile::tempdir().unwrap();
        let dest = tmp.path().join("dest");
        let sentinel = tmp.path().join("sentinel");
        fs::create_dir(&dest).unwrap();
        fs::create_dir(&sentinel).unwrap();
        fs::write(sentinel.join("canary"), b"canary").unwrap();
        Sandbox {
            tmp,
            dest,
            sentinel,
        }
    }

    pub(super) fn unpack(&self, archive: &[u8]) -> Result<UnpackSummary, TransferError> {
        unpack_into(archive, &self.dest)
    }

    /// An absolute path inside the sentinel directory, for links to aim at.
    pub(super) fn outside(&self, name: &str) -> Vec<u8> {
        self.sentinel
            .join(name)
            .into_os_string()
            .into_encoded_bytes()
    }

    pub(super) fn assert_untouched(&self) {
        assert_eq!(names(self.tmp.path()), ["dest", "sentinel"]);
        assert_eq!(names(&self.sentinel), ["canary"]);
        let canary = self.sentinel.join("canary");
        assert_eq!(fs::read(&canary).unwrap(), b"canary");
        assert_eq!(
            fs::metadata(&canary).unwrap().nlink(),
            1,
            "canary gained a hard link"
        );
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        // Let TempDir remove read-only directories an archive left behind.
        fn open_up(dir: &Path) {
            let _ = fs::set_permissions(dir, fs::Permissions::from_mode(0o700));
            for e in fs::read_dir(dir).into_iter().flatten().flatten() {
                if e.file_type().is_ok_and(|t| t.is_dir()) {
                    open_up(&e.path());
                }
            }
        }
        open_up(self.tmp.path());
    }
}

pub(super) fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<_> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// One entry (header + padded data), name and link written raw so that
/// `..` and absolute paths (which `tar::Builder` refuses) get through.
pub(super) fn raw(name: &[u8], kind: EntryType, link: &[u8], data: &[u8], mode: u32) -> Vec<u8> {
    let mut h = Header::new_gnu();
    h.as_old_mut().name[..name.len()].copy_from_slice(name);
    h.as_old_mut().linkname[..link.len()].copy_from_slice(link);
    h.set_entry_type(kind);
    h.set_size(data.len() as u64);
    h.set_mode(mode);
    h.set_mtime(1_500_000_000);
    h.set_cksum();
    let mut out = h.as_bytes().to_vec();
    out.extend_from_slice(data);
    out.resize(out.len().next_multiple_of(512), 0);
    out
}

pub(super) fn file(name: &[u8], data: &[u8]) -> Vec<u8> {
    raw(name, EntryType::Regular, b"", data, 0o644)
}

pub(super) fn archive(entries: &[Vec<u8>]) -> Vec<u8> {
    let mut out = entries.concat();
    out.extend_from_slice(&[0; 1024]);
    out
}

pub(super) fn assert_refused(result: Result<UnpackSummary, TransferError>, entry: &str) {
    match result {
        Err(TransferError::Refused { entry: e, .. }) if e == entry => {}
        other => panic!("expected entry `{entry}` to be refused, got {other:?}"),
    }
}

impl Sandbox {
    pub(super) fn unpack_opts(
        &self,
        archive: &[u8],
        opts: &UnpackOptions,
    ) -> Result<UnpackSummary, TransferError> {
        unpack_into_opts(archive, &self.dest, opts)
    }
}

/// The permission bits of `path` itself (not following a link).
pub(super) fn mode_of(path: &Path) -> u32 {
    fs::symlink_metadata(path).unwrap().mode() & 0o7777
}

/// This process's umask, from /proc (reading it with umask(2) would
/// change it for every thread for a moment).
pub(super) fn umask() -> u32 {
    let status = fs::read_to_string("/proc/self/status").unwrap();
    let line = status
        .lines()
        .find_map(|l| l.strip_prefix("Umask:"))
        .expect("Umask: in /proc/self/status");
    u32::from_str_radix(line.trim(), 8).unwrap()
}

/// Runs the test `path` (its full name) again in a child process whose
/// umask is `mask`, since the umask is shared by every thread of the test
/// binary; returns true in the child, which then runs the test's body.
pub(super) fn in_child_with_umask(path: &str, mask: u32) -> bool {
    const ROLE: &str = "LIBGUEST_TRANSFER_TEST_CHILD";
    if std::env::var(ROLE).is_ok_and(|v| v == path) {
        // SAFETY: umask(2) cannot fail; this child runs one test thread.
        unsafe { libc::umask(mask as libc::mode_t) };
        return true;
    }
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", path, "--test-threads=1", "--nocapture"])
        .env(ROLE, path)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stdout.contains("1 passed"),
        "child run of {path} failed ({}):\n{stdout}\n{stderr}",
        out.status
    );
    false
}
