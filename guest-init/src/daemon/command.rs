//! command, command_lines, sh and sh_lines: a program of the guest run
//! chrooted into the guest tree, as libguestfs runs it: /dev, /dev/pts,
//! /proc and /sys of the appliance bound into the tree for the run
//! (binds.rs, undone however the run ends), stdin /dev/null, the
//! program's stdout returned and a non-zero exit status an error that
//! carries it with stderr and stdout (child.rs).

mod binds;
mod child;
#[cfg(test)]
mod tests;

use protocol::{calls, CallIo, ErrorKind, ErrorReply};

use super::state::GuestDaemon;
use super::util::{invalid, Budget, MAX_OUTPUT};
use child::Ran;

/// Runs `argv` in the guest tree and returns its stdout; the errors
/// are `call`'s.
fn run(
    d: &mut GuestDaemon,
    io: &mut dyn CallIo,
    call: &str,
    argv: &[String],
) -> Result<String, ErrorReply> {
    let Some(program) = argv.first() else {
        return Err(invalid(format!("{call}: the argument list is empty")));
    };
    if argv.iter().any(|a| a.contains('\0')) {
        return Err(invalid(format!("{call}: an argument holds a NUL byte")));
    }
    let ran = {
        let _binds = binds::Binds::new(&d.root, call)?;
        child::run(io, d.root.path(), argv, call)?
        // The binds go here, whatever happened.
    };
    let shown: String = program.chars().take(200).collect();
    if ran.status != 0 {
        return Err(failed(call, &shown, &ran));
    }
    if ran.stdout_len > MAX_OUTPUT as u64 {
        return Err(over_limit(call, &shown, ran.stdout_len));
    }
    Ok(String::from_utf8_lossy(&ran.stdout).into_owned())
}

/// The error for a program that failed: its status, stderr and stdout.
fn failed(call: &str, program: &str, ran: &Ran) -> ErrorReply {
    let how = match ran.signal {
        Some(sig) => format!("was killed by signal {sig}"),
        None => format!("exited with status {}", ran.status),
    };
    let mut message = format!("{program} {how}");
    for (name, text) in [("stderr", &ran.stderr_tail), ("stdout", &ran.stdout_tail())] {
        if !text.is_empty() {
            message.push_str(&format!("\n{name}:\n{}", printable(text)));
        }
    }
    let mut e = ErrorReply::new(ErrorKind::CommandFailed, format!("{call}: {message}"));
    e.errno = ran.status;
    e
}

/// Guest output for an error message: control characters other than
/// newline and tab escaped, so they cannot drive the caller's terminal.
fn printable(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let text = text.trim_end_matches('\n');
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() && c != '\n' && c != '\t' {
            out.push_str(&format!("\\x{:02x}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    out
}

fn over_limit(call: &str, program: &str, len: u64) -> ErrorReply {
    ErrorReply::new(
        ErrorKind::TooLarge,
        format!(
            "{call}: {program} wrote {len} bytes to stdout, over the {} MiB reply limit; \
             redirect its output to a file in the guest (sh \"{program} ... > /tmp/out\") and fetch that with download",
            protocol::frame::MAX_REPLY >> 20
        ),
    )
}

/// Output split as libguestfs splits it: on newlines, a final newline
/// ending the last line rather than starting an empty one.
fn split_lines(call: &str, out: &str) -> Result<Vec<String>, ErrorReply> {
    if out.is_empty() {
        return Ok(Vec::new());
    }
    let body = out.strip_suffix('\n').unwrap_or(out);
    let mut budget = Budget::with_limit(call, "stdout", MAX_OUTPUT);
    body.split('\n')
        .map(|line| {
            budget.add(line.len())?;
            Ok(line.to_owned())
        })
        .collect()
}

fn sh_argv(command: String) -> Vec<String> {
    vec!["/bin/sh".to_owned(), "-c".to_owned(), command]
}

pub(super) fn command(
    d: &mut GuestDaemon,
    io: &mut dyn CallIo,
    args: calls::command::Args,
) -> Result<calls::command::Ret, ErrorReply> {
    run(d, io, "command", &args.arguments)
}

pub(super) fn command_lines(
    d: &mut GuestDaemon,
    io: &mut dyn CallIo,
    args: calls::command_lines::Args,
) -> Result<calls::command_lines::Ret, ErrorReply> {
    let out = run(d, io, "command_lines", &args.arguments)?;
    split_lines("command_lines", &out)
}

pub(super) fn sh(
    d: &mut GuestDaemon,
    io: &mut dyn CallIo,
    args: calls::sh::Args,
) -> Result<calls::sh::Ret, ErrorReply> {
    run(d, io, "sh", &sh_argv(args.command))
}

pub(super) fn sh_lines(
    d: &mut GuestDaemon,
    io: &mut dyn CallIo,
    args: calls::sh_lines::Args,
) -> Result<calls::sh_lines::Ret, ErrorReply> {
    let out = run(d, io, "sh_lines", &sh_argv(args.command))?;
    split_lines("sh_lines", &out)
}
