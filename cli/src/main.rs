//! The `libguest` command line, guestfish style:
//!
//! ```text
//! libguest [-a IMAGE]... [--format raw|qcow2|auto] [--ro] [-i | -m DEV[:MP[:OPTS]]]...
//!          [-v] [-x] [--backend auto|kvm|tcg] [-f SCRIPT] [COMMAND [ARGS] [: COMMAND [ARGS]]...]
//! ```
//!
//! Commands come from the command line (separated by `:` words), from a
//! script (`-f`), from standard input when it is not a terminal, or from
//! an interactive shell. The appliance is launched before the first
//! command that needs it, once. `libguest launch`, `libguest version` and
//! `libguest build-kernel` keep their scripted behaviour.

/// `println!` that returns an error instead of panicking (a closed pipe
/// in `libguest help | head` ends the command quietly), through
/// [`terminal`]: escaped on a terminal.
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        writeln!(crate::terminal::stdout(), $($arg)*).map_err(crate::error::output_error)?
    }};
}

/// `eprintln!` through [`terminal`] (escaped on a terminal); a failed
/// write to standard error has no one left to tell.
macro_rules! errln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(crate::terminal::stderr(), $($arg)*);
    }};
}

/// `eprint!` through [`terminal`].
macro_rules! errprint {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = write!(crate::terminal::stderr(), $($arg)*);
    }};
}

mod api;
mod commands;
mod complete;
mod error;
mod escape;
mod fish;
mod interrupt;
mod keys;
mod mount;
mod prepared;
mod print;
mod progress;
mod registry;
mod remote;
mod session;
mod shell;
mod split;
mod terminal;
mod virt;
mod windows;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{ArgMatches, CommandFactory, FromArgMatches, Parser};
use libguest::{Backend, DriveFormat, DriveOptions};

use error::{CliError, Result};
use mount::MountSpec;
use prepared::Prepared;
use session::{Config, Session};

