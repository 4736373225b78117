//! (being written)

use protocol::{calls, CallIo, ErrorKind, ErrorReply};

use super::GuestDaemon;

pub(super) fn tar_in(
    _d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    _args: calls::tar_in::Args,
) -> Result<calls::tar_in::Ret, ErrorReply> {
    Err(ErrorReply::new(ErrorKind::Other, "tar_in: not implemented yet"))
}

pub(super) fn tar_out(
    _d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    _args: calls::tar_out::Args,
) -> Result<calls::tar_out::Ret, ErrorReply> {
    Err(ErrorReply::new(ErrorKind::Other, "tar_out: not implemented yet"))
}
