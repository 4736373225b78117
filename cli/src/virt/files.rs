//! virt-cat, virt-copy-in, virt-copy-out, virt-tar-in, virt-tar-out,
//! virt-log and virt-tail: the guest's filesystems mounted as `-i` mounts
//! them (or as -m says), then the CLI's own commands.

use std::ffi::OsString;
use std::io::Write;
use std::time::Duration;

use clap::Parser;
use libguest::Guest;
use protocol::calls;

use super::common::{command, parse, with_session, Drives, Mounts, Open, ToolResult};
use crate::error::{output_error, CliError, Result};
use crate::mount::{mount_os, MountSpec};
use crate::session::Session;

/// virt-cat: display files in a virtual machine disk image.
#[derive(Parser, Debug)]
#[command(about = "Display files in a virtual machine disk image", version)]
pub struct CatArgs {
    #[command(flatten)]
    pub drives: Drives,
    #[command(flatten)]
    pub mounts: Mounts,
    /// Guest files to print, in order.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<String>,
}

pub fn cat(name: &'static str, args: Vec<OsString>) -> ToolResult {
    let (a, m): (CatArgs, _) = parse(name, args)?;
    let s = a.drives.session(&m, &a.mounts.mounts, Open::MountedRo)?;
    with_session(s, |s| {
        for file in &a.files {
            command(s, &["download", file, "-"])?;
        }
        Ok(())
    })?;
    Ok(())
}

/// virt-copy-in: copy files and directories into a disk image.
#[derive(Parser, Debug)]
#[command(
    about = "Copy files and directories into a virtual machine disk image",
    version
)]
pub struct CopyInArgs {
    #[command(flatten)]
    pub drives: Drives,
    #[command(flatten)]
    pub mounts: Mounts,
    /// Host files or directories, then the guest directory they go into.
    #[arg(required = true, num_args = 2.., value_name = "FILE|DIR... /DESTINATION")]
    pub paths: Vec<String>,
}

pub fn copy_in(name: &'static str, args: Vec<OsString>) -> ToolResult {
    let (a, m): (CopyInArgs, _) = parse(name, args)?;
    let s = a.drives.session(&m, &a.mounts.mounts, Open::MountedRw)?;
    with_session(s, |s| copy(s, "copy-in", &a.paths))?;
    Ok(())
}

/// virt-copy-out: copy files and directories out of a disk image.
#[derive(Parser, Debug)]
#[command(
    about = "Copy files and directories out of a virtual machine disk image",
    version
)]
pub struct CopyOutArgs {
    #[command(flatten)]
    pub drives: Drives,
    #[command(flatten)]
    pub mounts: Mounts,
    /// Guest files or directories, then the host directory they go into.
    #[arg(required = true, num_args = 2.., value_name = "/FILE|/DIR... LOCALDIR")]
    pub paths: Vec<String>,
}

pub fn copy_out(name: &'static str, args: Vec<OsString>) -> ToolResult {
    let (a, m): (CopyOutArgs, _) = parse(name, args)?;
    let s = a.drives.session(&m, &a.mounts.mounts, Open::MountedRo)?;
    with_session(s, |s| copy(s, "copy-out", &a.paths))?;
    Ok(())
}

fn copy(s: &mut Session, cmd: &str, paths: &[String]) -> Result<()> {
    let mut words = vec![cmd];
    words.extend(paths.iter().map(String::as_str));
    command(s, &words)
}

/// virt-tar-in: unpack a tarball into a disk image.
#[derive(Parser, Debug)]
#[command(about = "Unpack a tarball into a virtual machine disk image", version)]
pub struct TarInArgs {
    #[command(flatten)]
    pub drives: Drives,
    #[command(flatten)]
    pub mounts: Mounts,
    /// The (uncompressed) tarball on this machine, - for standard input.
    #[arg(value_name = "TARBALL")]
    pub tarball: String,
    /// The guest directory it is unpacked into.
    #[arg(value_name = "/DESTINATION")]
    pub directory: String,
}

pub fn tar_in(name: &'static str, args: Vec<OsString>) -> ToolResult {
    let (a, m): (TarInArgs, _) = parse(name, args)?;
    let s = a.drives.session(&m, &a.mounts.mounts, Open::MountedRw)?;
    with_session(s, |s| command(s, &["tar-in", &a.tarball, &a.directory]))?;
    Ok(())
}

