//! The appliance initramfs: guest-init as /init plus the directories and
//! the console node it needs before devtmpfs is mounted. No shell, no busybox.
//!
//! It is built in memory from the guest-init embedded in this library,
//! and those bytes boot ([`initramfs_image`]): nothing read back from
//! disk, so nothing another user could replace. [`build_initramfs`]
//! writes the same bytes into the cache for programs that need a file
//! (qemu in the benchmarks); a cached copy is reused only if its SHA-256
//! is that of the bytes built here, and rewritten otherwise.

use std::path::PathBuf;

use sha2::{Digest, Sha256};

use super::cache::{cache_root, hex, sha256, TrustedDir};
use super::cpio::CpioWriter;
use super::BootImage;
use crate::error::{ApplianceError, Result};

/// The static guest-init binary, built by this crate's build script.
pub static GUEST_INIT: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/guest-init"));

/// Bump when the archive layout below changes.
const LAYOUT_VERSION: &str = "initramfs-v1";

fn archive() -> std::io::Result<Vec<u8>> {
    let mut w = CpioWriter::new(Vec::with_capacity(GUEST_INIT.len() + 4096));
    for dir in ["dev", "proc", "sys", "tmp", "run", "root", "mnt"] {
        w.dir(dir, 0o755)?;
    }
    // The kernel opens /dev/console for init's stdio before init runs.
    w.char_device("dev/console", 0o600, 5, 1)?;
    w.file("init", 0o755, GUEST_INIT)?;
    w.finish()
}

/// The cache file name: a hash of guest-init and the layout.
fn file_name() -> String {
    let mut h = Sha256::new();
    h.update(LAYOUT_VERSION);
    h.update(GUEST_INIT);
    format!("appliance-{}.cpio", hex(&h.finalize()[..8]))
}

fn archive_error(source: std::io::Error) -> ApplianceError {
    ApplianceError::Io {
        what: "initramfs archive".into(),
        source,
    }
}

/// The initramfs to boot, built in memory (a few milliseconds).
pub fn initramfs_image() -> Result<BootImage> {
    let bytes = archive().map_err(archive_error)?;
    Ok(BootImage::new(
        format!("initramfs {} (built in memory)", file_name()),
        bytes,
    ))
}

/// The initramfs as a cached file (written if missing or changed), for
/// programs that take a file name. The library itself boots
/// [`initramfs_image`].
pub fn build_initramfs() -> Result<PathBuf> {
    build_initramfs_in(&cache_root()?.subdir("initramfs")?)
}

fn build_initramfs_in(dir: &TrustedDir) -> Result<PathBuf> {
    let name = file_name();
    let bytes = archive().map_err(archive_error)?;
    let expected = sha256(&bytes);
    let max = bytes.len() as u64;
    match dir.read_verified(&name, &expected, max, "rewritten") {
        Ok(Some(_)) => return Ok(dir.path().join(&name)),
        Ok(None) => {}
        Err(e) => tracing::warn!("{e}: writing it again"),
    }
    dir.write_file(&name, &bytes)?;
    Ok(dir.path().join(name))
}

#[cfg(test)]
mod tests {
    use super::super::cache::trusted_dir;
    use super::*;

    #[test]
    fn guest_init_is_a_static_elf() {
        let elf = GUEST_INIT;
        assert!(
            elf.starts_with(b"\x7fELF\x02\x01"),
            "a 64-bit little-endian ELF"
        );
        let u16_at = |o: usize| u16::from_le_bytes([elf[o], elf[o + 1]]) as usize;
        let phoff = u64::from_le_bytes(elf[0x20..0x28].try_into().unwrap()) as usize;
        let (phentsize, phnum) = (u16_at(0x36), u16_at(0x38));
        const PT_INTERP: u32 = 3;
        let types: Vec<u32> = (0..phnum)
            .map(|i| {
                let o = phoff + i * phentsize;
                u32::from_le_bytes(elf[o..o + 4].try_into().unwrap())
            })
            .collect();
        assert!(!types.is_empty());
        // A static executable asks for no program interpreter (ld.so).
        assert!(
            !types.contains(&PT_INTERP),
            "guest-init is dynamically linked"
        );
    }

    #[test]
    fn archive_is_reused_from_the_cache() {
        let top = tempfile::tempdir().unwrap();
        let dir = trusted_dir(top.path()).unwrap();
        let first = build_initramfs_in(&dir).unwrap();
        let mtime = std::fs::metadata(&first).unwrap().modified().unwrap();
        let second = build_initramfs_in(&dir).unwrap();
        assert_eq!(first, second);
        assert_eq!(
            std::fs::metadata(&second).unwrap().modified().unwrap(),
            mtime
        );
        assert!(std::fs::read(&first).unwrap().len() > GUEST_INIT.len());
    }

    /// What boots is built from the embedded guest-init, never read back;
    /// a cached copy that changed is written again.
    #[test]
    fn a_changed_cached_initramfs_is_rewritten_and_never_booted() {
        let top = tempfile::tempdir().unwrap();
        let dir = trusted_dir(top.path()).unwrap();
        let path = build_initramfs_in(&dir).unwrap();
        let good = std::fs::read(&path).unwrap();
        let mut planted = good.clone();
        let at = planted.len() / 2;
        planted[at] ^= 0xff;
        std::fs::write(&path, &planted).unwrap();
        assert_eq!(&*initramfs_image().unwrap().bytes, &good[..]);
        assert_eq!(build_initramfs_in(&dir).unwrap(), path);
        assert_eq!(std::fs::read(&path).unwrap(), good);
        // Truncated, or grown past the archive: the same.
        std::fs::write(&path, &good[..100]).unwrap();
        build_initramfs_in(&dir).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), good);
        std::fs::write(&path, [&good[..], b"more"].concat()).unwrap();
        build_initramfs_in(&dir).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), good);
    }
}
