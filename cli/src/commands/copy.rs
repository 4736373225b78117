//! copy-in, copy-out, edit, and upload/download/tar-in/tar-out with a
//! progress bar. With stderr not a terminal, copy-in/out call the
//! library's `copy_in`/`copy_out` and the streaming commands go through
//! `api::run`: the bar-less path has no wrapper at all.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::os::fd::FromRawFd;
use std::path::Path;
use std::process::Command;

use indicatif::ProgressBar;
use libguest::{calls, transfer, CopyOutOptions, Guest, Pathname};

use crate::error::{CliError, Result};
use crate::progress;
use crate::session::Session;
use protocol::words::Words;

fn host_error(what: String, e: std::io::Error) -> CliError {
    CliError::msg(format!("{what}: {e}"))
}

/// A pipe for a tar stream between a thread and a call (std's is newer
/// than the crate's MSRV).
fn pipe() -> std::io::Result<(File, File)> {
    let mut fds = [0; 2];
    // SAFETY: fds is a valid array of two ints for pipe2 to fill.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: pipe2 succeeded: two fresh descriptors, owned from here on.
    Ok(unsafe { (File::from_raw_fd(fds[0]), File::from_raw_fd(fds[1])) })
}

/// `LOCAL... REMOTEDIR` / `REMOTE... LOCALDIR`: the sources and the target.
fn sources_and_target<'a>(cmd: &str, args: &'a [String]) -> Result<(&'a [String], &'a str)> {
    match args.split_last() {
        Some((target, sources)) if !sources.is_empty() => Ok((sources, target)),
        _ => Err(CliError::msg(format!(
            "{cmd}: expected at least 2 arguments; usage: {}",
            if cmd == "copy-in" {
                "copy-in LOCAL... REMOTEDIR"
            } else {
                "copy-out REMOTE... LOCALDIR"
            }
        ))),
    }
}

pub fn copy_in(s: &mut Session, args: &[String]) -> Result<()> {
    let (locals, remotedir) = sources_and_target("copy-in", args)?;
    Pathname::new(remotedir).map_err(|e| CliError::msg(format!("copy-in: {e}")))?;
    // Before the appliance boots: a typo costs nothing.
    for local in locals {
        std::fs::symlink_metadata(local).map_err(|e| host_error(format!("copy-in: {local}"), e))?;
    }
    let progress = s.progress;
    let g = s.guest()?;
    for local in locals {
        if progress {
            let bar = progress::bytes(local, Some(progress::tree_size(Path::new(local))));
            let result = copy_in_with(g, Path::new(local), remotedir, &bar);
            bar.finish_and_clear();
            result?;
        } else {
            g.copy_in(local, remotedir)?;
        }
    }
    Ok(())
}

/// `Guest::copy_in` with the tar stream counted on its way in.
pub fn copy_in_with(g: &mut Guest, local: &Path, remotedir: &str, bar: &ProgressBar) -> Result<()> {
    let (reader, writer) = pipe().map_err(|e| host_error("copy-in: pipe".into(), e))?;
    let source = local.to_path_buf();
    let packer = std::thread::Builder::new()
        .name("libguest-pack".into())
        .spawn(move || transfer::pack(&source, writer))
        .map_err(|e| host_error("copy-in: cannot start the packing thread".into(), e))?;
    let mut counted = bar.wrap_read(reader);
    let sent = g.tar_in(&mut counted, remotedir, calls::tar_in::Opts::default());
    // The packer stops once nobody reads.
    drop(counted);
    let packed = packer.join();
    match (sent, packed) {
        (Err(e), _) => Err(e.into()),
        (Ok(()), Ok(Err(source))) => Err(libguest::Error::Transfer {
            call: "copy_in",
            source,
        }
        .into()),
        (Ok(()), Err(_)) => Err(CliError::msg("copy-in: the packing thread panicked")),
        (Ok(()), Ok(Ok(_))) => Ok(()),
    }
}

