//! (being written)

use protocol::{calls, CallIo, ErrorKind, ErrorReply};

use super::GuestDaemon;

pub(super) fn cat(
    _d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    _args: calls::cat::Args,
) -> Result<calls::cat::Ret, ErrorReply> {
    Err(ErrorReply::new(ErrorKind::Other, "cat: not implemented yet"))
}

pub(super) fn read_file(
    _d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    _args: calls::read_file::Args,
) -> Result<calls::read_file::Ret, ErrorReply> {
    Err(ErrorReply::new(ErrorKind::Other, "read_file: not implemented yet"))
}

pub(super) fn read_lines(
    _d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    _args: calls::read_lines::Args,
) -> Result<calls::read_lines::Ret, ErrorReply> {
    Err(ErrorReply::new(ErrorKind::Other, "read_lines: not implemented yet"))
}

pub(super) fn pread(
    _d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    _args: calls::pread::Args,
) -> Result<calls::pread::Ret, ErrorReply> {
    Err(ErrorReply::new(ErrorKind::Other, "pread: not implemented yet"))
}

pub(super) fn write(
    _d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    _args: calls::write::Args,
) -> Result<calls::write::Ret, ErrorReply> {
    Err(ErrorReply::new(ErrorKind::Other, "write: not implemented yet"))
}

pub(super) fn write_append(
    _d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    _args: calls::write_append::Args,
) -> Result<calls::write_append::Ret, ErrorReply> {
    Err(ErrorReply::new(ErrorKind::Other, "write_append: not implemented yet"))
}

pub(super) fn pwrite(
    _d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    _args: calls::pwrite::Args,
) -> Result<calls::pwrite::Ret, ErrorReply> {
    Err(ErrorReply::new(ErrorKind::Other, "pwrite: not implemented yet"))
}

pub(super) fn truncate(
    _d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    _args: calls::truncate::Args,
) -> Result<calls::truncate::Ret, ErrorReply> {
    Err(ErrorReply::new(ErrorKind::Other, "truncate: not implemented yet"))
}

pub(super) fn truncate_size(
    _d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    _args: calls::truncate_size::Args,
) -> Result<calls::truncate_size::Ret, ErrorReply> {
    Err(ErrorReply::new(ErrorKind::Other, "truncate_size: not implemented yet"))
}

pub(super) fn touch(
    _d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    _args: calls::touch::Args,
) -> Result<calls::touch::Ret, ErrorReply> {
    Err(ErrorReply::new(ErrorKind::Other, "touch: not implemented yet"))
}

pub(super) fn upload(
    _d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    _args: calls::upload::Args,
) -> Result<calls::upload::Ret, ErrorReply> {
    Err(ErrorReply::new(ErrorKind::Other, "upload: not implemented yet"))
}

pub(super) fn download(
    _d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    _args: calls::download::Args,
) -> Result<calls::download::Ret, ErrorReply> {
    Err(ErrorReply::new(ErrorKind::Other, "download: not implemented yet"))
}
