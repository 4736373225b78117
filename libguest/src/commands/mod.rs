//! Every API call as a command (`ls /etc`, `tar-out /etc etc.tar
//! compress:gzip`), generated from the API table: what the `libguest`
//! CLI and its shell run. Streaming calls take a host file, `-` for
//! stdin / the output writer. Results and `-` downloads go to the writer
//! the caller passes: the CLI passes one that escapes guest text on a
//! terminal ([`TerminalEscaper`]).

mod escape;
mod print;
mod words;

use std::io::Write;

use protocol::calls;
#[allow(unused_imports)]
use protocol::types::*;
use protocol::{CallInfo, CALLS};

use crate::connection::Stream;
use crate::error::{Error, Result};
use crate::guest::Guest;
pub use escape::{escape_for_terminal, needs_escape, TerminalEscaper};
pub use print::Print;
pub use words::{FromWord, Words};

fn usage_error(call: &'static str, message: String) -> Error {
    Error::InvalidArgument { call, message }
}

fn host_error(call: &'static str, what: String, source: std::io::Error) -> Error {
    Error::HostIo { call, what, source }
}

/// The API calls a user can run as commands (internal ones are hidden).
pub fn commands() -> impl Iterator<Item = &'static CallInfo> {
    CALLS.iter().filter(|c| !c.internal)
}

/// The command's help text, from the table's docs.
pub fn help(name: &str) -> Option<String> {
    let c = CallInfo::find(name).filter(|c| !c.internal)?;
    let mut text = c.name.replace('_', "-");
    match c.kind {
        protocol::CallKind::FileIn => text.push_str(" HOSTFILE"),
        protocol::CallKind::Plain | protocol::CallKind::FileOut => {}
    }
    for a in c.args {
        text.push_str(&format!(" {}", a.name));
    }
    if c.kind == protocol::CallKind::FileOut {
        text.push_str(" HOSTFILE");
    }
    for o in c.opts {
        text.push_str(&format!(" [{}:{}]", o.name, protocol::tidy_type(o.ty)));
    }
    text.push_str(&format!("\n\n  {}\n", c.doc.trim().replace('\n', "\n  ")));
    if c.kind != protocol::CallKind::Plain {
        text.push_str("\n  HOSTFILE is a file on this machine; - means standard input/output.\n");
    }
    if c.needs_root {
        text.push_str("\n  Needs a filesystem mounted on / (mount, or -i).\n");
    }
    Some(text)
}

fn open_source(call: &'static str, path: &str) -> Result<Box<dyn std::io::Read>> {
    if path == "-" {
        return Ok(Box::new(std::io::stdin().lock()));
    }
    std::fs::File::open(path)
        .map(|f| Box::new(f) as Box<dyn std::io::Read>)
        .map_err(|e| host_error(call, format!("cannot open {path}"), e))
}

fn open_sink(call: &'static str, path: &str) -> Result<Box<dyn Write>> {
    // Never through a symlink to a regular file (it may come from the guest).
    crate::transfer::create_output(std::path::Path::new(path))
        .map(|f| Box::new(std::io::BufWriter::with_capacity(1 << 20, f)) as Box<dyn Write>)
        .map_err(|e| host_error(call, format!("cannot create {path}"), e))
}