/// `copy-out [--keep-modes] [--max-sparse-size N[KMGT]] REMOTE... LOCALDIR`.
pub fn copy_out(s: &mut Session, args: &[String]) -> Result<()> {
    let mut keep_modes = false;
    let mut max_sparse_size = transfer::DEFAULT_MAX_SPARSE_SIZE;
    let mut rest = args;
    loop {
        match rest {
            [flag, tail @ ..] if flag == "--keep-modes" => {
                keep_modes = true;
                rest = tail;
            }
            [flag, value, tail @ ..] if flag == "--max-sparse-size" => {
                max_sparse_size = parse_size(value)?;
                rest = tail;
            }
            [flag, ..] if flag.starts_with("--") => {
                return Err(CliError::msg(format!(
                    "copy-out: unknown option {flag}; usage: {COPY_OUT_USAGE}"
                )))
            }
            _ => break,
        }
    }
    let (remotes, localdir) = sources_and_target("copy-out", rest)?;
    if !Path::new(localdir).is_dir() {
        return Err(CliError::msg(format!(
            "copy-out: {localdir} is not an existing directory on this machine"
        )));
    }
    let progress = s.progress;
    let g = s.guest()?;
    let opts = || CopyOutOptions {
        keep_modes,
        max_sparse_size,
        ..CopyOutOptions::default()
    };
    for remote in remotes {
        if progress {
            copy_out_with_bar(g, remote, Path::new(localdir), opts())?;
        } else {
            g.copy_out_opts(remote, localdir, opts())?;
        }
    }
    Ok(())
}

const COPY_OUT_USAGE: &str =
    "copy-out [--keep-modes] [--max-sparse-size N[K|M|G|T]] REMOTE... LOCALDIR";

/// `N[K|M|G|T]` in bytes.
fn parse_size(text: &str) -> Result<u64> {
    let bad = || {
        CliError::msg(format!(
            "copy-out: --max-sparse-size {text:?}: expected N[K|M|G|T]"
        ))
    };
    let digits = text.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let shift = match text[digits.len()..].to_ascii_uppercase().as_str() {
        "" | "B" => 0,
        "K" | "KIB" => 10,
        "M" | "MIB" => 20,
        "G" | "GIB" => 30,
        "T" | "TIB" => 40,
        _ => return Err(bad()),
    };
    let n: u64 = digits.parse().map_err(|_| bad())?;
    n.checked_mul(1 << shift).ok_or_else(bad)
}

/// `Guest::copy_out_opts` with the bytes counted: a bar for a file (its
/// size is known), a spinner for a tree.
fn copy_out_with_bar(
    g: &mut Guest,
    remote: &str,
    localdir: &Path,
    opts: CopyOutOptions<'static>,
) -> Result<()> {
    let is_dir = g.is_dir(
        remote,
        calls::is_dir::Opts {
            followsymlinks: Some(true),
        },
    )?;
    let size = match is_dir {
        true => None,
        false => Some(u64::try_from(g.statns(remote)?.st_size).unwrap_or(0)),
    };
    let bar = progress::bytes(remote, size);
    let mut show = |n| bar.set_position(n);
    let opts = CopyOutOptions {
        progress: Some(&mut show),
        ..opts
    };
    let result = g.copy_out_opts(remote, localdir, opts);
    bar.finish_and_clear();
    Ok(result?)
}

/// `download` to a host file; opened as the library opens a `Sink::Path`
/// (never through a symlink to a regular file).
fn download_with(g: &mut Guest, remote: &str, target: &Path, bar: &ProgressBar) -> Result<()> {
    let file = transfer::create_output(target)
        .map_err(|e| host_error(format!("cannot create {}", target.display()), e))?;
    let mut out = bar.wrap_write(BufWriter::with_capacity(1 << 20, file));
    g.download(remote, &mut out)?;
    out.flush()
        .map_err(|e| host_error(format!("writing {}", target.display()), e))
}

/// Whether a streaming command gets a bar: on a terminal, and not for
/// `-` (standard input or output).
pub fn shows_progress(s: &Session, name: &str, args: &[String]) -> bool {
    let host = match name {
        "upload" | "tar-in" => args.first(),
        _ => args.get(1),
    };
    s.progress && host.is_some_and(|h| h != "-")
}

