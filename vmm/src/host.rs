//! What the host's /dev/kvm can do, decided before anything is booted.

use std::path::Path;

use crate::error::Error;

/// Whether this host's KVM can run the appliance's Linux kernel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KvmStatus {
    /// /dev/kvm opens and is backed by hardware virtualization.
    Usable,
    /// /dev/kvm does not exist.
    Missing,
    /// /dev/kvm exists but this user cannot open it.
    NoPermission,
    /// /dev/kvm opens but its module cannot run an ordinary Linux guest
    /// (kvm_pvm runs only PVM-built kernels and emulates everything else).
    CannotRunLinux {
        /// The loaded module, e.g. `kvm_pvm`.
        module: String,
    },
}

impl KvmStatus {
    /// Probes /dev/kvm and the loaded KVM modules. Cheap: one open(2) and a
    /// few stat(2) calls.
    pub fn probe() -> KvmStatus {
        Self::probe_at(Path::new("/dev/kvm"), Path::new("/sys/module"))
    }

    fn probe_at(dev: &Path, modules: &Path) -> KvmStatus {
        match std::fs::OpenOptions::new().read(true).write(true).open(dev) {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return KvmStatus::Missing,
            Err(_) => return KvmStatus::NoPermission,
        }
        let loaded = |name: &str| modules.join(name).exists();
        if loaded("kvm_pvm") && !loaded("kvm_intel") && !loaded("kvm_amd") {
            return KvmStatus::CannotRunLinux {
                module: "kvm_pvm".to_string(),
            };
        }
        KvmStatus::Usable
    }

    /// True for [`KvmStatus::Usable`]: [`crate::Vm::start`] can boot here.
    pub fn is_usable(&self) -> bool {
        *self == KvmStatus::Usable
    }

    /// The error a launch on this host fails with, if it cannot succeed.
    pub fn check(&self) -> Result<(), Error> {
        match self {
            KvmStatus::Usable => Ok(()),
            KvmStatus::Missing => Err(Error::KvmMissing),
            KvmStatus::NoPermission => Err(Error::KvmPermission(std::io::Error::from(
                std::io::ErrorKind::PermissionDenied,
            ))),
            KvmStatus::CannotRunLinux { module } => Err(Error::KvmCannotRunLinux {
                module: module.clone(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_device_is_reported() {
        let dir = std::env::temp_dir();
        let status = KvmStatus::probe_at(&dir.join("no-such-kvm-device"), &dir);
        assert_eq!(status, KvmStatus::Missing);
        assert!(status.check().unwrap_err().to_string().contains("/dev/kvm"));
    }

    #[test]
    fn pvm_only_host_cannot_run_linux() {
        let root = std::env::temp_dir().join(format!("kvm-probe-{}", std::process::id()));
        let modules = root.join("module");
        std::fs::create_dir_all(modules.join("kvm_pvm")).unwrap();
        let dev = root.join("kvm");
        std::fs::write(&dev, b"").unwrap();
        let status = KvmStatus::probe_at(&dev, &modules);
        assert_eq!(
            status,
            KvmStatus::CannotRunLinux {
                module: "kvm_pvm".into()
            }
        );
        assert!(status.check().unwrap_err().to_string().contains("kvm_pvm"));
        std::fs::create_dir_all(modules.join("kvm_amd")).unwrap();
        assert_eq!(KvmStatus::probe_at(&dev, &modules), KvmStatus::Usable);
        std::fs::remove_dir_all(root).unwrap();
    }
}
