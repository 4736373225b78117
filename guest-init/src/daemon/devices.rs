//! (being written)

use protocol::{calls, CallIo, ErrorKind, ErrorReply};

use super::GuestDaemon;

pub(super) fn list_devices(
    _d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    _args: calls::list_devices::Args,
) -> Result<calls::list_devices::Ret, ErrorReply> {
    Err(ErrorReply::new(ErrorKind::Other, "list_devices: not implemented yet"))
}

pub(super) fn list_partitions(
    _d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    _args: calls::list_partitions::Args,
) -> Result<calls::list_partitions::Ret, ErrorReply> {
    Err(ErrorReply::new(ErrorKind::Other, "list_partitions: not implemented yet"))
}

pub(super) fn list_filesystems(
    _d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    _args: calls::list_filesystems::Args,
) -> Result<calls::list_filesystems::Ret, ErrorReply> {
    Err(ErrorReply::new(ErrorKind::Other, "list_filesystems: not implemented yet"))
}

pub(super) fn vfs_type(
    _d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    _args: calls::vfs_type::Args,
) -> Result<calls::vfs_type::Ret, ErrorReply> {
    Err(ErrorReply::new(ErrorKind::Other, "vfs_type: not implemented yet"))
}

pub(super) fn vfs_label(
    _d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    _args: calls::vfs_label::Args,
) -> Result<calls::vfs_label::Ret, ErrorReply> {
    Err(ErrorReply::new(ErrorKind::Other, "vfs_label: not implemented yet"))
}

pub(super) fn vfs_uuid(
    _d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    _args: calls::vfs_uuid::Args,
) -> Result<calls::vfs_uuid::Ret, ErrorReply> {
    Err(ErrorReply::new(ErrorKind::Other, "vfs_uuid: not implemented yet"))
}

pub(super) fn blockdev_getsize64(
    _d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    _args: calls::blockdev_getsize64::Args,
) -> Result<calls::blockdev_getsize64::Ret, ErrorReply> {
    Err(ErrorReply::new(ErrorKind::Other, "blockdev_getsize64: not implemented yet"))
}
