//! The options every virt-* tool takes as libguestfs's do (-a, --format,
//! -m, -v, -x, --key, --keys-from-stdin, --echo-keys, -d), and the
//! session they open: the options become a `libguest` command line, so
//! drives, formats, keys and mounts mean exactly what they mean there.

use std::ffi::OsString;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};

use clap::{ArgMatches, Args, CommandFactory, FromArgMatches, Parser};

use crate::error::{CliError, Result};
use crate::session::{Config, Session};

/// Why a tool stops: a usage or help message from clap (printed as the
/// `libguest` command line prints its own), or an error.
#[derive(Debug)]
pub enum Exit {
    Clap(clap::Error),
    Cli(CliError),
    /// Done, with this exit status (virt-alignment-scan's 2 and 3).
    Code(u8),
}

impl Exit {
    pub fn report(&self, verbose: bool) {
        if let Exit::Cli(e) = self {
            e.report(verbose);
        }
    }
}

impl From<CliError> for Exit {
    fn from(e: CliError) -> Exit {
        Exit::Cli(e)
    }
}

impl From<libguest::Error> for Exit {
    fn from(e: libguest::Error) -> Exit {
        Exit::Cli(e.into())
    }
}

pub type ToolResult = std::result::Result<(), Exit>;

static VERBOSE: AtomicBool = AtomicBool::new(false);

/// Whether the tool was given -v (errors then carry the console tail).
pub fn verbose_requested() -> bool {
    VERBOSE.load(Ordering::Relaxed)
}

/// The drive options: -a, --format, -d, and the appliance settings.
#[derive(Args, Debug, Default)]
pub struct Drives {
    /// Add a disk image (repeatable).
    #[arg(short = 'a', long = "add", value_name = "IMAGE")]
    pub drives: Vec<PathBuf>,
    /// Format of the -a images after this option (raw, qcow2; auto = detect).
    #[arg(long, value_name = "raw|qcow2|auto")]
    pub format: Vec<String>,
    /// A libvirt domain: not available, give its disk images with -a.
    #[arg(short = 'd', long = "domain", value_name = "GUEST")]
    pub domain: Option<String>,
    /// A libvirt URI (used only with -d).
    #[arg(short = 'c', long = "connect", value_name = "URI", hide = true)]
    pub connect: Option<String>,
    /// A key for an encrypted device: ID:key:KEY_STRING or ID:file:FILENAME (repeatable).
    #[arg(long = "key", value_name = "SELECTOR")]
    pub keys: Vec<String>,
    /// Read the keys of encrypted devices from standard input.
    #[arg(long = "keys-from-stdin")]
    pub keys_from_stdin: bool,
    /// Show keys as they are typed.
    #[arg(long = "echo-keys")]
    pub echo_keys: bool,
    #[command(flatten)]
    pub appliance: Appliance,
}

/// -v, -x and the appliance settings, which every tool takes.
#[derive(Args, Debug, Default)]
pub struct Appliance {
    /// Verbose: the appliance kernel's messages.
    #[arg(short = 'v', long = "verbose")]
    pub verbose: bool,
    /// Echo each command to stderr.
    #[arg(short = 'x')]
    pub echo: bool,
    /// Hypervisor: auto, kvm or tcg.
    #[arg(long, value_name = "auto|kvm|tcg", hide = true)]
    pub backend: Option<String>,
    /// Appliance kernel.
    #[arg(long, value_name = "VMLINUX", hide = true)]
    pub kernel: Option<PathBuf>,
    /// Appliance memory in MiB.
    #[arg(long, value_name = "MIB", hide = true)]
    pub memsize: Option<u64>,
    /// Seconds to wait for the appliance.
    #[arg(long, value_name = "SECONDS", hide = true)]
    pub timeout: Option<u64>,
}

/// `-m DEV[:MOUNTPOINT[:OPTIONS]]`, for the tools that take it.
#[derive(Args, Debug, Default)]
pub struct Mounts {
    /// Mount DEV on MOUNTPOINT (default /) instead of inspecting (repeatable).
    #[arg(short = 'm', long = "mount", value_name = "DEV[:MOUNTPOINT[:OPTIONS]]")]
    pub mounts: Vec<String>,
}

/// How a tool opens the disks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Open {
    /// Drives read-only, filesystems mounted read-only (-i unless -m).
    MountedRo,
    /// Drives writable, filesystems mounted read-write (-i unless -m).
    MountedRw,
    /// Drives read-only, nothing mounted (inspection, listings).
    UnmountedRo,
    /// Drives writable, nothing mounted (virt-format).
    UnmountedRw,
}

