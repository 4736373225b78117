//! What the hostile-image tests share: a qcow2 written byte by byte, qemu-img, file fingerprints,
//! the access modes of this process's descriptors (from /proc/self/fdinfo), and a guard that turns
//! a hang into a failure.

use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::mpsc;
use std::time::{Duration, SystemTime};

use super::*;

pub(crate) const MIB: u64 = 1 << 20;
/// Only turns a hang into a failure; a pass never depends on it.
const HANG: Duration = Duration::from_secs(20);

/// A qcow2 v3 image written byte by byte: 64 KiB clusters, header and extensions in cluster 0,
/// refcount table, refcount block and an all-zero L1 table in clusters 1 to 3.
#[derive(Default)]
pub(crate) struct HandMade {
    pub size: u64,
    pub backing: Option<String>,
    pub backing_format: Option<String>,
    pub data_file_ext: Option<String>,
    pub data_file_bit: bool,
}

impl HandMade {
    pub(crate) fn bytes(&self) -> Vec<u8> {
        const CLUSTER: usize = 1 << 16;
        let mut img = vec![0u8; 4 * CLUSTER];
        let put32 = |img: &mut Vec<u8>, at: usize, v: u32| {
            img[at..at + 4].copy_from_slice(&v.to_be_bytes())
        };
        let put64 = |img: &mut Vec<u8>, at: usize, v: u64| {
            img[at..at + 8].copy_from_slice(&v.to_be_bytes())
        };
        img[..4].copy_from_slice(b"QFI\xfb");
        put32(&mut img, 4, 3);
        put32(&mut img, 20, 16);
        put64(&mut img, 24, self.size);
        // One L1 entry covers 8192 L2 entries of 64 KiB: 512 MiB.
        put32(&mut img, 36, self.size.div_ceil(512 * MIB).max(1) as u32);
        put64(&mut img, 40, 3 * CLUSTER as u64);
        put64(&mut img, 48, CLUSTER as u64);
        put32(&mut img, 56, 1);
        if self.data_file_bit {
            put64(&mut img, 72, 1 << 2);
        }
        put32(&mut img, 96, 4);
        put32(&mut img, 100, 104);
        let mut pos = 104;
        let mut ext = |img: &mut Vec<u8>, kind: u32, data: &[u8]| {
            put32(img, pos, kind);
            put32(img, pos + 4, data.len() as u32);
            img[pos + 8..pos + 8 + data.len()].copy_from_slice(data);
            pos += 8 + data.len().next_multiple_of(8);
        };
        if let Some(f) = &self.backing_format {
            ext(&mut img, 0xe279_2aca, f.as_bytes());
        }
        if let Some(d) = &self.data_file_ext {
            ext(&mut img, 0x4441_5441, d.as_bytes());
        }
        // The end marker is the zeroes that follow; the backing name goes well after it.
        if let Some(name) = &self.backing {
            put64(&mut img, 8, 2048);
            put32(&mut img, 16, name.len() as u32);
            img[2048..2048 + name.len()].copy_from_slice(name.as_bytes());
        }
        // Refcount table -> block in cluster 2; clusters 0 to 3 are in use (16-bit refcounts).
        put64(&mut img, CLUSTER, 2 * CLUSTER as u64);
        for c in 0..4 {
            img[2 * CLUSTER + 2 * c + 1] = 1;
        }
        img
    }

    pub(crate) fn write(&self, path: &Path) -> PathBuf {
        fs::write(path, self.bytes()).unwrap();
        path.to_path_buf()
    }
}

pub(crate) fn qemu_img(args: &[&str]) -> String {
    let out = Command::new("qemu-img")
        .args(args)
        .output()
        .expect("qemu-img is needed for these tests: apt-get install qemu-utils");
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "qemu-img {args:?}: {text}");
    text
}

pub(crate) fn s(path: &Path) -> &str {
    path.to_str().unwrap()
}

pub(crate) fn read_all(disk: &dyn BlockBackend) -> Vec<u8> {
    let mut buf = vec![0xeeu8; disk.size() as usize];
    disk.read_vectored(0, &[VolatileSlice::from(buf.as_mut_slice())])
        .unwrap();
    buf
}

/// (bytes, mtime) of a file, to prove it did not change.
pub(crate) fn fingerprint(path: &Path) -> (Vec<u8>, SystemTime) {
    (
        fs::read(path).unwrap(),
        fs::metadata(path).unwrap().modified().unwrap(),
    )
}

/// Backdates the mtime so that any write would show.
pub(crate) fn backdate(path: &Path) {
    let t = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000_000);
    fs::File::options()
        .write(true)
        .open(path)
        .unwrap()
        .set_modified(t)
        .unwrap();
}

/// The access modes (O_RDONLY, O_WRONLY, O_RDWR) of this process's descriptors on `path`.
pub(crate) fn open_modes(path: &Path) -> Vec<i32> {
    let wanted = fs::canonicalize(path).unwrap();
    let mut modes = Vec::new();
    for entry in fs::read_dir("/proc/self/fd").unwrap().flatten() {
        let Ok(target) = fs::read_link(entry.path()) else {
            continue;
        };
        if target != wanted {
            continue;
        }
        let name = entry.file_name();
        let info = fs::read_to_string(Path::new("/proc/self/fdinfo").join(&name));
        let Ok(info) = info else { continue };
        let flags = info
            .lines()
            .find_map(|l| l.strip_prefix("flags:"))
            .map(|v| i32::from_str_radix(v.trim(), 8).unwrap())
            .unwrap();
        modes.push(flags & libc::O_ACCMODE);
    }
    modes
}

pub(crate) fn assert_not_open_for_writing(path: &Path, what: &str) {
    let modes = open_modes(path);
    assert!(
        modes.iter().all(|&m| m == libc::O_RDONLY),
        "{what}: {} is open for writing (modes {modes:?})",
        path.display()
    );
}

/// Runs `f` on a thread; a call that hangs fails the test instead of hanging the suite.
pub(crate) fn within<T: Send + 'static>(what: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(HANG)
        .unwrap_or_else(|_| panic!("{what} hung (blocked for more than {HANG:?})"))
}

pub(crate) fn mkfifo(path: &Path) {
    let c = std::ffi::CString::new(path.as_os_str().as_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
}