/// virt-tar-out: pack a guest directory into a tarball.
#[derive(Parser, Debug)]
#[command(
    about = "Pack a virtual machine disk image directory into a tarball",
    version
)]
pub struct TarOutArgs {
    #[command(flatten)]
    pub drives: Drives,
    #[command(flatten)]
    pub mounts: Mounts,
    /// The guest directory to pack.
    #[arg(value_name = "/DIRECTORY")]
    pub directory: String,
    /// The (uncompressed) tarball written on this machine, - for standard output.
    #[arg(value_name = "TARBALL")]
    pub tarball: String,
}

pub fn tar_out(name: &'static str, args: Vec<OsString>) -> ToolResult {
    let (a, m): (TarOutArgs, _) = parse(name, args)?;
    let s = a.drives.session(&m, &a.mounts.mounts, Open::MountedRo)?;
    with_session(s, |s| command(s, &["tar-out", &a.directory, &a.tarball]))?;
    Ok(())
}

/// virt-log: display the log files of a disk image.
#[derive(Parser, Debug)]
#[command(about = "Display log files from a virtual machine disk image", version)]
pub struct LogArgs {
    #[command(flatten)]
    pub drives: Drives,
}

/// The plain-text logs virt-log reads when there is no journal, in order.
const TEXT_LOGS: &[&str] = &["/var/log/messages", "/var/log/syslog"];

pub fn log(name: &'static str, args: Vec<OsString>) -> ToolResult {
    let (a, m): (LogArgs, _) = parse(name, args)?;
    let s = a.drives.session(&m, &[], Open::MountedRo)?;
    with_session(s, print_log)?;
    Ok(())
}

fn print_log(s: &mut Session) -> Result<()> {
    let g = s.guest()?;
    let roots = g.inspect_get_roots()?;
    let os_type = match roots.first() {
        Some(root) => g.inspect_get_type(root.as_str())?,
        None => String::new(),
    };
    if os_type == "windows" {
        return Err(CliError::msg(
            "this is a Windows guest: its event logs are binary .evtx files; copy them out with virt-copy-out -a IMAGE /Windows/System32/winevt/Logs . and read them with an evtx tool",
        ));
    }
    let journal = is_dir(g, "/var/log/journal")? && !g.ls("/var/log/journal")?.is_empty();
    let mut journal_error = None;
    if journal {
        match journal_text(g) {
            Ok(text) => {
                crate::terminal::stdout()
                    .write_all(text.as_bytes())
                    .map_err(output_error)?;
                return Ok(());
            }
            Err(e) => journal_error = Some(e),
        }
    }
    for file in TEXT_LOGS {
        if is_file(g, file)? {
            return command(s, &["download", file, "-"]);
        }
    }
    Err(match journal_error {
        Some(e) => CliError::msg(format!(
            "the guest logs to the systemd journal, which could not be read with the guest's journalctl ({}); copy it out with virt-copy-out -a IMAGE /var/log/journal . and read it with journalctl -D journal",
            crate::error::one_line(&e.to_string())
        )),
        None => CliError::msg(format!(
            "no log found in the guest: there is no systemd journal (/var/log/journal), nor {}; list /var/log with virt-ls -a IMAGE /var/log",
            TEXT_LOGS.join(" or ")
        )),
    })
}

/// The journal as the guest's own journalctl prints it.
fn journal_text(g: &mut Guest) -> Result<String> {
    let journalctl = ["/usr/bin/journalctl", "/bin/journalctl"]
        .into_iter()
        .map(|p| is_file(g, p).map(|found| found.then_some(p)))
        .find_map(|r| r.transpose())
        .transpose()?
        .ok_or_else(|| CliError::msg("the guest has no journalctl"))?;
    let argv = [journalctl, "--no-pager", "-D", "/var/log/journal"];
    Ok(g.command(argv.iter().map(|a| a.to_string()).collect::<Vec<_>>())?)
}

fn is_dir(g: &mut Guest, path: &str) -> Result<bool> {
    let opts = calls::is_dir::Opts {
        followsymlinks: Some(true),
    };
    Ok(g.is_dir(path, opts)?)
}

fn is_file(g: &mut Guest, path: &str) -> Result<bool> {
    let opts = calls::is_file::Opts {
        followsymlinks: Some(true),
    };
    Ok(g.is_file(path, opts)?)
}

