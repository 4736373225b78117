//! guestfish's syntax around one script or shell line:
//!
//! - `!CMD` runs CMD in the host shell (`/bin/sh -c`); a non-zero exit
//!   status is an error, as it stops a guestfish script;
//! - `<!CMD` runs CMD and runs each line it prints as a command;
//! - a leading `-` reports the command's error and goes on;
//! - `COMMAND | PIPELINE` sends the command's standard output to a host
//!   pipeline. A pipeline that stops reading early (`| head`) is not an
//!   error unless `--pipe-error` was given, as in guestfish.
//!
//! These run host commands the user typed, never text from the guest:
//! `<!` output is the user's own program's.

use std::io::Write;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::process::{Command, Stdio};

use crate::error::{CliError, Result};
use crate::registry::{self, Flow};
use crate::session::Session;
use crate::split;

/// What one line asks for, once the guestfish prefixes are taken off.
#[derive(Debug, PartialEq, Eq)]
pub enum Line<'a> {
    /// `!CMD`.
    Host(&'a str),
    /// `<!CMD`.
    HostCommands(&'a str),
    /// A command, with the pipeline after its first unquoted ` |`.
    Command {
        text: &'a str,
        pipeline: Option<&'a str>,
    },
}

/// Splits off `-` (true: ignore the error) and the line's kind.
pub fn parse(line: &str) -> (bool, Line<'_>) {
    let line = line.trim();
    let (ignore_error, rest) = match line.strip_prefix('-') {
        Some(rest) => (true, rest.trim_start()),
        None => (false, line),
    };
    let kind = if let Some(cmd) = rest.strip_prefix("<!") {
        Line::HostCommands(cmd)
    } else if let Some(cmd) = rest.strip_prefix('!') {
        Line::Host(cmd)
    } else {
        match pipe_at(rest) {
            Some(at) => Line::Command {
                text: rest[..at].trim_end(),
                pipeline: Some(rest[at + 1..].trim()),
            },
            None => Line::Command {
                text: rest,
                pipeline: None,
            },
        }
    };
    (ignore_error, kind)
}

/// The byte offset of the first `|` outside quotes that begins a word
/// (guestfish reads `a|b` as one word).
fn pipe_at(line: &str) -> Option<usize> {
    let mut quote = None;
    let mut escaped = false;
    let mut word_start = true;
    for (at, c) in line.char_indices() {
        if escaped {
            escaped = false;
            word_start = false;
            continue;
        }
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some('"'), '\\') => escaped = true,
            (Some(_), _) => {}
            (None, '\\') => escaped = true,
            (None, '\'' | '"') => quote = Some(c),
            (None, '|') if word_start => return Some(at),
            _ => {}
        }
        word_start = quote.is_none() && c.is_whitespace();
    }
    None
}

/// Runs one line of a script or of the shell.
pub fn run_line(session: &mut Session, line: &str) -> Result<Flow> {
    let (ignore_error, kind) = parse(line);
    let result = match kind {
        Line::Host(cmd) => host(cmd).map(|()| Flow::Continue),
        Line::HostCommands(cmd) => host_commands(session, cmd),
        Line::Command { text, pipeline } => {
            let words = split::split(text).map_err(CliError::msg)?;
            match pipeline {
                None => registry::run(session, &words),
                Some(pipeline) => piped(session, &words, pipeline),
            }
        }
    };
    match result {
        Err(e) if ignore_error => {
            e.report(session.config.verbose);
            Ok(Flow::Continue)
        }
        other => other,
    }
}

fn shell(cmd: &str) -> Command {
    let mut command = Command::new("/bin/sh");
    command.arg("-c").arg(cmd);
    command
}

fn exit_error(cmd: &str, status: std::process::ExitStatus) -> CliError {
    CliError::msg(format!("the host command {cmd:?} failed: {status}"))
}

fn spawn_error(cmd: &str, e: std::io::Error) -> CliError {
    CliError::msg(format!(
        "cannot run the host command {cmd:?} with /bin/sh: {e}"
    ))
}

fn flush_stdout() -> Result<()> {
    std::io::stdout()
        .flush()
        .map_err(crate::error::output_error)
}

/// `!CMD`.
fn host(cmd: &str) -> Result<()> {
    flush_stdout()?;
    let status = shell(cmd).status().map_err(|e| spawn_error(cmd, e))?;
    match status.success() {
        true => Ok(()),
        false => Err(exit_error(cmd, status)),
    }
}

