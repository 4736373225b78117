//! A kernel or initramfs as the bytes that boot.
//!
//! The library reads (and, for cached files, verifies) each image once
//! and hands the bytes on: our VMM copies them into guest memory, and
//! programs that want a file name (qemu's `-kernel`, `-initrd`) get a
//! sealed in-memory copy as `/proc/self/fd/N` ([`BootImage::sealed_memfd`]).
//! So nobody can change a file between its check and its use, and a path
//! that names one file at the check never names another at the boot.

use std::fs::File;
use std::io::Write;
use std::os::fd::OwnedFd;
use std::path::PathBuf;
use std::sync::Arc;

use rustix::fs::{MemfdFlags, SealFlags};

/// Bytes to boot, and what to call them in messages.
#[derive(Clone)]
pub struct BootImage {
    /// Where the bytes came from (a file, or a description of them).
    pub name: PathBuf,
    /// The bytes that boot.
    pub bytes: Arc<[u8]>,
}

impl std::fmt::Debug for BootImage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "BootImage({}, {} bytes)",
            self.name.display(),
            self.bytes.len()
        )
    }
}

impl BootImage {
    /// `bytes`, called `name` in messages.
    pub fn new(name: impl Into<PathBuf>, bytes: impl Into<Arc<[u8]>>) -> BootImage {
        BootImage {
            name: name.into(),
            bytes: bytes.into(),
        }
    }

    /// The bytes in an anonymous memory file, sealed against any change
    /// (write, grow, shrink, new seals), close-on-exec. A child process
    /// that inherits it (clear `FD_CLOEXEC` in the child) opens it as
    /// `/proc/self/fd/N` and reads exactly these bytes.
    pub fn sealed_memfd(&self) -> std::io::Result<OwnedFd> {
        let fd = rustix::fs::memfd_create(
            "libguest-boot-image",
            MemfdFlags::CLOEXEC | MemfdFlags::ALLOW_SEALING,
        )?;
        let mut file = File::from(fd);
        file.write_all(&self.bytes)?;
        let seals = SealFlags::WRITE | SealFlags::GROW | SealFlags::SHRINK | SealFlags::SEAL;
        rustix::fs::fcntl_add_seals(&file, seals)?;
        Ok(OwnedFd::from(file))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsRawFd;

    #[test]
    fn the_sealed_copy_reads_back_and_cannot_change() {
        let image = BootImage::new("test", b"kernel bytes".to_vec());
        let fd = image.sealed_memfd().unwrap();
        // What a child sees through the descriptor's /proc name.
        let name = format!("/proc/self/fd/{}", fd.as_raw_fd());
        assert_eq!(std::fs::read(&name).unwrap(), b"kernel bytes");
        let mut file = File::from(fd);
        assert!(file.write_all(b"x").is_err(), "sealed against writes");
        assert!(file.set_len(1).is_err(), "sealed against shrinking");
        assert!(std::fs::OpenOptions::new()
            .write(true)
            .open(&name)
            .and_then(|mut f| f.write_all(b"y"))
            .is_err());
        assert_eq!(std::fs::read(&name).unwrap(), b"kernel bytes");
    }
}
