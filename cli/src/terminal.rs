//! Where the CLI's text goes: standard output and standard error, escaped
//! when they are terminals, byte-exact when they are pipes or files.
//!
//! Security rule: every line the CLI prints passes here (`outln!`,
//! `errln!`, command results, `-` downloads, error reports, the console
//! with -v), so text a guest chose (file names, inspection fields, the
//! paths quoted in daemon errors, file contents) cannot drive the user's
//! terminal. What is escaped, and why: [`crate::escape::TerminalEscaper`].
//! Progress bars and the shell's line editor write their own control
//! sequences; the text they show is ours or escaped before it reaches them.

use std::io::{self, IsTerminal, Write};
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::OnceLock;

use crate::escape::{escape_for_terminal, TerminalEscaper};

/// A standard stream, raw or escaped.
pub enum Output<W: Write> {
    Raw(W),
    Escaped(TerminalEscaper<W>),
}

impl<W: Write> Write for Output<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Output::Raw(w) => w.write(buf),
            Output::Escaped(w) => w.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Output::Raw(w) => w.flush(),
            Output::Escaped(w) => w.flush(),
        }
    }
}

fn wrap<W: Write>(w: W, terminal: bool) -> Output<W> {
    match terminal {
        true => Output::Escaped(TerminalEscaper::new(w)),
        false => Output::Raw(w),
    }
}

/// Standard output goes to a `| pipeline` for now (see [`crate::fish`]):
/// the bytes as they are, whatever the real output is.
static PIPED: AtomicBool = AtomicBool::new(false);

pub fn set_piped(piped: bool) {
    PIPED.store(piped, Ordering::Relaxed);
}

/// While a `--remote` request runs, the client's streams stand in for
/// ours (see [`crate::remote`]): whether they are terminals. Bit 0: set,
/// bit 1: stdout, bit 2: stderr.
static CLIENT: AtomicU8 = AtomicU8::new(0);

pub fn set_client_terminals(terminals: Option<(bool, bool)>) {
    let bits = match terminals {
        Some((out, err)) => 1 | u8::from(out) << 1 | u8::from(err) << 2,
        None => 0,
    };
    CLIENT.store(bits, Ordering::Relaxed);
}

fn client_terminal(bit: u8) -> Option<bool> {
    let bits = CLIENT.load(Ordering::Relaxed);
    (bits & 1 != 0).then_some(bits & bit != 0)
}

fn stdout_is_terminal() -> bool {
    static TERMINAL: OnceLock<bool> = OnceLock::new();
    !PIPED.load(Ordering::Relaxed)
        && client_terminal(2)
            .unwrap_or_else(|| *TERMINAL.get_or_init(|| io::stdout().is_terminal()))
}

fn stderr_is_terminal() -> bool {
    static TERMINAL: OnceLock<bool> = OnceLock::new();
    client_terminal(4).unwrap_or_else(|| *TERMINAL.get_or_init(|| io::stderr().is_terminal()))
}

/// Puts descriptor `from` in place of standard stream `to` (0, 1 or 2):
/// for `| pipeline` and `--remote` requests, which swap them for the
/// length of one command.
pub fn replace_std_stream(from: i32, to: i32) -> crate::error::Result<()> {
    debug_assert!((0..=2).contains(&to));
    // SAFETY: dup2 takes two descriptor numbers and touches no memory;
    // `from` is held open by the caller for the call, `to` is a standard
    // stream that std's handles go on using by number.
    match unsafe { libc::dup2(from, to) } {
        -1 => Err(crate::error::CliError::msg(format!(
            "cannot redirect standard stream {to}: {}",
            io::Error::last_os_error()
        ))),
        _ => Ok(()),
    }
}

pub fn stdout() -> Output<io::Stdout> {
    wrap(io::stdout(), stdout_is_terminal())
}

pub fn stderr() -> Output<io::Stderr> {
    wrap(io::stderr(), stderr_is_terminal())
}

/// `text` as standard error shows it (for labels drawn by others, such
/// as progress bars on standard error).
pub fn for_stderr(text: &str) -> String {
    match stderr_is_terminal() {
        true => escape_for_terminal(text.as_bytes()),
        false => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminals_get_escapes_and_pipes_get_the_bytes() {
        let name = "guest\x1b]0;title\x07\u{9b}file\n";
        let mut piped = Vec::new();
        wrap(&mut piped, false).write_all(name.as_bytes()).unwrap();
        assert_eq!(piped, name.as_bytes());
        let mut shown = Vec::new();
        wrap(&mut shown, true).write_all(name.as_bytes()).unwrap();
        assert_eq!(
            String::from_utf8(shown).unwrap(),
            "guest\\u001b]0;title\\u0007\\u009bfile\n"
        );
    }
}
