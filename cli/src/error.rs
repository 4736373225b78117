//! The CLI's error: a library error or a message, reported as one line
//! `libguest: <error>` (console tails only with -v).

use std::fmt;

pub type Result<T> = std::result::Result<T, CliError>;

#[derive(Debug)]
pub enum CliError {
    Lib(libguest::Error),
    Msg(String),
    /// Standard output was closed (a pager quit): nothing to report.
    Quiet,
    /// Where it happened ("script.txt:3"), then the error.
    Context(String, Box<CliError>),
}

impl CliError {
    pub fn msg(m: impl Into<String>) -> CliError {
        CliError::Msg(m.into())
    }

    pub fn context(self, at: String) -> CliError {
        CliError::Context(at, Box::new(self))
    }

    /// Prints the error: one line, except that -v adds the appliance
    /// console lines the library carries for boot failures.
    pub fn report(&self, verbose: bool) {
        if self.is_quiet() {
            return;
        }
        let (line, tail) = self.parts();
        match tail {
            Some(tail) if verbose => errln!("libguest: {line}\n{tail}"),
            Some(_) => errln!("libguest: {line} (run with -v to see the appliance console)"),
            None => errln!("libguest: {line}"),
        }
    }

    /// A closed standard output (a pager or `| head` quit).
    pub fn is_quiet(&self) -> bool {
        match self {
            CliError::Quiet => true,
            CliError::Context(_, inner) => inner.is_quiet(),
            CliError::Lib(libguest::Error::HostIo { source, .. }) => {
                source.kind() == std::io::ErrorKind::BrokenPipe
            }
            _ => false,
        }
    }

    /// The one-line message, and the console tail when there is one.
    pub fn parts(&self) -> (String, Option<&str>) {
        use libguest::Error as E;
        match self {
            CliError::Lib(E::GuestDied {
                reason,
                console_tail,
            }) => (
                format!("the appliance stopped unexpectedly ({reason})"),
                Some(console_tail),
            ),
            CliError::Lib(E::KernelPanic { console_tail }) => (
                "the appliance kernel panicked".to_string(),
                Some(console_tail),
            ),
            CliError::Lib(E::LaunchTimeout {
                seconds,
                console_tail,
            }) => (
                format!("the appliance did not become ready within {seconds} s (raise it with --timeout)"),
                Some(console_tail),
            ),
            CliError::Lib(E::ShutdownTimeout {
                seconds,
                console_tail,
            }) => (
                format!("the appliance did not power off within {seconds} s and was stopped"),
                Some(console_tail),
            ),
            CliError::Context(at, inner) => {
                let (line, tail) = inner.parts();
                (format!("{at}: {line}"), tail)
            }
            other => (one_line(&other.to_string()), None),
        }
    }
}

/// "ls: ls: expected…" and "inspect_os: inspect_os: …": the library
/// names the call and so did the message inside.
fn dedupe(text: &str) -> String {
    match text.split_once(": ") {
        Some((call, rest)) if rest.starts_with(&format!("{call}: ")) => rest.to_string(),
        _ => text.to_string(),
    }
}

/// A failed write to standard output.
pub fn output_error(e: std::io::Error) -> CliError {
    match e.kind() {
        std::io::ErrorKind::BrokenPipe => CliError::Quiet,
        _ => CliError::msg(format!("writing the output: {e}")),
    }
}

/// Joins a multi-line message (a daemon's, a tool's) into one line.
pub fn one_line(text: &str) -> String {
    let parts: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    parts.join("; ")
}

/// A clap error's message without its "error: " prefix and usage block.
pub fn clap_line(e: &clap::Error) -> String {
    let text = e.render().to_string();
    // The message runs to the first blank line (a list of missing
    // arguments included); the usage block after it is left out.
    let message: Vec<&str> = text
        .lines()
        .take_while(|l| !l.trim().is_empty())
        .map(str::trim)
        .collect();
    match message.join(" ").trim_start_matches("error: ") {
        "" => "invalid arguments".to_string(),
        m => m.to_string(),
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CliError::Lib(e) => f.write_str(&dedupe(&e.to_string())),
            CliError::Msg(m) => f.write_str(m),
            CliError::Quiet => f.write_str("standard output is closed"),
            CliError::Context(at, inner) => write!(f, "{at}: {inner}"),
        }
    }
}

impl From<libguest::Error> for CliError {
    fn from(e: libguest::Error) -> CliError {
        CliError::Lib(e)
    }
}

impl From<String> for CliError {
    fn from(m: String) -> CliError {
        CliError::Msg(m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn console_tails_stay_out_of_the_line() {
        let e = CliError::Lib(libguest::Error::GuestDied {
            reason: "triple fault".into(),
            console_tail: "line one\nline two".into(),
        });
        let (line, tail) = e.parts();
        assert_eq!(line, "the appliance stopped unexpectedly (triple fault)");
        assert_eq!(tail, Some("line one\nline two"));
        let e = CliError::Lib(libguest::Error::Guest {
            call: "inspect_os",
            errno: 0,
            message: "inspect_os: not implemented yet".into(),
        });
        assert_eq!(e.to_string(), "inspect_os: not implemented yet");
        let e = CliError::msg("a\n\n b ");
        assert_eq!(e.parts(), ("a; b".to_string(), None));
    }
}
