//! (being written)

use protocol::{calls, CallIo, ErrorKind, ErrorReply};

use super::GuestDaemon;

pub(super) fn mkdir(
    _d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    _args: calls::mkdir::Args,
) -> Result<calls::mkdir::Ret, ErrorReply> {
    Err(ErrorReply::new(ErrorKind::Other, "mkdir: not implemented yet"))
}

pub(super) fn mkdir_p(
    _d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    _args: calls::mkdir_p::Args,
) -> Result<calls::mkdir_p::Ret, ErrorReply> {
    Err(ErrorReply::new(ErrorKind::Other, "mkdir_p: not implemented yet"))
}

pub(super) fn rmdir(
    _d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    _args: calls::rmdir::Args,
) -> Result<calls::rmdir::Ret, ErrorReply> {
    Err(ErrorReply::new(ErrorKind::Other, "rmdir: not implemented yet"))
}

pub(super) fn rm(
    _d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    _args: calls::rm::Args,
) -> Result<calls::rm::Ret, ErrorReply> {
    Err(ErrorReply::new(ErrorKind::Other, "rm: not implemented yet"))
}

pub(super) fn rm_rf(
    _d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    _args: calls::rm_rf::Args,
) -> Result<calls::rm_rf::Ret, ErrorReply> {
    Err(ErrorReply::new(ErrorKind::Other, "rm_rf: not implemented yet"))
}

pub(super) fn cp(
    _d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    _args: calls::cp::Args,
) -> Result<calls::cp::Ret, ErrorReply> {
    Err(ErrorReply::new(ErrorKind::Other, "cp: not implemented yet"))
}

pub(super) fn cp_a(
    _d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    _args: calls::cp_a::Args,
) -> Result<calls::cp_a::Ret, ErrorReply> {
    Err(ErrorReply::new(ErrorKind::Other, "cp_a: not implemented yet"))
}

pub(super) fn mv(
    _d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    _args: calls::mv::Args,
) -> Result<calls::mv::Ret, ErrorReply> {
    Err(ErrorReply::new(ErrorKind::Other, "mv: not implemented yet"))
}

pub(super) fn ln_s(
    _d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    _args: calls::ln_s::Args,
) -> Result<calls::ln_s::Ret, ErrorReply> {
    Err(ErrorReply::new(ErrorKind::Other, "ln_s: not implemented yet"))
}

pub(super) fn chmod(
    _d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    _args: calls::chmod::Args,
) -> Result<calls::chmod::Ret, ErrorReply> {
    Err(ErrorReply::new(ErrorKind::Other, "chmod: not implemented yet"))
}

pub(super) fn chown(
    _d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    _args: calls::chown::Args,
) -> Result<calls::chown::Ret, ErrorReply> {
    Err(ErrorReply::new(ErrorKind::Other, "chown: not implemented yet"))
}

pub(super) fn utimens(
    _d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    _args: calls::utimens::Args,
) -> Result<calls::utimens::Ret, ErrorReply> {
    Err(ErrorReply::new(ErrorKind::Other, "utimens: not implemented yet"))
}
