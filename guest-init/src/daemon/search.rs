//! (being written)

use protocol::{calls, CallIo, ErrorKind, ErrorReply};

use super::GuestDaemon;

pub(super) fn checksum(
    _d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    _args: calls::checksum::Args,
) -> Result<calls::checksum::Ret, ErrorReply> {
    Err(ErrorReply::new(ErrorKind::Other, "checksum: not implemented yet"))
}

pub(super) fn grep(
    _d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    _args: calls::grep::Args,
) -> Result<calls::grep::Ret, ErrorReply> {
    Err(ErrorReply::new(ErrorKind::Other, "grep: not implemented yet"))
}
