//! What the daemon has mounted, in mount order: the state the mount
//! calls keep (mount.rs) and `root_mounted` asks, apart from the calls so
//! that the daemon's state does not depend on them.

#[cfg(test)]
use std::path::Path;
use std::path::PathBuf;

/// One mount the daemon made.
pub(crate) struct MountRecord {
    pub(crate) device: String,
    /// Mountpoint in the guest tree ("/", "/boot").
    pub(crate) mountpoint: String,
    /// Where that is in the appliance ("/sysroot/boot").
    pub(crate) appliance_path: PathBuf,
}

/// What the daemon has mounted, in mount order.
#[derive(Default)]
pub(crate) struct MountTable {
    pub(crate) mounts: Vec<MountRecord>,
}

impl MountTable {
    pub(crate) fn root_mounted(&self) -> bool {
        self.mounts.iter().any(|m| m.mountpoint == "/")
    }

    /// Records a mount made outside the daemon (test fixtures).
    #[cfg(test)]
    pub(crate) fn record_for_tests(&mut self, device: &str, mountpoint: &str, at: &Path) {
        self.mounts.push(MountRecord {
            device: device.to_owned(),
            mountpoint: mountpoint.to_owned(),
            appliance_path: at.to_path_buf(),
        });
    }

    /// The mount of a device, by name or by device number.
    pub(crate) fn of_device(&self, device: &str) -> Option<&MountRecord> {
        self.by_device(device).and_then(|i| self.mounts.get(i))
    }

    /// The index of a device's record, by name or by device number.
    pub(super) fn by_device(&self, device: &str) -> Option<usize> {
        let rdev = |path: &str| {
            rustix::fs::stat(path)
                .ok()
                .filter(|st| st.st_mode & libc::S_IFMT == libc::S_IFBLK)
                .map(|st| st.st_rdev)
        };
        let wanted = rdev(device);
        self.mounts
            .iter()
            .position(|m| m.device == device || (wanted.is_some() && rdev(&m.device) == wanted))
    }
}
