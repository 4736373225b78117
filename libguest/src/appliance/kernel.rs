//! Finding (or building) the appliance kernel.
//!
//! kernel-config/build-kernel.sh caches kernels as
//! `<cache>/kernels/appliance-<fragment hash>-<build key>/vmlinux`. The
//! fragment hash ties a cached kernel to the config this libguest expects.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use sha2::{Digest, Sha256};

use super::cache_dir;
use crate::error::{Error, Result};

/// The appliance kernel's config fragment (merged on top of tinyconfig).
pub const KERNEL_FRAGMENT: &str = include_str!("../../../kernel-config/appliance.config");
const TESTHOST_FRAGMENT: &str = include_str!("../../../kernel-config/testhost.config");
const BUILD_SCRIPT: &str = include_str!("../../../kernel-config/build-kernel.sh");

fn fragment_hash() -> String {
    let digest = Sha256::digest(KERNEL_FRAGMENT.as_bytes());
    digest
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<String>()[..12]
        .to_string()
}

/// Finds the kernel: an explicit path, else LIBGUEST_KERNEL, else the newest
/// cached kernel built from this libguest's fragment.
pub fn find_kernel(explicit: Option<&Path>) -> Result<PathBuf> {
    if let Some(path) = explicit {
        return existing(path, "set_kernel");
    }
    if let Some(path) = std::env::var_os("LIBGUEST_KERNEL").filter(|p| !p.is_empty()) {
        return existing(Path::new(&path), "LIBGUEST_KERNEL");
    }
    find_cached(&cache_dir().join("kernels"))
}

fn existing(path: &Path, source: &str) -> Result<PathBuf> {
    if path.is_file() {
        Ok(path.to_path_buf())
    } else {
        Err(Error::KernelNotFound {
            searched: format!("{} from {source}, which is not a file", path.display()),
        })
    }
}

fn find_cached(kernels: &Path) -> Result<PathBuf> {
    let prefix = format!("appliance-{}-", fragment_hash());
    let newest = std::fs::read_dir(kernels)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with(&prefix))
        .map(|e| e.path().join("vmlinux"))
        .filter_map(|p| Some((p.metadata().ok()?.modified().ok()?, p)))
        .max();
    match newest {
        Some((_, path)) => Ok(path),
        None => Err(Error::KernelNotFound {
            searched: format!(
                "{}/{prefix}*/vmlinux and LIBGUEST_KERNEL",
                kernels.display()
            ),
        }),
    }
}

/// Builds a kernel with the build script embedded in this library
/// ("appliance", or "testhost" for the e2e harness) and returns its cached
/// path. Takes minutes the first time; free when cached.
pub fn build_kernel(kind: &str) -> Result<PathBuf> {
    let dir = tempfile::tempdir().map_err(|source| Error::Appliance {
        what: "temporary directory for the kernel build recipe".into(),
        source,
    })?;
    for (name, text) in [
        ("build-kernel.sh", BUILD_SCRIPT),
        ("appliance.config", KERNEL_FRAGMENT),
        ("testhost.config", TESTHOST_FRAGMENT),
    ] {
        std::fs::write(dir.path().join(name), text).map_err(|source| Error::Appliance {
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
        .map_err(|e| Error::KernelBuild(format!("cannot run bash: {e}")))?;
    if !out.status.success() {
        return Err(Error::KernelBuild(format!(
            "build-kernel.sh {kind} exited with {} (its messages are above)",
            out.status
        )));
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    match stdout.lines().last() {
        Some(line) if Path::new(line.trim()).is_file() => Ok(PathBuf::from(line.trim())),
        _ => Err(Error::KernelBuild(format!(
            "build-kernel.sh printed no kernel path: {stdout:?}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_newest_kernel_for_this_fragment_only() {
        let dir = tempfile::tempdir().unwrap();
        let err = find_cached(dir.path()).unwrap_err().to_string();
        assert!(err.contains("build-kernel.sh"), "{err}");
        let other = dir.path().join("appliance-000000000000-aaaa");
        std::fs::create_dir_all(&other).unwrap();
        std::fs::write(other.join("vmlinux"), b"x").unwrap();
        assert!(find_cached(dir.path()).is_err());
        let ours = dir
            .path()
            .join(format!("appliance-{}-bbbb", fragment_hash()));
        std::fs::create_dir_all(&ours).unwrap();
        std::fs::write(ours.join("vmlinux"), b"x").unwrap();
        assert_eq!(find_cached(dir.path()).unwrap(), ours.join("vmlinux"));
    }

    #[test]
    fn fragment_hash_matches_the_build_script() {
        // build-kernel.sh: `cat appliance.config | sha256sum | cut -c1-12`
        let Ok(out) = Command::new("sha256sum")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .and_then(|mut c| {
                use std::io::Write;
                c.stdin
                    .take()
                    .unwrap()
                    .write_all(KERNEL_FRAGMENT.as_bytes())?;
                c.wait_with_output()
            })
        else {
            return;
        };
        assert_eq!(&String::from_utf8_lossy(&out.stdout)[..12], fragment_hash());
    }

    #[test]
    fn explicit_kernel_must_exist() {
        let err = find_kernel(Some(Path::new("/nonexistent/vmlinux"))).unwrap_err();
        assert!(err.to_string().contains("/nonexistent/vmlinux"));
    }
}
