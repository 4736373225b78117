//! Running cryptsetup with keys: they reach it only through pipes (the
//! first on its stdin as `--key-file=-`, a second one through
//! /proc/PID/fd), never on a command line or in a file.

use std::ffi::{OsStr, OsString};
use std::io::{PipeReader, Write};
use std::os::fd::AsRawFd;
use std::process::Stdio;

use protocol::{ErrorKind, ErrorReply};

use super::super::mkfs::run::{failed, run_with, Output};
use super::NO_UDEV;

type Reply<T> = Result<T, ErrorReply>;

fn other(msg: String) -> ErrorReply {
    ErrorReply::new(ErrorKind::Other, msg)
}

/// A pipe with `key` being written into it by a thread of `scope` (a
/// key bigger than the pipe's buffer would block a write done first).
fn feed<'s>(scope: &'s std::thread::Scope<'s, '_>, call: &str, key: &'s [u8]) -> Reply<PipeReader> {
    let (reader, mut writer) =
        std::io::pipe().map_err(|e| other(format!("{call}: pipe for the key: {e}")))?;
    // An error here is the tool not reading the key: its exit status says why.
    scope.spawn(move || {
        let _ = writer.write_all(key);
    });
    Ok(reader)
}

/// Runs cryptsetup with `key` on its stdin and `newkey` (when given) on
/// a pipe whose path `argv` receives; fails unless it exits 0.
pub(super) fn cryptsetup(
    call: &str,
    key: &[u8],
    newkey: Option<&[u8]>,
    argv: impl FnOnce(Option<OsString>) -> Vec<OsString>,
) -> Reply<Output> {
    std::thread::scope(|s| {
        let stdin = feed(s, call, key)?;
        let second = newkey.map(|k| feed(s, call, k)).transpose()?;
        // The child opens our descriptor by its /proc path (its own
        // /proc/self would not have it); valid while `second` lives.
        let path = second
            .as_ref()
            .map(|r| OsString::from(format!("/proc/{}/fd/{}", std::process::id(), r.as_raw_fd())));
        let args = argv(path);
        let args: Vec<&OsStr> = args.iter().map(OsString::as_os_str).collect();
        let out = run_with(call, "cryptsetup", &args, Stdio::from(stdin), NO_UDEV)?;
        drop(second);
        if out.code != 0 {
            return Err(failed(call, "cryptsetup", &out));
        }
        Ok(out)
    })
}

pub(super) fn os(args: &[&str]) -> Vec<OsString> {
    args.iter().map(OsString::from).collect()
}
