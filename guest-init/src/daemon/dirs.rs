//! (being written)

use protocol::{calls, CallIo, ErrorKind, ErrorReply};

use super::GuestDaemon;

pub(super) fn ls(
    _d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    _args: calls::ls::Args,
) -> Result<calls::ls::Ret, ErrorReply> {
    Err(ErrorReply::new(ErrorKind::Other, "ls: not implemented yet"))
}

pub(super) fn ll(
    _d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    _args: calls::ll::Args,
) -> Result<calls::ll::Ret, ErrorReply> {
    Err(ErrorReply::new(ErrorKind::Other, "ll: not implemented yet"))
}

pub(super) fn readdir(
    _d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    _args: calls::readdir::Args,
) -> Result<calls::readdir::Ret, ErrorReply> {
    Err(ErrorReply::new(ErrorKind::Other, "readdir: not implemented yet"))
}

pub(super) fn find(
    _d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    _args: calls::find::Args,
) -> Result<calls::find::Ret, ErrorReply> {
    Err(ErrorReply::new(ErrorKind::Other, "find: not implemented yet"))
}

pub(super) fn statns(
    _d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    _args: calls::statns::Args,
) -> Result<calls::statns::Ret, ErrorReply> {
    Err(ErrorReply::new(ErrorKind::Other, "statns: not implemented yet"))
}

pub(super) fn lstatns(
    _d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    _args: calls::lstatns::Args,
) -> Result<calls::lstatns::Ret, ErrorReply> {
    Err(ErrorReply::new(ErrorKind::Other, "lstatns: not implemented yet"))
}

pub(super) fn statvfs(
    _d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    _args: calls::statvfs::Args,
) -> Result<calls::statvfs::Ret, ErrorReply> {
    Err(ErrorReply::new(ErrorKind::Other, "statvfs: not implemented yet"))
}

pub(super) fn exists(
    _d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    _args: calls::exists::Args,
) -> Result<calls::exists::Ret, ErrorReply> {
    Err(ErrorReply::new(ErrorKind::Other, "exists: not implemented yet"))
}

pub(super) fn is_file(
    _d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    _args: calls::is_file::Args,
) -> Result<calls::is_file::Ret, ErrorReply> {
    Err(ErrorReply::new(ErrorKind::Other, "is_file: not implemented yet"))
}

pub(super) fn is_dir(
    _d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    _args: calls::is_dir::Args,
) -> Result<calls::is_dir::Ret, ErrorReply> {
    Err(ErrorReply::new(ErrorKind::Other, "is_dir: not implemented yet"))
}

pub(super) fn is_symlink(
    _d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    _args: calls::is_symlink::Args,
) -> Result<calls::is_symlink::Ret, ErrorReply> {
    Err(ErrorReply::new(ErrorKind::Other, "is_symlink: not implemented yet"))
}

pub(super) fn readlink(
    _d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    _args: calls::readlink::Args,
) -> Result<calls::readlink::Ret, ErrorReply> {
    Err(ErrorReply::new(ErrorKind::Other, "readlink: not implemented yet"))
}
