//! Every command the CLI runs, in one registry: the compound commands
//! this CLI adds on top of the API (one row here and one file in
//! `commands/` each) and every API call of the table (generated rows,
//! run by [`crate::api`]). Dispatch, `help`, `help CMD` and the shell's
//! completion all read it.

use std::borrow::Cow;
use std::io::Write;
use std::sync::LazyLock;

use protocol::{calls, CallInfo};

use crate::commands::{copy, deprecated, fs, glob, inspect, launch, local, makefs};
use crate::error::{CliError, Result};
use crate::session::Session;
use crate::{api, split};

/// Whether the caller goes on reading commands.
#[derive(Debug, PartialEq, Eq)]
pub enum Flow {
    Continue,
    Quit,
}

/// What a command does with its words.
pub type Run = fn(&mut Session, &[String]) -> Result<Flow>;

/// One command.
#[derive(Clone)]
pub struct Command {
    /// With `-`, as typed (`copy-in`, `tar-out`).
    pub name: Cow<'static, str>,
    /// Other names that run it.
    pub aliases: &'static [&'static str],
    /// The usage line.
    pub usage: Cow<'static, str>,
    /// What it does (the first sentence is its summary in `help`).
    pub help: Cow<'static, str>,
    /// The API call behind it, for API commands.
    pub call: Option<&'static CallInfo>,
    pub run: Run,
}

impl Command {
    /// The line `help` lists it with.
    pub fn summary(&self) -> &str {
        match self.call {
            Some(info) => info.summary(),
            None => first_sentence(&self.help),
        }
    }

    /// `help CMD`.
    pub fn describe(&self) -> String {
        format!("{}\n\n  {}", self.usage, self.help)
            .trim_end()
            .to_string()
    }
}

const fn compound(
    name: &'static str,
    aliases: &'static [&'static str],
    usage: &'static str,
    help: &'static str,
    run: Run,
) -> Command {
    Command {
        name: Cow::Borrowed(name),
        aliases,
        usage: Cow::Borrowed(usage),
        help: Cow::Borrowed(help),
        call: None,
        run,
    }
}

fn done(result: Result<()>) -> Result<Flow> {
    result.map(|()| Flow::Continue)
}