/// virt-tail: follow (tail -f) files in a disk image.
#[derive(Parser, Debug)]
#[command(
    about = "Follow (tail -f) files in a virtual machine disk image",
    version
)]
pub struct TailArgs {
    #[command(flatten)]
    pub drives: Drives,
    #[command(flatten)]
    pub mounts: Mounts,
    /// Guest files to follow.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<String>,
}

/// How often virt-tail looks again.
const POLL: Duration = Duration::from_secs(2);
/// How often the wait looks for Ctrl-C.
const TICK: Duration = Duration::from_millis(100);
/// The lines printed before following, as tail -f.
const FIRST_LINES: i64 = 10;
const CHUNK: i64 = 1 << 20;

pub fn tail(name: &'static str, args: Vec<OsString>) -> ToolResult {
    let (a, m): (TailArgs, _) = parse(name, args)?;
    let mounts = a.mounts.mounts.clone();
    let specs = mounts
        .iter()
        .map(|m| MountSpec::parse(m))
        .collect::<Result<Vec<_>>>()?;
    let s = a.drives.session(&m, &mounts, Open::MountedRo)?;
    match with_session(s, |s| follow(s, &a.files, &specs)) {
        // Ctrl-C cancels the call in progress: the way out.
        Err(CliError::Lib(libguest::Error::Cancelled { .. })) => Ok(()),
        other => Ok(other?),
    }
}

fn follow(s: &mut Session, files: &[String], specs: &[MountSpec]) -> Result<()> {
    let g = s.guest()?;
    let many = files.len() > 1;
    let mut offsets: Vec<Option<i64>> = vec![None; files.len()];
    let mut last_shown: Option<usize> = None;
    loop {
        for (i, file) in files.iter().enumerate() {
            let size = match is_file(g, file)? {
                true => g.filesize(file.as_str())?,
                false if offsets[i].is_none() => {
                    return Err(CliError::msg(format!(
                        "{file}: no such file in the guest (virt-ls -a IMAGE lists a directory)"
                    )))
                }
                // Gone for now (rotated): wait for it to come back.
                false => continue,
            };
            let mut out = crate::terminal::stdout();
            let header = |out: &mut dyn Write, last: &mut Option<usize>| -> Result<()> {
                if many && *last != Some(i) {
                    // As tail: a blank line between files, none before the first.
                    let gap = if last.is_some() { "\n" } else { "" };
                    writeln!(out, "{gap}==> {file} <==").map_err(output_error)?;
                }
                *last = Some(i);
                Ok(())
            };
            match offsets[i] {
                None => {
                    header(&mut out, &mut last_shown)?;
                    for line in g.tail_n(FIRST_LINES, file.as_str())? {
                        writeln!(out, "{line}").map_err(output_error)?;
                    }
                }
                Some(from) if size != from => {
                    // Shrunk: truncated or replaced; start from its beginning.
                    let mut at = if size < from { 0 } else { from };
                    header(&mut out, &mut last_shown)?;
                    while at < size {
                        let data = g.pread(file.as_str(), CHUNK.min(size - at), at)?;
                        if data.is_empty() {
                            break;
                        }
                        out.write_all(&data).map_err(output_error)?;
                        at += i64::try_from(data.len()).unwrap_or(CHUNK);
                    }
                }
                Some(_) => {}
            }
            out.flush().map_err(output_error)?;
            offsets[i] = Some(size);
        }
        let mut waited = Duration::ZERO;
        while waited < POLL {
            if crate::interrupt::take() {
                return Ok(());
            }
            std::thread::sleep(TICK);
            waited += TICK;
        }
        remount(g, specs)?;
    }
}

/// Drops what the appliance caches, so that writes to the image since
/// (by a running guest) show: unmount, flush the devices, mount again.
fn remount(g: &mut Guest, specs: &[MountSpec]) -> Result<()> {
    g.umount_all()?;
    for dev in g.list_devices()? {
        g.blockdev_flushbufs(dev.as_str())?;
    }
    if specs.is_empty() {
        return mount_os(g, true);
    }
    let mut specs = specs.to_vec();
    specs.sort_by_key(|m| m.mountpoint.len());
    for m in &specs {
        m.mount(g, true)?;
    }
    Ok(())
}