#[derive(Parser)]
#[command(
    name = "libguest",
    version,
    about = "Inspect and edit virtual machine disk images",
    after_help = "Commands are separated by ':' words, e.g.\n  libguest --ro -a disk.img -i cat /etc/hostname : ls /etc\nWith no command: a shell on a terminal, else commands from standard input.\n'libguest help' lists the commands; 'libguest help CMD' describes one."
)]
struct Cli {
    /// Add a disk image (repeatable; /dev/sda, /dev/sdb… in order).
    #[arg(short = 'a', long = "add", value_name = "IMAGE")]
    drives: Vec<PathBuf>,
    /// A new prepared disk (sparse raw, test1.img… unless named), laid out after launch: disk, part, fs, lv, lvfs, bootroot, bootrootlv with ':' parameters, as guestfish's -N; -N help lists them.
    #[arg(short = 'N', long = "new", value_name = "[FILENAME=]TYPE[:PARAM...]")]
    prepared: Vec<String>,
    /// Format of the drives added AFTER this option (raw, qcow2; auto = detect, the default).
    #[arg(long, value_name = "raw|qcow2|auto")]
    format: Vec<String>,
    /// Add every drive read-only (and mount read-only with -i / -m).
    #[arg(long)]
    ro: bool,
    /// Add drives and mount read-write (the default; given for guestfish scripts, refused with --ro).
    #[arg(short = 'w', long = "rw")]
    rw: bool,
    /// Start a server holding this session and print GUESTFISH_PID=…; later `libguest --remote CMD` runs commands in it (guestfish's --listen).
    #[arg(long)]
    listen: bool,
    /// Run the commands (or standard input's lines) in the --listen server PID, default $GUESTFISH_PID.
    #[arg(long, value_name = "PID", num_args = 0..=1, require_equals = true)]
    remote: Option<Option<u32>>,
    /// Make a failed write to a `| pipeline` (one that stopped reading, as `| head` does) or its non-zero exit an error.
    #[arg(long = "pipe-error")]
    pipe_error: bool,
    /// Inspect the disks and mount the operating system's filesystems.
    #[arg(short = 'i', long = "inspector")]
    inspector: bool,
    /// Mount DEV on MOUNTPOINT (default /) with mount OPTIONS (repeatable).
    #[arg(short = 'm', long = "mount", value_name = "DEV[:MOUNTPOINT[:OPTIONS]]")]
    mounts: Vec<String>,
    /// A key for encrypted devices, tried by -i and inspection: ID:key:KEY_STRING or ID:file:FILENAME, ID being a device (/dev/sda2), a LUKS UUID or all (repeatable).
    #[arg(long = "key", value_name = "SELECTOR")]
    keys: Vec<String>,
    /// Read the key of each encrypted device no --key names from standard input, one line each.
    #[arg(long = "keys-from-stdin")]
    keys_from_stdin: bool,
    /// Show keys as they are typed at the prompt.
    #[arg(long = "echo-keys")]
    echo_keys: bool,
    /// Verbose: the appliance kernel's messages, and console lines in errors.
    #[arg(short, long)]
    verbose: bool,
    /// Echo each command to stderr before running it.
    #[arg(short = 'x')]
    echo: bool,
    /// No progress bars for long copies (they show only on a terminal anyway).
    #[arg(long = "no-progress-bars")]
    no_progress_bars: bool,
    /// Read commands from SCRIPT (one per line, # comments; - is stdin).
    #[arg(short = 'f', long = "file", value_name = "SCRIPT")]
    script: Option<PathBuf>,
    /// Hypervisor: auto (KVM if it can run Linux, else qemu TCG), kvm or tcg.
    #[arg(long, value_name = "auto|kvm|tcg")]
    backend: Option<Backend>,
    /// Appliance kernel (default: LIBGUEST_KERNEL or the cached build).
    #[arg(long, value_name = "VMLINUX")]
    kernel: Option<PathBuf>,
    /// Appliance memory in MiB.
    #[arg(long = "memsize", default_value_t = 512)]
    memsize: u64,
    /// Seconds to wait for the appliance to become ready.
    #[arg(long, default_value_t = 60)]
    timeout: u64,
    /// The commands and their arguments.
    #[arg(trailing_var_arg = true)]
    command: Vec<String>,
}

fn main() -> ExitCode {
    // The tools install the SIGINT thread themselves (the mount tools
    // fork first).
    if let Some(code) = virt::dispatch_argv0() {
        return code;
    }
    interrupt::install();
    let matches = match Cli::command().try_get_matches() {
        Ok(m) => m,
        Err(e) => return clap_exit(e),
    };
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(c) => c,
        Err(e) => return clap_exit(e),
    };
    let verbose = cli.verbose;
    match run(cli, &matches) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            e.report(verbose);
            ExitCode::FAILURE
        }
    }
}