/// The commands this CLI adds on top of the API. They come before the API
/// commands: a row here may take over an API name.
const COMPOUND: &[Command] = &[
    compound("alloc", &["allocate"], "alloc FILENAME SIZE", "Creates a host file of SIZE bytes (suffixes k, M, G, T… as guestfish), allocated on disk, and adds it as a raw read-write drive. Before launch only. Alias: allocate.", |s, a| done(local::alloc(s, a))),
    compound("copy-in", &[], "copy-in LOCAL... REMOTEDIR", "Copies host files or directory trees into an existing guest directory (modes, times and symlinks kept).", |s, a| done(copy::copy_in(s, a))),
    compound("copy-out", &[], "copy-out [--keep-modes] [--max-sparse-size N[K|M|G|T]] REMOTE... LOCALDIR", "Copies guest files or directory trees into an existing host directory. Modes lose group/other write and follow the umask unless --keep-modes; nothing is written through a symlink below LOCALDIR; sparse files may claim at most 16T unless --max-sparse-size.", |s, a| done(copy::copy_out(s, a))),
    compound("df", &[], "df [-h]", "Free space of every filesystem (the mounted ones if you mounted any, else each in turn, read-only); -h: human sizes.", |s, a| done(fs::df(s, a))),
    compound("echo", &[], "echo [PARAMS...]", "Prints its parameters, separated by spaces.", |_, a| done(local::echo(a))),
    compound("edit", &["vi", "emacs"], "edit REMOTEFILE", "Edits a guest file with $EDITOR (default vi); it is written back only if it changed. Aliases: vi, emacs.", |s, a| done(copy::edit(s, a))),
    compound("egrep", &[], "egrep REGEX PATH", "Deprecated: grep with extended:true.", |s, a| done(deprecated::grep(s, a, &["extended:true"]))),
    compound("egrepi", &[], "egrepi REGEX PATH", "Deprecated: grep with extended:true insensitive:true.", |s, a| done(deprecated::grep(s, a, &["extended:true", "insensitive:true"]))),
    compound("exit", &[], "exit", "Leaves the shell or stops the script (also: quit, q).", |_, _| Ok(Flow::Quit)),
    compound("fgrep", &[], "fgrep PATTERN PATH", "Deprecated: grep with fixed:true.", |s, a| done(deprecated::grep(s, a, &["fixed:true"]))),
    compound("fgrepi", &[], "fgrepi PATTERN PATH", "Deprecated: grep with fixed:true insensitive:true.", |s, a| done(deprecated::grep(s, a, &["fixed:true", "insensitive:true"]))),
    compound("filesystems", &[], "filesystems [--json] [-h]", "A table of the filesystems, partitions and devices: type, label, UUID and size; -h: human sizes.", |s, a| done(fs::filesystems(s, a))),
    compound("get-e2label", &[], "get-e2label DEVICE", "Deprecated: vfs-label.", |s, a| done(deprecated::get_e2label(s, a))),
    compound("get-e2uuid", &[], "get-e2uuid DEVICE", "Deprecated: vfs-uuid.", |s, a| done(deprecated::get_e2uuid(s, a))),
    compound("glob", &[], "glob COMMAND [ARGS...]", "Expands wildcards (*, ?, [...]) in the arguments against guest paths, or against the device names for /dev/ patterns, and runs the command once per combination; a pattern that matches nothing is passed as it is.", glob::run),
    compound("grepi", &[], "grepi REGEX PATH", "Deprecated: grep with insensitive:true.", |s, a| done(deprecated::grep(s, a, &["insensitive:true"]))),
    compound("help", &[], "help [COMMAND]", "Lists the commands, or describes one.", |_, a| done(help(a))),
    compound("inspect", &[], "inspect [--json | --xml]", "Inspects the disks for operating systems as virt-inspector: type, distro, product, variant, version, arch, hostname, packaging, osinfo, mountpoints, filesystems, drive letters; --json or --xml (virt-inspector's format) also list the installed applications.", |s, a| done(inspect::run(s, a))),
    compound("launch", &["run"], "launch", "Launches the appliance now (done anyway before the first command that needs it); how long it took goes to stderr on a terminal or with -v. Alias: run.", |s, a| done(launch::run(s, a))),
    compound("lcd", &[], "lcd DIRECTORY", "Changes the host's current directory, which relative host paths (copy-in, upload, add…) are resolved against.", |_, a| done(local::lcd(a))),
    compound("lstat", &[], "lstat PATH", "Deprecated: stat without following a symlink; lstatns has nanoseconds.", |s, a| done(deprecated::stat(s, a, false))),
    compound("make-fs", &[], "make-fs INPUT OUTPUT [--type ext4|ext2|ext3|xfs|vfat|btrfs] [--size N[KMG]|+N[KMG]] [--format raw|qcow2] [--label L]", "Makes a disk image OUTPUT holding one unpartitioned filesystem with the contents of INPUT, a host directory or a tarball (.tar, .tar.gz, .tar.xz, .tar.zst). The type defaults to ext4; the size is estimated from the input with headroom unless --size is given, and +N adds to the estimate. Needs no -a drive.", |s, a| done(makefs::run(&s.config, s.progress, a))),
    compound("quit", &["q"], "quit", "Leaves the shell or stops the script (also: exit, q).", |_, _| Ok(Flow::Quit)),
    compound("set-e2label", &[], "set-e2label DEVICE LABEL", "Deprecated: set-label.", |s, a| done(deprecated::set_e2label(s, a))),
    compound("sparse", &[], "sparse FILENAME SIZE", "Creates a sparse host file of SIZE bytes (suffixes k, M, G, T… as guestfish) and adds it as a raw read-write drive. Before launch only.", |s, a| done(local::sparse(s, a))),
    compound("stat", &[], "stat PATH", "Deprecated: the old struct stat of a file (dev, ino, mode, nlink, uid, gid, rdev, size, blksize, blocks, atime, mtime, ctime); statns has nanoseconds.", |s, a| done(deprecated::stat(s, a, true))),
    compound("time", &[], "time COMMAND [ARGS...]", "Runs the command, then prints the elapsed time.", local::time),
    compound("zegrep", &[], "zegrep REGEX PATH", "Deprecated: grep with compressed:true extended:true.", |s, a| done(deprecated::grep(s, a, &["compressed:true", "extended:true"]))),
    compound("zegrepi", &[], "zegrepi REGEX PATH", "Deprecated: grep with compressed:true extended:true insensitive:true.", |s, a| done(deprecated::grep(s, a, &["compressed:true", "extended:true", "insensitive:true"]))),
    compound("zfgrep", &[], "zfgrep PATTERN PATH", "Deprecated: grep with compressed:true fixed:true.", |s, a| done(deprecated::grep(s, a, &["compressed:true", "fixed:true"]))),
    compound("zfgrepi", &[], "zfgrepi PATTERN PATH", "Deprecated: grep with compressed:true fixed:true insensitive:true.", |s, a| done(deprecated::grep(s, a, &["compressed:true", "fixed:true", "insensitive:true"]))),
    compound("zgrep", &[], "zgrep REGEX PATH", "Deprecated: grep with compressed:true (gzip, bzip2, xz).", |s, a| done(deprecated::grep(s, a, &["compressed:true"]))),
    compound("zgrepi", &[], "zgrepi REGEX PATH", "Deprecated: grep with compressed:true insensitive:true.", |s, a| done(deprecated::grep(s, a, &["compressed:true", "insensitive:true"]))),
];

