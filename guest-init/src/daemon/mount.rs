//! (being written)

use std::path::{Path, PathBuf};

use protocol::{calls, CallIo, ErrorKind, ErrorReply};

use super::GuestDaemon;

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
}

pub(super) fn mount(
    _d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    _args: calls::mount::Args,
) -> Result<calls::mount::Ret, ErrorReply> {
    Err(ErrorReply::new(ErrorKind::Other, "mount: not implemented yet"))
}

pub(super) fn mount_ro(
    _d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    _args: calls::mount_ro::Args,
) -> Result<calls::mount_ro::Ret, ErrorReply> {
    Err(ErrorReply::new(ErrorKind::Other, "mount_ro: not implemented yet"))
}

pub(super) fn mount_options(
    _d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    _args: calls::mount_options::Args,
) -> Result<calls::mount_options::Ret, ErrorReply> {
    Err(ErrorReply::new(ErrorKind::Other, "mount_options: not implemented yet"))
}

pub(super) fn umount(
    _d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    _args: calls::umount::Args,
) -> Result<calls::umount::Ret, ErrorReply> {
    Err(ErrorReply::new(ErrorKind::Other, "umount: not implemented yet"))
}

pub(super) fn umount_all(
    _d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    _args: calls::umount_all::Args,
) -> Result<calls::umount_all::Ret, ErrorReply> {
    Err(ErrorReply::new(ErrorKind::Other, "umount_all: not implemented yet"))
}

pub(super) fn mounts(
    _d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    _args: calls::mounts::Args,
) -> Result<calls::mounts::Ret, ErrorReply> {
    Err(ErrorReply::new(ErrorKind::Other, "mounts: not implemented yet"))
}

pub(super) fn mountpoints(
    _d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    _args: calls::mountpoints::Args,
) -> Result<calls::mountpoints::Ret, ErrorReply> {
    Err(ErrorReply::new(ErrorKind::Other, "mountpoints: not implemented yet"))
}

pub(super) fn sync(
    _d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    _args: calls::sync::Args,
) -> Result<calls::sync::Ret, ErrorReply> {
    Err(ErrorReply::new(ErrorKind::Other, "sync: not implemented yet"))
}
