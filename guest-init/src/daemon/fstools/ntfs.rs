//! ntfs tools from ntfs-3g: ntfsresize, ntfsfix and ntfs-3g.probe.

use std::ffi::{OsStr, OsString};

use protocol::{calls, CallIo, ErrorReply};

use super::super::mkfs::refuse_mounted;
use super::super::mkfs::run::{run, run_ok};
use super::super::state::GuestDaemon;
use super::super::util::invalid;
use super::os_args;

pub(in crate::daemon) fn ntfsresize(
    d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    a: calls::ntfsresize::Args,
) -> Result<calls::ntfsresize::Ret, ErrorReply> {
    let call = "ntfsresize";
    let device = a.device.as_str();
    refuse_mounted(d, call, device)?;
    // -P: no progress bar (its carriage returns would fill the output).
    let mut argv: Vec<OsString> = vec!["-P".into()];
    match a.size {
        Some(n) if n <= 0 => return Err(invalid(format!("{call}: size must be > 0"))),
        Some(n) => argv.extend(["--size".into(), n.to_string().into()]),
        None => {}
    }
    if a.force == Some(true) {
        argv.push("--force".into());
    }
    argv.push(device.into());
    run_ok(call, "ntfsresize", &os_args(&argv))?;
    Ok(())
}

pub(in crate::daemon) fn ntfsfix(
    d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    a: calls::ntfsfix::Args,
) -> Result<calls::ntfsfix::Ret, ErrorReply> {
    let device = a.device.as_str();
    refuse_mounted(d, "ntfsfix", device)?;
    let mut argv = Vec::new();
    if a.clearbadsectors == Some(true) {
        argv.push(OsStr::new("-b"));
    }
    argv.push(OsStr::new(device));
    run_ok("ntfsfix", "ntfsfix", &argv)?;
    Ok(())
}

pub(in crate::daemon) fn ntfs_3g_probe(
    _d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    a: calls::ntfs_3g_probe::Args,
) -> Result<calls::ntfs_3g_probe::Ret, ErrorReply> {
    let mode = if a.rw { "--readwrite" } else { "--readonly" };
    let argv = [OsStr::new(mode), OsStr::new(a.device.as_str())];
    // The exit status is the answer (ntfs-3g.probe(8)).
    Ok(i64::from(
        run("ntfs_3g_probe", "ntfs-3g.probe", &argv)?.code,
    ))
}