/// One row per API call; internal calls are not commands.
macro_rules! api_commands {
    ($($name:ident)*) => {
        fn api_commands() -> Vec<Command> {
            [$((&calls::$name::INFO, (|s, a| done(api::run::<calls::$name::Call>(s, a))) as Run)),*]
                .into_iter()
                // Not internal ones, nor those a compound row takes over
                // (launch: the compound one also prints the time taken).
                .filter(|(info, _)| {
                    let name = info.name.replace('_', "-");
                    !info.internal && !COMPOUND.iter().any(|c| c.name == name)
                })
                .map(|(info, run)| Command {
                    name: Cow::Owned(info.name.replace('_', "-")),
                    aliases: &[],
                    usage: Cow::Owned(api::usage(info)),
                    help: Cow::Owned(api::help(info)),
                    call: Some(info),
                    run,
                })
                .collect()
        }
    };
}
protocol::for_each_call_name!(api_commands);

static ALL: LazyLock<Vec<Command>> =
    LazyLock::new(|| COMPOUND.iter().cloned().chain(api_commands()).collect());

/// Every command, compound ones first.
pub fn all() -> &'static [Command] {
    &ALL
}

/// The command `name` (with `-` or `_`) or one of its aliases names.
pub fn find(name: &str) -> Option<&'static Command> {
    let name = name.replace('_', "-");
    let exact = |name: &str| {
        all()
            .iter()
            .find(|c| c.name == name || c.aliases.contains(&name))
    };
    // guestfish also takes NAME-opts for a call with optional arguments
    // (is-file-opts, mkfs-opts, add-drive-opts).
    exact(&name).or_else(|| {
        let base = exact(name.strip_suffix("-opts")?)?;
        base.call.filter(|c| !c.opts.is_empty()).map(|_| base)
    })
}

/// Command names and aliases for the shell's completion.
pub fn names() -> Vec<String> {
    let mut names: Vec<String> = all()
        .iter()
        .flat_map(|c| {
            std::iter::once(c.name.to_string()).chain(c.aliases.iter().map(|a| a.to_string()))
        })
        .collect();
    names.sort();
    names.dedup();
    names
}

/// Command-line words: commands separated by `:` words, run in order
/// until one fails or says quit.
pub fn run_line(s: &mut Session, words: &[String]) -> Result<()> {
    for command in words.split(|w| w == ":") {
        if run(s, command)? == Flow::Quit {
            break;
        }
    }
    Ok(())
}

/// Runs one command.
pub fn run(s: &mut Session, words: &[String]) -> Result<Flow> {
    let Some((name, args)) = words.split_first() else {
        return Ok(Flow::Continue);
    };
    if s.config.echo {
        errln!("{}", split::join(words));
    }
    let command = find(name).ok_or_else(|| {
        CliError::msg(format!(
            "unknown command {:?} (try 'help')",
            name.replace('_', "-")
        ))
    })?;
    let flow = (command.run)(s, args)?;
    std::io::stdout()
        .flush()
        .map_err(crate::error::output_error)?;
    Ok(flow)
}

fn help(args: &[String]) -> Result<()> {
    match args {
        [] => {
            outln!("Commands (help CMD for one):\n");
            let mut rows: Vec<(&str, &str)> =
                all().iter().map(|c| (&*c.name, c.summary())).collect();
            rows.sort();
            rows.dedup_by_key(|(name, _)| *name);
            let width = rows.iter().map(|(n, _)| n.len()).max().unwrap_or(0);
            for (name, what) in rows {
                outln!("  {name:width$}  {what}");
            }
            outln!("\nCommands are separated by ':' on the command line, one a line in scripts.");
            Ok(())
        }
        [name] => {
            let command = find(name).ok_or_else(|| {
                CliError::msg(format!("help: unknown command {name:?} (try 'help')"))
            })?;
            outln!("{}", command.describe());
            Ok(())
        }
        _ => Err(CliError::msg("usage: help [COMMAND]")),
    }
}

fn first_sentence(text: &str) -> &str {
    match text.find(". ") {
        Some(end) => &text[..=end],
        None => text,
    }
}

#[cfg(test)]
mod tests;
