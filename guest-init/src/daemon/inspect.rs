//! (being written)

use protocol::{calls, CallIo, ErrorKind, ErrorReply};

use super::GuestDaemon;

pub(super) fn inspect_os(
    _d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    _args: calls::inspect_os::Args,
) -> Result<calls::inspect_os::Ret, ErrorReply> {
    Err(ErrorReply::new(ErrorKind::Other, "inspect_os: not implemented yet"))
}

pub(super) fn inspect_get_type(
    _d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    _args: calls::inspect_get_type::Args,
) -> Result<calls::inspect_get_type::Ret, ErrorReply> {
    Err(ErrorReply::new(ErrorKind::Other, "inspect_get_type: not implemented yet"))
}

pub(super) fn inspect_get_distro(
    _d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    _args: calls::inspect_get_distro::Args,
) -> Result<calls::inspect_get_distro::Ret, ErrorReply> {
    Err(ErrorReply::new(ErrorKind::Other, "inspect_get_distro: not implemented yet"))
}

pub(super) fn inspect_get_product_name(
    _d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    _args: calls::inspect_get_product_name::Args,
) -> Result<calls::inspect_get_product_name::Ret, ErrorReply> {
    Err(ErrorReply::new(ErrorKind::Other, "inspect_get_product_name: not implemented yet"))
}

pub(super) fn inspect_get_major_version(
    _d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    _args: calls::inspect_get_major_version::Args,
) -> Result<calls::inspect_get_major_version::Ret, ErrorReply> {
    Err(ErrorReply::new(ErrorKind::Other, "inspect_get_major_version: not implemented yet"))
}

pub(super) fn inspect_get_minor_version(
    _d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    _args: calls::inspect_get_minor_version::Args,
) -> Result<calls::inspect_get_minor_version::Ret, ErrorReply> {
    Err(ErrorReply::new(ErrorKind::Other, "inspect_get_minor_version: not implemented yet"))
}

pub(super) fn inspect_get_arch(
    _d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    _args: calls::inspect_get_arch::Args,
) -> Result<calls::inspect_get_arch::Ret, ErrorReply> {
    Err(ErrorReply::new(ErrorKind::Other, "inspect_get_arch: not implemented yet"))
}

pub(super) fn inspect_get_hostname(
    _d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    _args: calls::inspect_get_hostname::Args,
) -> Result<calls::inspect_get_hostname::Ret, ErrorReply> {
    Err(ErrorReply::new(ErrorKind::Other, "inspect_get_hostname: not implemented yet"))
}

pub(super) fn inspect_get_package_format(
    _d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    _args: calls::inspect_get_package_format::Args,
) -> Result<calls::inspect_get_package_format::Ret, ErrorReply> {
    Err(ErrorReply::new(ErrorKind::Other, "inspect_get_package_format: not implemented yet"))
}

pub(super) fn inspect_get_package_management(
    _d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    _args: calls::inspect_get_package_management::Args,
) -> Result<calls::inspect_get_package_management::Ret, ErrorReply> {
    Err(ErrorReply::new(ErrorKind::Other, "inspect_get_package_management: not implemented yet"))
}

pub(super) fn inspect_get_mountpoints(
    _d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    _args: calls::inspect_get_mountpoints::Args,
) -> Result<calls::inspect_get_mountpoints::Ret, ErrorReply> {
    Err(ErrorReply::new(ErrorKind::Other, "inspect_get_mountpoints: not implemented yet"))
}

pub(super) fn inspect_get_filesystems(
    _d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    _args: calls::inspect_get_filesystems::Args,
) -> Result<calls::inspect_get_filesystems::Ret, ErrorReply> {
    Err(ErrorReply::new(ErrorKind::Other, "inspect_get_filesystems: not implemented yet"))
}

pub(super) fn inspect_list_applications2(
    _d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    _args: calls::inspect_list_applications2::Args,
) -> Result<calls::inspect_list_applications2::Ret, ErrorReply> {
    Err(ErrorReply::new(ErrorKind::Other, "inspect_list_applications2: not implemented yet"))
}
