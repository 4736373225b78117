//! Every API call as a command (`ls /etc`, `tar-out /etc etc.tar
//! compress:gzip`), written once over [`protocol::Call`] and instantiated
//! for each call of the table (`registry.rs`). Streaming calls take a host
//! file, `-` for stdin / the output writer. Results and `-` downloads go
//! to the writer the caller passes: the CLI passes one that escapes guest
//! text on a terminal ([`crate::escape::TerminalEscaper`]).

use std::io::Write;

use libguest::{Error, Guest, Stream};
use protocol::{Call, CallInfo, CallKind};

use crate::commands::copy;
use crate::error::{CliError, Result};
use crate::print::Print;
use crate::session::Session;
use crate::windows;
use protocol::words::Words;

fn usage_error(call: &'static str, message: String) -> Error {
    Error::InvalidArgument { call, message }
}

fn host_error(call: &'static str, what: String, source: std::io::Error) -> Error {
    Error::HostIo { call, what, source }
}

/// The command's usage line, from the table: `tar-out directory HOSTFILE
/// [compress:Compression] …`.
pub fn usage(c: &CallInfo) -> String {
    let mut text = c.name.replace('_', "-");
    if c.kind == CallKind::FileIn {
        text.push_str(" HOSTFILE");
    }
    for a in c.args {
        text.push_str(&format!(" {}", a.name));
    }
    if c.kind == CallKind::FileOut {
        text.push_str(" HOSTFILE");
    }
    for o in c.opts {
        text.push_str(&format!(" [{}:{}]", o.name, protocol::tidy_type(o.ty)));
    }
    text
}

/// The command's description, from the table's docs.
pub fn help(c: &CallInfo) -> String {
    let mut text = format!("{}\n", c.doc.trim().replace('\n', "\n  "));
    if matches!(c.kind, CallKind::FileIn | CallKind::FileOut) {
        text.push_str("\n  HOSTFILE is a file on this machine; - means standard input/output.\n");
    }
    if c.needs_root {
        text.push_str("\n  Needs a filesystem mounted on / (mount, or -i).\n");
    }
    text
}

/// The words of call `C`'s command, checked for count and names.
fn words<'a, C: Call>(words: &'a [String]) -> std::result::Result<Words<'a>, String> {
    let names: Vec<&str> = C::INFO.args.iter().map(|a| a.name).collect();
    let opts: Vec<&str> = C::INFO.opts.iter().map(|a| a.name).collect();
    let host = matches!(C::INFO.kind, CallKind::FileIn | CallKind::FileOut).then_some("HOSTFILE");
    Words::new(C::META.name, words, &names, &opts, host)
}

/// Runs API command `C` in the session: usage errors before the
/// appliance is launched for them; upload, download, tar-in and tar-out
/// with a progress bar where one shows.
pub fn run<C: Call>(s: &mut Session, args: &[String]) -> Result<()>
where
    C::Ret: Print,
{
    check_usage::<C>(args)?;
    let name = C::META.name.replace('_', "-");
    if matches!(name.as_str(), "upload" | "download" | "tar-in" | "tar-out")
        && copy::shows_progress(s, &name, args)
    {
        return copy::streamed(s, &name, args);
    }
    // Host calls configure or probe without an appliance.
    let g = match C::INFO.kind {
        CallKind::Host => s.handle(),
        _ => s.guest()?,
    };
    let mut args = args.to_vec();
    for at in win_paths::<C>(&args) {
        args[at] = windows::resolve(g, &args[at])?;
    }
    let mut out = crate::terminal::stdout();
    Ok(call::<C>(g, &args, &mut out)?)
}

/// The positions of the words that are `win:` paths given for `Pathname`
/// arguments (the host file of upload and tar-in comes first).
fn win_paths<C: Call>(words: &[String]) -> Vec<usize> {
    let first = usize::from(C::INFO.kind == CallKind::FileIn);
    C::INFO
        .args
        .iter()
        .enumerate()
        .filter(|(_, arg)| arg.ty == "Pathname")
        .map(|(i, _)| first + i)
        .filter(|&at| words.get(at).is_some_and(|w| windows::is_win_path(w)))
        .collect()
}

/// Argument count, optional argument names and, for plain calls, the
/// argument values, checked without an appliance.
fn check_usage<C: Call>(args: &[String]) -> Result<()> {
    let name = C::META.name.replace('_', "-");
    // A `win:` path is only checked once it is resolved in the guest.
    let mut args = args.to_vec();
    for at in win_paths::<C>(&args) {
        args[at] = "/".into();
    }
    let mut w = words::<C>(&args).map_err(|m| CliError::Msg(format!("{name}: {m}")))?;
    if matches!(C::INFO.kind, CallKind::Plain | CallKind::Host) {
        C::read_args(&mut w).map_err(|m| usage_error(C::META.name, m))?;
    }
    Ok(())
}

/// Runs API command `C` with its words on `g`; output goes to `out`.
/// Wrong arguments are `Error::InvalidArgument` with the usage.
pub fn call<C: Call>(g: &mut Guest, args: &[String], out: &mut dyn Write) -> libguest::Result<()>
where
    C::Ret: Print,
{
    let name = C::META.name;
    let usage = |m| usage_error(name, m);
    let mut w = words::<C>(args).map_err(usage)?;
    let ret = match C::INFO.kind {
        CallKind::Plain | CallKind::Host => {
            let args = C::read_args(&mut w).map_err(usage)?;
            g.call::<C>(&args, Stream::None)?
        }
        CallKind::FileIn => {
            let host: String = w.next("HOSTFILE").map_err(usage)?;
            let args = C::read_args(&mut w).map_err(usage)?;
            let mut source = open_source(name, &host)?;
            g.call::<C>(&args, Stream::In(&mut source))?
        }
        CallKind::FileOut => {
            let args = C::read_args(&mut w).map_err(usage)?;
            let host: String = w.next("HOSTFILE").map_err(usage)?;
            // `-` is the caller's output, as every other command's result.
            let mut sink: Box<dyn Write + '_> = match host.as_str() {
                "-" => Box::new(&mut *out),
                _ => open_sink(name, &host)?,
            };
            let ret = g.call::<C>(&args, Stream::Out(&mut sink))?;
            sink.flush()
                .map_err(|e| host_error(name, format!("writing {host}"), e))?;
            ret
        }
    };
    ret.print_as(out, crate::print::Base::of(name))
        .map_err(|e| host_error(name, "writing the output".into(), e))
}

fn open_source(call: &'static str, path: &str) -> libguest::Result<Box<dyn std::io::Read>> {
    if path == "-" {
        return Ok(Box::new(std::io::stdin().lock()));
    }
    std::fs::File::open(path)
        .map(|f| Box::new(f) as Box<dyn std::io::Read>)
        .map_err(|e| host_error(call, format!("cannot open {path}"), e))
}

fn open_sink(call: &'static str, path: &str) -> libguest::Result<Box<dyn Write>> {
    // Never through a symlink to a regular file (it may come from the guest).
    libguest::transfer::create_output(std::path::Path::new(path))
        .map(|f| Box::new(std::io::BufWriter::with_capacity(1 << 20, f)) as Box<dyn Write>)
        .map_err(|e| host_error(call, format!("cannot create {path}"), e))
}

#[cfg(test)]
mod tests;
