//! Finding (or building) the appliance kernel.
//!
//! kernel-config/build-kernel.sh caches kernels as
//! `<cache>/kernels/appliance-<fragment hash>-<build key>/vmlinux`, with
//! the `sha256sum` of that vmlinux beside it in `vmlinux.sha256`, written
//! at build time into the same checked directory (see [`super::cache`]),
//! so another user can forge neither. The fragment hash ties a cached
//! kernel to the config this libguest expects.
//!
//! A cached kernel is read once, checked against its record, and those
//! bytes boot ([`load_kernel`]). A kernel the user named (`set_kernel`,
//! `LIBGUEST_KERNEL`) is trusted as named, without a hash, but is also
//! opened once (`O_NONBLOCK`: a FIFO is refused, not waited on) and read
//! into memory, so the name is never resolved a second time.

use std::ffi::OsString;
use std::io::Read;
use std::os::unix::fs::{FileTypeExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use sha2::{Digest, Sha256};

use super::cache::{cache_root, parse_sha256_record, TrustedDir};
use super::{cache_dir, BootImage};
use crate::error::{ApplianceError, Result};

/// The appliance kernel's config fragment (merged on top of tinyconfig).
pub const KERNEL_FRAGMENT: &str = include_str!("../../kernel-config/appliance.config");
const TESTHOST_FRAGMENT: &str = include_str!("../../kernel-config/testhost.config");
const BUILD_SCRIPT: &str = include_str!("../../kernel-config/build-kernel.sh");

/// The largest kernel read into memory (ours is about 18 MiB).
const MAX_KERNEL: u64 = 256 << 20;
/// What a cached kernel's record file is called.
const RECORD: &str = "vmlinux.sha256";
const REBUILD: &str = "remove that kernel directory and run `libguest build-kernel` (or kernel-config/build-kernel.sh appliance)";

fn fragment_hash() -> String {
    let digest = Sha256::digest(KERNEL_FRAGMENT.as_bytes());
    digest
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<String>()[..12]
        .to_string()
}

/// The kernel to boot: an explicit path, else LIBGUEST_KERNEL, else the
/// newest cached kernel built from this libguest's fragment, checked
/// against the SHA-256 recorded when it was built.
pub fn load_kernel(explicit: Option<&Path>) -> Result<BootImage> {
    if let Some(path) = explicit {
        return read_named(path, "set_kernel");
    }
    if let Some(path) = std::env::var_os("LIBGUEST_KERNEL").filter(|p| !p.is_empty()) {
        return read_named(Path::new(&path), "LIBGUEST_KERNEL");
    }
    let root = cache_root()?;
    load_cached(&root)
}

/// Where the kernel [`load_kernel`] would boot is, for programs that
/// need a file name (the e2e harness). A cached kernel is verified first.
pub fn find_kernel(explicit: Option<&Path>) -> Result<PathBuf> {
    if let Some(path) = explicit {
        return existing(path, "set_kernel");
    }
    if let Some(path) = std::env::var_os("LIBGUEST_KERNEL").filter(|p| !p.is_empty()) {
        return existing(Path::new(&path), "LIBGUEST_KERNEL");
    }
    Ok(load_cached(&cache_root()?)?.name)
}

fn existing(path: &Path, source: &str) -> Result<PathBuf> {
    if path.is_file() {
        Ok(path.to_path_buf())
    } else {
        Err(not_a_file(path, source))
    }
}

fn not_a_file(path: &Path, source: &str) -> ApplianceError {
    ApplianceError::KernelNotFound {
        searched: format!("{} from {source}, which is not a file", path.display()),
    }
}

/// A kernel file the user named: opened once, read whole.
fn read_named(path: &Path, source: &str) -> Result<BootImage> {
    let io = |source: std::io::Error| ApplianceError::Io {
        what: format!("kernel {}", path.display()),
        source,
    };
    let mut file = match std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
    {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(not_a_file(path, source)),
        Err(e) => return Err(io(e)),
    };
    let meta = file.metadata().map_err(io)?;
    if !meta.file_type().is_file() || meta.file_type().is_fifo() {
        return Err(not_a_file(path, source));
    }
    if meta.size() > MAX_KERNEL {
        return Err(io(std::io::Error::other(format!(
            "{} bytes, over the {MAX_KERNEL} a kernel may be",
            meta.size()
        ))));
    }
    let mut bytes = Vec::with_capacity(meta.size() as usize);
    file.by_ref()
        .take(MAX_KERNEL)
        .read_to_end(&mut bytes)
        .map_err(io)?;
    Ok(BootImage::new(path, bytes))
}

/// The newest verified kernel for this fragment in `<root>/kernels`.
fn load_cached(root: &TrustedDir) -> Result<BootImage> {
    let prefix = format!("appliance-{}-", fragment_hash());
    let kernels_path = root.path().join("kernels");
    let not_found = |unrecorded: usize| {
        let older = match unrecorded {
            0 => String::new(),
            n => format!(
                "; {n} kernel(s) there were cached by an older libguest without a {RECORD} and are not trusted: rebuild"
            ),
        };
        ApplianceError::KernelNotFound {
            searched: format!(
                "{}/{prefix}*/vmlinux with its {RECORD}{older}, and LIBGUEST_KERNEL",
                kernels_path.display()
            ),
        }
    };
    let Some(kernels) = root.existing_subdir("kernels")? else {
        return Err(not_found(0));
    };
    let mut unrecorded = 0;
    let mut newest: Option<(i64, OsString, TrustedDir)> = None;
    for name in kernels.entries()? {
        if !name.to_string_lossy().starts_with(&prefix) {
            continue;
        }
        let Some(dir) = kernels.existing_subdir(&name)? else {
            continue;
        };
        let Some(record) = dir.open_file(RECORD)? else {
            unrecorded += 1;
            continue;
        };
        let mtime = record.metadata().map_or(0, |m| m.mtime());
        if newest
            .as_ref()
            .is_none_or(|(t, n, _)| (mtime, &name) > (*t, n))
        {
            newest = Some((mtime, name, dir));
        }
    }
    let Some((_, _, dir)) = newest else {
        return Err(not_found(unrecorded));
    };
    let path = dir.path().join("vmlinux");
    let record = dir.read_file(RECORD, 4096)?.unwrap_or_default();
    let Some(expected) = parse_sha256_record(&record) else {
        return Err(ApplianceError::KernelBuild(format!(
            "{} is not a sha256sum line; {REBUILD}",
            dir.path().join(RECORD).display()
        )));
    };
    match dir.read_verified("vmlinux", &expected, MAX_KERNEL, REBUILD)? {
        Some(bytes) => Ok(BootImage::new(path, bytes)),
        None => Err(ApplianceError::KernelNotFound {
            searched: format!("{} (its {RECORD} is there)", path.display()),
        }),
    }
}

/// Builds a kernel with the build script embedded in this library
/// ("appliance", or "testhost" for the e2e harness) and returns its cached
/// path. Takes minutes the first time; free when cached.
pub fn build_kernel(kind: &str) -> Result<PathBuf> {
    // The script checks the cache the same way; this says it first, in
    // the library's words.
    cache_root()?;
    let dir = tempfile::tempdir().map_err(|source| ApplianceError::Io {
        what: "temporary directory for the kernel build recipe".into(),
        source,
    })?;
    for (name, text) in [
        ("build-kernel.sh", BUILD_SCRIPT),
        ("appliance.config", KERNEL_FRAGMENT),
        ("testhost.config", TESTHOST_FRAGMENT),
    ] {
        std::fs::write(dir.path().join(name), text).map_err(|source| ApplianceError::Io {
            what: format!("writing {name}"),
            source,
        })?;
    }
    let out = Command::new("bash")
        .arg(dir.path().join("build-kernel.sh"))
        .arg(kind)
        .env("LIBGUEST_CACHE_DIR", cache_dir())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| ApplianceError::KernelBuild(format!("cannot run bash: {e}")))?;
    if !out.status.success() {
        return Err(ApplianceError::KernelBuild(format!(
            "build-kernel.sh {kind} exited with {} (its messages are above)",
            out.status
        )));
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    match stdout.lines().last() {
        Some(line) if Path::new(line.trim()).is_file() => Ok(PathBuf::from(line.trim())),
        _ => Err(ApplianceError::KernelBuild(format!(
            "build-kernel.sh printed no kernel path: {stdout:?}"
        ))),
    }
}

#[cfg(test)]
mod tests;
