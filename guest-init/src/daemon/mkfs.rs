//! (being written)

use protocol::{calls, CallIo, ErrorKind, ErrorReply};

use super::GuestDaemon;

pub(super) fn mkfs(
    _d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    _args: calls::mkfs::Args,
) -> Result<calls::mkfs::Ret, ErrorReply> {
    Err(ErrorReply::new(ErrorKind::Other, "mkfs: not implemented yet"))
}

pub(super) fn e2fsck(
    _d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    _args: calls::e2fsck::Args,
) -> Result<calls::e2fsck::Ret, ErrorReply> {
    Err(ErrorReply::new(ErrorKind::Other, "e2fsck: not implemented yet"))
}

pub(super) fn fsck(
    _d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    _args: calls::fsck::Args,
) -> Result<calls::fsck::Ret, ErrorReply> {
    Err(ErrorReply::new(ErrorKind::Other, "fsck: not implemented yet"))
}

pub(super) fn resize2fs(
    _d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    _args: calls::resize2fs::Args,
) -> Result<calls::resize2fs::Ret, ErrorReply> {
    Err(ErrorReply::new(ErrorKind::Other, "resize2fs: not implemented yet"))
}

pub(super) fn set_label(
    _d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    _args: calls::set_label::Args,
) -> Result<calls::set_label::Ret, ErrorReply> {
    Err(ErrorReply::new(ErrorKind::Other, "set_label: not implemented yet"))
}

pub(super) fn zero_free_space(
    _d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    _args: calls::zero_free_space::Args,
) -> Result<calls::zero_free_space::Ret, ErrorReply> {
    Err(ErrorReply::new(ErrorKind::Other, "zero_free_space: not implemented yet"))
}

pub(super) fn fstrim(
    _d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    _args: calls::fstrim::Args,
) -> Result<calls::fstrim::Ret, ErrorReply> {
    Err(ErrorReply::new(ErrorKind::Other, "fstrim: not implemented yet"))
}

pub(super) fn internal_load_tools(
    _d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    _args: calls::internal_load_tools::Args,
) -> Result<calls::internal_load_tools::Ret, ErrorReply> {
    Err(ErrorReply::new(ErrorKind::Other, "internal_load_tools: not implemented yet"))
}