/// Help and version go to stdout as clap prints them; usage errors are
/// one line like every other error.
fn clap_exit(e: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    match e.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
            let _ = e.print();
            ExitCode::SUCCESS
        }
        _ => {
            errln!("libguest: {} (try --help)", error::clap_line(&e));
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli, matches: &ArgMatches) -> Result<()> {
    let words: Vec<&str> = cli.command.iter().map(String::as_str).collect();
    // Commands that need no drives and no appliance.
    match words.as_slice() {
        ["version"] if cli.drives.is_empty() => {
            outln!("libguest {}", env!("CARGO_PKG_VERSION"));
            return Ok(());
        }
        ["build-kernel"] => return build_kernel("appliance"),
        _ if cli.prepared.iter().any(|p| p == "help" || p == "list") => {
            outln!("{}", prepared::help().trim_end());
            return Ok(());
        }
        ["build-kernel", kind] => return build_kernel(kind),
        _ => {}
    }
    if let Some(pid) = cli.remote {
        return match remote::client(pid, &cli.command)? {
            0 => Ok(()),
            _ => Err(CliError::Quiet),
        };
    }
    if cli.listen {
        if !cli.command.is_empty() || cli.script.is_some() {
            return Err(CliError::msg(
                "--listen takes no commands: send them with libguest --remote CMD",
            ));
        }
        if !remote::is_server() {
            // Options are checked here, where the user sees the error.
            config(&cli, matches)?;
            return remote::start_server();
        }
    }
    let config = config(&cli, matches)?;
    let mut session = Session::new(config)?;
    if cli.inspector || !cli.mounts.is_empty() || !cli.prepared.is_empty() {
        // guestfish launches at once when asked to mount or prepare disks.
        session.guest()?;
    }
    let result = if cli.listen {
        remote::serve(&mut session)
    } else if let Some(script) = &cli.script {
        if !cli.command.is_empty() {
            return Err(CliError::msg(
                "give commands either on the command line or with -f, not both",
            ));
        }
        shell::run_script(&mut session, script)
    } else if !cli.command.is_empty() {
        registry::run_line(&mut session, &cli.command)
    } else if std::io::stdin().is_terminal() {
        shell::interactive(&mut session)
    } else {
        shell::run_script(&mut session, std::path::Path::new("-"))
    };
    // A failed command's error comes first; the shutdown still happens.
    let closed = session.close();
    result.and(closed)
}

/// Options into the session's configuration; `--format` applies to the
/// `-a` drives that follow it, as in guestfish.
fn config(cli: &Cli, matches: &ArgMatches) -> Result<Config> {
    let mut formats: Vec<(usize, Option<DriveFormat>)> = Vec::new();
    let format_at = matches.indices_of("format").into_iter().flatten();
    for (index, name) in format_at.zip(&cli.format) {
        let format = match name.as_str() {
            "auto" => None,
            other => Some(
                other
                    .parse::<DriveFormat>()
                    .map_err(|e| CliError::msg(e.to_string()))?,
            ),
        };
        formats.push((index, format));
    }
    // -a and -N drives in command-line order: /dev/sda is the first given.
    let mut ordered: Vec<(usize, PathBuf, Option<Prepared>)> = Vec::new();
    let drive_at = matches.indices_of("drives").into_iter().flatten();
    for (index, path) in drive_at.zip(&cli.drives) {
        ordered.push((index, path.clone(), None));
    }
    let prepared_at = matches.indices_of("prepared").into_iter().flatten();
    for (number, (index, spec)) in prepared_at.zip(&cli.prepared).enumerate() {
        let p = Prepared::parse(spec, number + 1)?;
        ordered.push((index, p.file.clone(), Some(p)));
    }
    ordered.sort_by_key(|(index, _, _)| *index);
    if cli.ro && !cli.prepared.is_empty() {
        return Err(CliError::msg(
            "-N makes a new disk and writes to it: drop --ro, or add the image with -a once it is made",
        ));
    }
    let mut drives = Vec::new();
    let mut prepared = Vec::new();
    for (index, path, new) in ordered {
        let format = match new {
            Some(_) => Some(DriveFormat::Raw),
            None => formats
                .iter()
                .rev()
                .find(|(at, _)| *at < index)
                .and_then(|(_, f)| *f),
        };
        if let Some(p) = new {
            prepared.push((drives.len(), p));
        }
        let options = DriveOptions {
            format,
            readonly: cli.ro,
            ..Default::default()
        };
        drives.push((path, options));
    }
    let mounts = cli
        .mounts
        .iter()
        .map(|m| MountSpec::parse(m))
        .collect::<Result<Vec<_>>>()?;
    let keys = cli
        .keys
        .iter()
        .map(|s| libguest::parse_key_selector(s).map_err(|e| CliError::msg(e.to_string())))
        .collect::<Result<Vec<_>>>()?;
    if cli.ro && cli.rw {
        return Err(CliError::msg("use either --ro or --rw (-w), not both"));
    }
    if cli.inspector && !mounts.is_empty() {
        return Err(CliError::msg("use either -i or -m, not both"));
    }
    Ok(Config {
        drives,
        prepared,
        ro: cli.ro,
        inspector: cli.inspector,
        mounts,
        keys,
        key_input: keys::KeyInput {
            from_stdin: cli.keys_from_stdin,
            echo: cli.echo_keys,
        },
        verbose: cli.verbose,
        echo: cli.echo,
        pipe_error: cli.pipe_error,
        progress_bars: !cli.no_progress_bars,
        backend: cli.backend,
        kernel: cli.kernel.clone(),
        memsize: cli.memsize,
        timeout: cli.timeout,
    })
}