/// upload, download, tar-in, tar-out with a bar; same words as the API
/// commands (`api::usage`).
pub fn streamed(s: &mut Session, name: &str, args: &[String]) -> Result<()> {
    match name {
        "upload" | "tar-in" => {
            let (call, opts): (&str, &[&str]) = match name {
                "upload" => ("upload", &[]),
                _ => ("tar_in", &["compress", "xattrs"]),
            };
            let mut w = Words::new(call, args, &["remotefilename"], opts, Some("HOSTFILE"))?;
            let host: String = w.next("HOSTFILE")?;
            let remote: Pathname = w.next("remotefilename")?;
            let file = File::open(&host)
                .map_err(|e| host_error(format!("{call}: cannot open {host}"), e))?;
            let size = file.metadata().map(|m| m.len()).ok();
            let tar_opts = calls::tar_in::Opts {
                compress: w.opt("compress")?,
                xattrs: w.opt("xattrs")?,
            };
            let g = s.guest()?;
            let bar = progress::bytes(&host, size);
            let mut counted = bar.wrap_read(file);
            let result = match name {
                "upload" => g.upload(&mut counted, remote),
                _ => g.tar_in(&mut counted, remote, tar_opts),
            };
            bar.finish_and_clear();
            Ok(result?)
        }
        "download" => {
            let mut w = Words::new("download", args, &["remotefilename"], &[], Some("HOSTFILE"))?;
            let remote: Pathname = w.next("remotefilename")?;
            let host: String = w.next("HOSTFILE")?;
            let g = s.guest()?;
            let size = u64::try_from(g.statns(remote.as_str())?.st_size).ok();
            let bar = progress::bytes(remote.as_str(), size);
            let result = download_with(g, remote.as_str(), Path::new(&host), &bar);
            bar.finish_and_clear();
            result
        }
        _ => {
            let opts = ["compress", "numericowner", "excludes"];
            let mut w = Words::new("tar_out", args, &["directory"], &opts, Some("HOSTFILE"))?;
            let dir: Pathname = w.next("directory")?;
            let host: String = w.next("HOSTFILE")?;
            let tar_opts = calls::tar_out::Opts {
                compress: w.opt("compress")?,
                numericowner: w.opt("numericowner")?,
                excludes: w.opt("excludes")?,
            };
            let g = s.guest()?;
            let file = transfer::create_output(Path::new(&host))
                .map_err(|e| host_error(format!("tar-out: cannot create {host}"), e))?;
            let bar = progress::bytes(dir.as_str(), None);
            let mut out = bar.wrap_write(BufWriter::with_capacity(1 << 20, file));
            let result = g.tar_out(dir, &mut out, tar_opts);
            let flushed = out.flush();
            bar.finish_and_clear();
            result?;
            flushed.map_err(|e| host_error(format!("writing {host}"), e))
        }
    }
}

/// Downloads the file, runs $EDITOR on it and uploads it back if it
/// changed (guestfish's edit).
pub fn edit(s: &mut Session, args: &[String]) -> Result<()> {
    let [remote] = args else {
        return Err(CliError::msg(
            "edit: expected 1 argument; usage: edit REMOTEFILE",
        ));
    };
    let remote = Pathname::new(remote.as_str()).map_err(|e| CliError::msg(format!("edit: {e}")))?;
    let g = s.guest()?;
    let dir = tempfile::tempdir().map_err(|e| host_error("edit: temporary directory".into(), e))?;
    // The same file name, so the editor picks the right syntax.
    let name = Path::new(remote.as_str())
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_else(|| "file".into());
    let local = dir.path().join(name);
    g.download(remote.as_str(), &local)?;
    let before =
        std::fs::read(&local).map_err(|e| host_error("edit: reading the copy".into(), e))?;
    let editor = std::env::var("EDITOR")
        .ok()
        .filter(|e| !e.trim().is_empty())
        .unwrap_or_else(|| "vi".into());
    // Through sh so that EDITOR may carry arguments ("code -w"); the file
    // is passed as $1, never spliced into the command.
    let status = Command::new("sh")
        .arg("-c")
        .arg(format!("{editor} \"$1\""))
        .arg("sh")
        .arg(&local)
        .status()
        .map_err(|e| host_error(format!("edit: cannot run {editor}"), e))?;
    if !status.success() {
        return Err(CliError::msg(format!(
            "edit: {editor} failed ({status}); {remote} is unchanged"
        )));
    }
    let after =
        std::fs::read(&local).map_err(|e| host_error("edit: reading the copy".into(), e))?;
    if after != before {
        g.upload(&local, remote)?;
    }
    Ok(())
}
