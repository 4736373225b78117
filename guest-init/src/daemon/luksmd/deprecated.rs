//! libguestfs's deprecated LUKS calls, kept as it keeps them: luks_open,
//! luks_open_ro and luks_close are cryptsetup_open (crypttype luks) and
//! cryptsetup_close.

use protocol::types::{Device, Key};
use protocol::{calls, CallIo, ErrorReply};

use super::super::state::GuestDaemon;
use super::luks::{cryptsetup_close, cryptsetup_open};

type Reply<T> = Result<T, ErrorReply>;

/// libguestfs's deprecated luks_open and luks_open_ro: cryptsetup_open
/// with crypttype luks.
fn open_luks(
    d: &mut GuestDaemon,
    io: &mut dyn CallIo,
    device: Device,
    key: Key,
    mapname: String,
    readonly: bool,
) -> Reply<()> {
    let args = calls::cryptsetup_open::Args {
        device,
        key,
        mapname,
        readonly: Some(readonly),
        crypttype: Some("luks".into()),
        cipher: None,
    };
    cryptsetup_open(d, io, args)
}

pub(in crate::daemon) fn luks_open(
    d: &mut GuestDaemon,
    io: &mut dyn CallIo,
    args: calls::luks_open::Args,
) -> Reply<calls::luks_open::Ret> {
    open_luks(d, io, args.device, args.key, args.mapname, false)
}

pub(in crate::daemon) fn luks_open_ro(
    d: &mut GuestDaemon,
    io: &mut dyn CallIo,
    args: calls::luks_open_ro::Args,
) -> Reply<calls::luks_open_ro::Ret> {
    open_luks(d, io, args.device, args.key, args.mapname, true)
}

pub(in crate::daemon) fn luks_close(
    d: &mut GuestDaemon,
    io: &mut dyn CallIo,
    args: calls::luks_close::Args,
) -> Reply<calls::luks_close::Ret> {
    let args = calls::cryptsetup_close::Args {
        device: args.device,
    };
    cryptsetup_close(d, io, args)
}
