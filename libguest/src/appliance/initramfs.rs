//! The appliance initramfs: guest-init as /init plus the directories and
//! the console node it needs before devtmpfs is mounted. No shell, no busybox.

use std::io::Write;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::cache_dir;
use super::cpio::CpioWriter;
use crate::error::{Error, Result};

/// The static guest-init binary, built by libguest's build script.
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

/// Returns the cached initramfs, writing it first if this guest-init has
/// not been packed before. The key is a hash of guest-init and the layout.
pub fn build_initramfs() -> Result<PathBuf> {
    build_initramfs_in(&cache_dir().join("initramfs"))
}

fn build_initramfs_in(dir: &Path) -> Result<PathBuf> {
    let mut h = Sha256::new();
    h.update(LAYOUT_VERSION);
    h.update(GUEST_INIT);
    let key: String = h.finalize()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let path = dir.join(format!("appliance-{key}.cpio"));
    if path.is_file() {
        return Ok(path);
    }
    let io_err = |what: String| move |source| Error::Appliance { what, source };
    std::fs::create_dir_all(dir).map_err(io_err(format!("cache directory {}", dir.display())))?;
    let bytes = archive().map_err(io_err("initramfs archive".into()))?;
    // A unique temporary file renamed into place: concurrent launches never
    // see a half-written archive.
    let mut tmp = tempfile::NamedTempFile::new_in(dir)
        .map_err(io_err(format!("temporary file in {}", dir.display())))?;
    tmp.write_all(&bytes)
        .and_then(|_| tmp.as_file().sync_all())
        .map_err(io_err(format!(
            "writing the initramfs in {}",
            dir.display()
        )))?;
    tmp.persist(&path).map_err(|e| Error::Appliance {
        what: format!("renaming to {}", path.display()),
        source: e.error,
    })?;
    Ok(path)
}

#[cfg(test)]
mod tests {
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
        let dir = tempfile::tempdir().unwrap();
        let first = build_initramfs_in(dir.path()).unwrap();
        let mtime = std::fs::metadata(&first).unwrap().modified().unwrap();
        let second = build_initramfs_in(dir.path()).unwrap();
        assert_eq!(first, second);
        assert_eq!(
            std::fs::metadata(&second).unwrap().modified().unwrap(),
            mtime
        );
        assert!(std::fs::read(&first).unwrap().len() > GUEST_INIT.len());
    }
}
