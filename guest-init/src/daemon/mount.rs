//! (being written)

use protocol::{calls, CallIo, ErrorKind, ErrorReply};

use super::GuestDaemon;

/// What the daemon has mounted.
#[derive(Default)]
pub(crate) struct MountTable {}

impl MountTable {
    pub(crate) fn root_mounted(&self) -> bool {
        false
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
