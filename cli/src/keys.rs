//! Asking for the key of an encrypted device no `--key` names, as
//! libguestfs's tools do (`options/keys.c`): on the terminal with echo
//! off, or one line of standard input each with `--keys-from-stdin`.
//! Without a terminal and without that option the answer is an error
//! saying which option to pass: reading standard input unasked would eat
//! the commands a script sends there.

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::os::fd::AsRawFd;

use libguest::KeyPrompt;

/// Where keys are asked for (`--keys-from-stdin`, `--echo-keys`).
#[derive(Debug, Clone, Copy, Default)]
pub struct KeyInput {
    pub from_stdin: bool,
    pub echo: bool,
}

impl KeyInput {
    pub fn prompt(self) -> KeyPrompt {
        Box::new(move |device| self.read_key(device))
    }

    fn read_key(self, device: &str) -> std::io::Result<Vec<u8>> {
        if self.from_stdin {
            let line = read_line(&mut std::io::stdin().lock())?;
            return line.ok_or_else(|| {
                std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    format!("standard input ended before the key for {device} (--keys-from-stdin reads one line per encrypted device)"),
                )
            });
        }
        let tty = File::options()
            .read(true)
            .write(true)
            .open("/dev/tty")
            .map_err(|e| {
                std::io::Error::new(
                    e.kind(),
                    format!("no terminal to ask on ({e}): pass --key {device}:key:PASSPHRASE, --key {device}:file:FILE or --keys-from-stdin"),
                )
            })?;
        write!(&tty, "Enter key or passphrase (\"{device}\"): ")?;
        let echo_off = if self.echo { None } else { EchoOff::set(&tty) };
        let line = read_line(&mut BufReader::new(&tty));
        if echo_off.is_some() {
            drop(echo_off);
            writeln!(&tty)?;
        }
        line?.ok_or_else(|| {
            std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                format!("no key typed for {device}"),
            )
        })
    }
}

/// One line without its newline; None at end of input. Bounded: a key
/// is short, and an endless line must not fill memory.
fn read_line(input: &mut impl BufRead) -> std::io::Result<Option<Vec<u8>>> {
    let mut line = Vec::new();
    let n = input.by_ref().take(64 << 10).read_until(b'\n', &mut line)?;
    if n == 0 {
        return Ok(None);
    }
    if line.last() == Some(&b'\n') {
        line.pop();
    }
    Ok(Some(line))
}

/// The terminal's echo, off until dropped.
struct EchoOff<'a> {
    tty: &'a File,
    saved: libc::termios,
}

impl<'a> EchoOff<'a> {
    fn set(tty: &'a File) -> Option<EchoOff<'a>> {
        // SAFETY: termios is plain data; tcgetattr fills it in.
        let mut saved: libc::termios = unsafe { std::mem::zeroed() };
        // SAFETY: a valid descriptor and a pointer to a live termios.
        if unsafe { libc::tcgetattr(tty.as_raw_fd(), &mut saved) } != 0 {
            return None;
        }
        let mut quiet = saved;
        quiet.c_lflag &= !libc::ECHO;
        // SAFETY: as above; quiet is a copy of what tcgetattr gave.
        if unsafe { libc::tcsetattr(tty.as_raw_fd(), libc::TCSAFLUSH, &quiet) } != 0 {
            return None;
        }
        Some(EchoOff { tty, saved })
    }
}

impl Drop for EchoOff<'_> {
    fn drop(&mut self) {
        // SAFETY: restores the settings tcgetattr read from this descriptor.
        unsafe { libc::tcsetattr(self.tty.as_raw_fd(), libc::TCSAFLUSH, &self.saved) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_lose_their_newline_and_end_at_eof() {
        let mut input: &[u8] = b"first\nsecond";
        assert_eq!(read_line(&mut input).unwrap().unwrap(), b"first");
        assert_eq!(read_line(&mut input).unwrap().unwrap(), b"second");
        assert!(read_line(&mut input).unwrap().is_none());
    }
}