fn build_kernel(kind: &str) -> Result<()> {
    outln!(
        "{}",
        appliance::build_kernel(kind)
            .map_err(libguest::Error::from)?
            .display()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(argv: &[&str]) -> Result<Config> {
        let matches = Cli::command()
            .try_get_matches_from(argv)
            .map_err(|e| CliError::msg(e.to_string()))?;
        let cli = Cli::from_arg_matches(&matches).map_err(|e| CliError::msg(e.to_string()))?;
        config(&cli, &matches)
    }

    #[test]
    fn format_applies_to_the_drives_after_it() {
        let c = parsed(&[
            "libguest",
            "-a",
            "a.img",
            "--format",
            "qcow2",
            "-a",
            "b.qcow2",
            "-a",
            "c.qcow2",
            "--format=auto",
            "-a",
            "d",
            "--ro",
            "ls",
            "/",
        ])
        .unwrap();
        let formats: Vec<_> = c.drives.iter().map(|(_, o)| o.format).collect();
        let q = Some(DriveFormat::Qcow2);
        assert_eq!(formats, [None, q, q, None]);
        assert!(c.drives.iter().all(|(_, o)| o.readonly));
        assert!(parsed(&["libguest", "-i", "-m", "/dev/sda1"]).is_err());
        assert!(parsed(&["libguest", "--format", "vmdk"]).is_err());
        let c = parsed(&[
            "libguest",
            "--key",
            "/dev/sda2:key:pw",
            "--key",
            "all:key:x",
        ])
        .unwrap();
        assert_eq!(c.keys.len(), 2);
        assert!(parsed(&["libguest", "--key", "/dev/sda2"]).is_err());
        assert!(parsed(&["libguest", "--ro", "-w"]).is_err());
        assert!(
            !parsed(&["libguest", "-w", "-a", "x"]).unwrap().drives[0]
                .1
                .readonly
        );
        assert!(parsed(&["libguest", "--pipe-error"]).unwrap().pipe_error);
        // -N drives take their place among the -a ones, raw whatever --format says.
        let c = parsed(&[
            "libguest",
            "--format",
            "qcow2",
            "-a",
            "a",
            "-N",
            "fs:ext4",
            "-a",
            "b",
            "-N",
            "n.img=disk",
        ])
        .unwrap();
        let names: Vec<_> = c
            .drives
            .iter()
            .map(|(p, _)| p.display().to_string())
            .collect();
        assert_eq!(names, ["a", "test1.img", "b", "n.img"]);
        assert_eq!(c.drives[1].1.format, Some(DriveFormat::Raw));
        assert_eq!(c.drives[2].1.format, Some(DriveFormat::Qcow2));
        let at: Vec<_> = c.prepared.iter().map(|(i, _)| *i).collect();
        assert_eq!(at, [1, 3]);
        assert!(parsed(&["libguest", "--ro", "-N", "fs"]).is_err());
        assert!(parsed(&["libguest", "-N", "cdrom"]).is_err());
    }

    #[test]
    fn commands_keep_their_dashes() {
        let cli = Cli::try_parse_from(["libguest", "-a", "x", "df", "-h", ":", "ls", "/"]).unwrap();
        assert_eq!(cli.command, ["df", "-h", ":", "ls", "/"]);
        assert!(Cli::try_parse_from(["libguest", "--bogus"]).is_err());
    }
}
