//! Calls about the daemon itself.

use protocol::types::Version;
use protocol::{calls, CallIo, ErrorKind, ErrorReply};

use super::state::GuestDaemon;

pub(super) fn ping_daemon(
    _d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    _args: calls::ping_daemon::Args,
) -> Result<(), ErrorReply> {
    Ok(())
}

pub(super) fn version(
    _d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    _args: calls::version::Args,
) -> Result<Version, ErrorReply> {
    let number = |s: &str| s.parse::<i64>().unwrap_or(0);
    Ok(Version {
        major: number(env!("CARGO_PKG_VERSION_MAJOR")),
        minor: number(env!("CARGO_PKG_VERSION_MINOR")),
        release: number(env!("CARGO_PKG_VERSION_PATCH")),
        extra: env!("CARGO_PKG_VERSION_PRE").to_owned(),
    })
}

pub(super) fn debug(
    _d: &mut GuestDaemon,
    io: &mut dyn CallIo,
    args: calls::debug::Args,
) -> Result<String, ErrorReply> {
    let words: Vec<&str> = args.extraargs.iter().map(String::as_str).collect();
    #[cfg(feature = "test-hooks")]
    let result = crate::testhooks::run_call(&args.subcmd, &words, &|| io.cancelled());
    #[cfg(not(feature = "test-hooks"))]
    let result: Option<Result<String, String>> = {
        let _ = words;
        Some(Err(format!(
            "debug {:?}: this appliance was built without test hooks (appliance feature test-hooks)",
            args.subcmd
        )))
    };
    if io.cancelled() {
        return Err(ErrorReply::cancelled());
    }
    match result {
        Some(Ok(text)) => Ok(text),
        Some(Err(text)) => Err(ErrorReply::new(ErrorKind::Other, text)),
        None => Err(ErrorReply::new(
            ErrorKind::InvalidArgument,
            format!("debug: unknown subcommand {:?}", args.subcmd),
        )),
    }
}

/// Only marks the request: the channel server powers off after the reply
/// has gone out, so the host sees the call succeed.
pub(super) fn internal_poweroff(
    d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    _args: calls::internal_poweroff::Args,
) -> Result<(), ErrorReply> {
    d.poweroff_requested = true;
    Ok(())
}