/// Parses a tool's arguments (after argv[0]) with clap, the tool's name
/// in usage and help.
pub fn parse<T: Parser>(
    name: &'static str,
    args: Vec<OsString>,
) -> std::result::Result<(T, ArgMatches), Exit> {
    let argv = std::iter::once(OsString::from(name)).chain(args);
    let matches = T::command()
        .name(name)
        .bin_name(name.to_string())
        .try_get_matches_from(argv)
        .map_err(Exit::Clap)?;
    let parsed = T::from_arg_matches(&matches).map_err(Exit::Clap)?;
    Ok((parsed, matches))
}

impl Drives {
    /// The `libguest` options these drive options and `mounts` stand for.
    pub fn cli_args(
        &self,
        matches: &ArgMatches,
        mounts: &[String],
        open: Open,
    ) -> Result<Vec<String>> {
        if let Some(domain) = &self.domain {
            return Err(CliError::msg(format!(
                "-d {domain}: libguest does not connect to libvirt; give the domain's disk images with -a IMAGE (virsh domblklist {domain} lists their paths)"
            )));
        }
        if self.drives.is_empty() {
            return Err(CliError::msg(
                "no disk image given: add one with -a IMAGE (repeatable)",
            ));
        }
        let mut args = self.appliance.cli_args();
        // -a and --format in their order: --format applies to the -a after it.
        let mut ordered: Vec<(usize, &str, String)> = Vec::new();
        let drive_at = matches.indices_of("drives").into_iter().flatten();
        for (at, path) in drive_at.zip(&self.drives) {
            let path = path.to_str().ok_or_else(|| {
                CliError::msg(format!(
                    "-a {}: the path is not UTF-8; rename the image",
                    path.display()
                ))
            })?;
            ordered.push((at, "-a", path.to_string()));
        }
        let format_at = matches.indices_of("format").into_iter().flatten();
        for (at, format) in format_at.zip(&self.format) {
            ordered.push((at, "--format", format.clone()));
        }
        ordered.sort_by_key(|(at, _, _)| *at);
        for (_, flag, value) in ordered {
            args.push(format!("{flag}={value}"));
        }
        if matches!(open, Open::MountedRo | Open::UnmountedRo) {
            args.push("--ro".into());
        }
        if matches!(open, Open::MountedRo | Open::MountedRw) {
            if mounts.is_empty() {
                args.push("-i".into());
            }
            for m in mounts {
                args.push(format!("--mount={m}"));
            }
        }
        for key in &self.keys {
            args.push(format!("--key={key}"));
        }
        let flags = [
            (self.keys_from_stdin, "--keys-from-stdin"),
            (self.echo_keys, "--echo-keys"),
        ];
        args.extend(
            flags
                .iter()
                .filter(|(on, _)| *on)
                .map(|(_, f)| f.to_string()),
        );
        Ok(args)
    }

    /// The session the options ask for, not launched yet.
    pub fn session(&self, matches: &ArgMatches, mounts: &[String], open: Open) -> Result<Session> {
        Session::new(config(&self.cli_args(matches, mounts, open)?)?)
    }
}

impl Appliance {
    /// `libguest` and the options for -v, -x and the appliance settings.
    pub fn cli_args(&self) -> Vec<String> {
        VERBOSE.store(self.verbose, Ordering::Relaxed);
        let mut args = vec!["libguest".to_string()];
        let flags = [(self.verbose, "-v"), (self.echo, "-x")];
        args.extend(
            flags
                .iter()
                .filter(|(on, _)| *on)
                .map(|(_, f)| f.to_string()),
        );
        if let Some(b) = &self.backend {
            args.push(format!("--backend={b}"));
        }
        if let Some(k) = &self.kernel {
            args.push(format!("--kernel={}", k.display()));
        }
        if let Some(m) = self.memsize {
            args.push(format!("--memsize={m}"));
        }
        if let Some(t) = self.timeout {
            args.push(format!("--timeout={t}"));
        }
        args
    }
}

/// The session configuration a `libguest` command line stands for.
pub fn config(args: &[String]) -> Result<Config> {
    let m = crate::Cli::command()
        .try_get_matches_from(args)
        .map_err(|e| CliError::msg(crate::error::clap_line(&e)))?;
    let cli = crate::Cli::from_arg_matches(&m).map_err(|e| CliError::msg(e.to_string()))?;
    crate::config(&cli, &m)
}

/// Runs `body` on the session, then shuts the appliance down (the
/// body's error first).
pub fn with_session(mut s: Session, body: impl FnOnce(&mut Session) -> Result<()>) -> Result<()> {
    let result = body(&mut s);
    let closed = s.close();
    result.and(closed)
}

/// Runs one CLI command by its words.
pub fn command(s: &mut Session, words: &[&str]) -> Result<()> {
    let words: Vec<String> = words.iter().map(|w| w.to_string()).collect();
    crate::registry::run(s, &words).map(|_| ())
}
