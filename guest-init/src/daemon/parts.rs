//! (being written)

use protocol::{calls, CallIo, ErrorKind, ErrorReply};

use super::GuestDaemon;

pub(super) fn part_init(
    _d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    _args: calls::part_init::Args,
) -> Result<calls::part_init::Ret, ErrorReply> {
    Err(ErrorReply::new(ErrorKind::Other, "part_init: not implemented yet"))
}

pub(super) fn part_add(
    _d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    _args: calls::part_add::Args,
) -> Result<calls::part_add::Ret, ErrorReply> {
    Err(ErrorReply::new(ErrorKind::Other, "part_add: not implemented yet"))
}

pub(super) fn part_del(
    _d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    _args: calls::part_del::Args,
) -> Result<calls::part_del::Ret, ErrorReply> {
    Err(ErrorReply::new(ErrorKind::Other, "part_del: not implemented yet"))
}

pub(super) fn part_disk(
    _d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    _args: calls::part_disk::Args,
) -> Result<calls::part_disk::Ret, ErrorReply> {
    Err(ErrorReply::new(ErrorKind::Other, "part_disk: not implemented yet"))
}

pub(super) fn part_list(
    _d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    _args: calls::part_list::Args,
) -> Result<calls::part_list::Ret, ErrorReply> {
    Err(ErrorReply::new(ErrorKind::Other, "part_list: not implemented yet"))
}

pub(super) fn part_get_parttype(
    _d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    _args: calls::part_get_parttype::Args,
) -> Result<calls::part_get_parttype::Ret, ErrorReply> {
    Err(ErrorReply::new(ErrorKind::Other, "part_get_parttype: not implemented yet"))
}

pub(super) fn part_set_name(
    _d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    _args: calls::part_set_name::Args,
) -> Result<calls::part_set_name::Ret, ErrorReply> {
    Err(ErrorReply::new(ErrorKind::Other, "part_set_name: not implemented yet"))
}

pub(super) fn part_set_gpt_type(
    _d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    _args: calls::part_set_gpt_type::Args,
) -> Result<calls::part_set_gpt_type::Ret, ErrorReply> {
    Err(ErrorReply::new(ErrorKind::Other, "part_set_gpt_type: not implemented yet"))
}

pub(super) fn part_set_bootable(
    _d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    _args: calls::part_set_bootable::Args,
) -> Result<calls::part_set_bootable::Ret, ErrorReply> {
    Err(ErrorReply::new(ErrorKind::Other, "part_set_bootable: not implemented yet"))
}