macro_rules! run_call {
    (call, $g:ident, $w:ident, $out:ident, $name:ident, ($($arg:ident: $aty:ty),*), ($($opt:ident: $oty:ty),*)) => {{
        let args = calls::$name::Args {
            $($arg: $w.next::<$aty>(stringify!($arg)).map_err(|m| usage_error(calls::$name::NAME, m))?,)*
            $($opt: $w.opt::<$oty>(stringify!($opt)).map_err(|m| usage_error(calls::$name::NAME, m))?,)*
        };
        let ret: calls::$name::Ret = $g.call(calls::$name::META, &args, Stream::None)?;
        ret.print($out).map_err(|e| host_error(calls::$name::NAME, "writing the output".into(), e))
    }};
    (file_in, $g:ident, $w:ident, $out:ident, $name:ident, ($($arg:ident: $aty:ty),*), ($($opt:ident: $oty:ty),*)) => {{
        let host: String = $w.next("HOSTFILE").map_err(|m| usage_error(calls::$name::NAME, m))?;
        let args = calls::$name::Args {
            $($arg: $w.next::<$aty>(stringify!($arg)).map_err(|m| usage_error(calls::$name::NAME, m))?,)*
            $($opt: $w.opt::<$oty>(stringify!($opt)).map_err(|m| usage_error(calls::$name::NAME, m))?,)*
        };
        let mut source = open_source(calls::$name::NAME, &host)?;
        let () = $g.call(calls::$name::META, &args, Stream::In(&mut source))?;
        Ok(())
    }};
    (file_out, $g:ident, $w:ident, $out:ident, $name:ident, ($($arg:ident: $aty:ty),*), ($($opt:ident: $oty:ty),*)) => {{
        let args = calls::$name::Args {
            $($arg: $w.next::<$aty>(stringify!($arg)).map_err(|m| usage_error(calls::$name::NAME, m))?,)*
            $($opt: $w.opt::<$oty>(stringify!($opt)).map_err(|m| usage_error(calls::$name::NAME, m))?,)*
        };
        let host: String = $w.next("HOSTFILE").map_err(|m| usage_error(calls::$name::NAME, m))?;
        // `-` is the caller's output, as every other command's result.
        let mut sink: Box<dyn Write + '_> = match host.as_str() {
            "-" => Box::new(&mut *$out),
            _ => open_sink(calls::$name::NAME, &host)?,
        };
        let () = $g.call(calls::$name::META, &args, Stream::Out(&mut sink))?;
        sink.flush().map_err(|e| host_error(calls::$name::NAME, format!("writing {host}"), e))
    }};
}

macro_rules! command_dispatch {
    ($(
        $(#[doc = $doc:literal])*
        $proc:literal $kind:ident $name:ident ( $($arg:ident : $aty:ty),* )
        [ $($opt:ident : $oty:ty),* ] -> $ret:ty [ $($flag:ident),* ];
    )*) => {
        /// Runs API command `name` (with `-` or `_`) with its words;
        /// output goes to `out`. Unknown commands and wrong arguments are
        /// `Error::InvalidArgument` with the usage.
        pub fn run(g: &mut Guest, name: &str, words: &[String], out: &mut dyn Write) -> Result<()> {
            let name = name.replace('-', "_");
            match CallInfo::find(&name) {
                Some(info) if !info.internal => {}
                _ => return Err(Error::InvalidArgument {
                    call: "command",
                    message: format!("unknown command {name:?} (try 'help')"),
                }),
            }
            match name.as_str() {
                $(stringify!($name) => {
                    let is_stream = stringify!($kind) != "call";
                    let mut w = Words::new(
                        calls::$name::NAME,
                        words,
                        &[$(stringify!($arg)),*],
                        &[$(stringify!($opt)),*],
                        is_stream.then_some("HOSTFILE"),
                    ).map_err(|m| usage_error(calls::$name::NAME, m))?;
                    let _ = &mut w;
                    run_call!($kind, g, w, out, $name, ($($arg: $aty),*), ($($opt: $oty),*))
                })*
                _ => Err(Error::InvalidArgument {
                    call: "command",
                    message: format!("unknown command {name:?} (try 'help')"),
                }),
            }
        }
    };
}

protocol::for_each_call!(command_dispatch);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_visible_call_has_help() {
        for c in commands() {
            let text = help(c.name).unwrap();
            assert!(text.contains(c.summary()), "{text}");
        }
        assert!(help("internal_poweroff").is_none());
        assert!(help("tar-out")
            .unwrap()
            .starts_with("tar-out directory HOSTFILE [compress:Compression"));
    }

    #[test]
    fn unknown_commands_and_bad_counts_fail_before_launch_checks() {
        let mut g = Guest::new().unwrap();
        let mut out = Vec::new();
        let err = run(&mut g, "frobnicate", &[], &mut out).unwrap_err();
        assert!(err.to_string().contains("unknown command"), "{err}");
        let err = run(&mut g, "ls", &[], &mut out).unwrap_err();
        assert!(err.to_string().contains("usage: ls directory"), "{err}");
        // Arguments are fine; the handle is not launched.
        let err = run(&mut g, "ls", &["/".into()], &mut out).unwrap_err();
        assert!(matches!(err, Error::State { .. }), "{err}");
    }
}