/// `<!CMD`: its output's lines are commands; the first error stops them.
fn host_commands(session: &mut Session, cmd: &str) -> Result<Flow> {
    flush_stdout()?;
    let output = shell(cmd)
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| spawn_error(cmd, e))?;
    if !output.status.success() {
        return Err(exit_error(cmd, output.status));
    }
    let text = String::from_utf8(output.stdout)
        .map_err(|_| CliError::msg(format!("the output of {cmd:?} is not UTF-8 text")))?;
    for line in text.lines() {
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        if run_line(session, trimmed)? == Flow::Quit {
            return Ok(Flow::Quit);
        }
    }
    Ok(Flow::Continue)
}

/// Standard output (fd 1) pointed at another file until dropped; what is
/// still buffered is written there first, and what the pipeline did not
/// take is dropped rather than shown on the real output afterwards.
struct Redirect {
    saved: OwnedFd,
}

impl Redirect {
    fn to(target: &impl AsRawFd) -> Result<Redirect> {
        flush_stdout()?;
        let saved = std::io::stdout()
            .as_fd()
            .try_clone_to_owned()
            .map_err(|e| CliError::msg(format!("cannot duplicate standard output: {e}")))?;
        crate::terminal::replace_std_stream(target.as_raw_fd(), 1)?;
        crate::terminal::set_piped(true);
        Ok(Redirect { saved })
    }
}

impl Drop for Redirect {
    fn drop(&mut self) {
        // Leftovers the pipeline refused go to /dev/null, not to the terminal.
        if let Ok(null) = std::fs::OpenOptions::new().write(true).open("/dev/null") {
            let _ = crate::terminal::replace_std_stream(null.as_raw_fd(), 1);
            let _ = std::io::stdout().flush();
        }
        let _ = crate::terminal::replace_std_stream(self.saved.as_raw_fd(), 1);
        crate::terminal::set_piped(false);
    }
}

/// `COMMAND | PIPELINE`.
fn piped(session: &mut Session, words: &[String], pipeline: &str) -> Result<Flow> {
    if pipeline.is_empty() {
        return Err(CliError::msg(
            "nothing after '|': give a host command to pipe the output to",
        ));
    }
    flush_stdout()?;
    let mut child = shell(pipeline)
        .stdin(Stdio::piped())
        .spawn()
        .map_err(|e| spawn_error(pipeline, e))?;
    let result = match &child.stdin {
        Some(stdin) => {
            let redirect = Redirect::to(stdin);
            redirect.and_then(|redirect| {
                let flow = registry::run(session, words);
                let flushed = flush_stdout();
                drop(redirect);
                flow.and_then(|flow| flushed.map(|()| flow))
            })
        }
        None => Err(CliError::msg("the pipeline has no standard input")),
    };
    drop(child.stdin.take());
    let status = child.wait().map_err(|e| spawn_error(pipeline, e))?;
    let pipe_error = session.config.pipe_error;
    match result {
        // The pipeline stopped reading: its business unless --pipe-error.
        Err(e) if e.is_quiet() && !pipe_error => Ok(Flow::Continue),
        Err(e) if e.is_quiet() => Err(CliError::msg(format!(
            "the pipeline {pipeline:?} stopped reading the output (--pipe-error)"
        ))),
        Ok(_) if pipe_error && !status.success() => Err(exit_error(pipeline, status)),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn command<'a>(text: &'a str, pipeline: Option<&'a str>) -> Line<'a> {
        Line::Command { text, pipeline }
    }

    #[test]
    fn prefixes_and_pipes() {
        assert_eq!(parse("!ls -l"), (false, Line::Host("ls -l")));
        assert_eq!(
            parse("<!echo ls /"),
            (false, Line::HostCommands("echo ls /"))
        );
        assert_eq!(parse("-rm /x"), (true, command("rm /x", None)));
        assert_eq!(parse("- !false"), (true, Line::Host("false")));
        assert_eq!(
            parse("cat /etc/passwd | grep root | wc -l"),
            (false, command("cat /etc/passwd", Some("grep root | wc -l")))
        );
        assert_eq!(parse("ls /|x"), (false, command("ls /|x", None)));
        assert_eq!(
            parse("echo 'a | b'"),
            (false, command("echo 'a | b'", None))
        );
        assert_eq!(
            parse(r#"echo "a \" | b""#).1,
            command(r#"echo "a \" | b""#, None)
        );
        assert_eq!(parse(r"echo a\ |b"), (false, command(r"echo a\ |b", None)));
        assert_eq!(parse("echo x |"), (false, command("echo x", Some(""))));
    }
}
