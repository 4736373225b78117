//! setfiles and selinux_relabel: setfiles(8) from the tools layer on the
//! guest tree, with the arguments libguestfs's daemon gives it.

use std::ffi::{OsStr, OsString};
use std::path::PathBuf;

use protocol::types::Pathname;
use protocol::{calls, CallIo, ErrorReply};
use rustix::fs::{Mode, OFlags};

use super::mkfs::run::{failed, run};
use super::root::fd_path;
use super::state::GuestDaemon;
use super::util::{errno_reply, invalid};

/// Whether this setfiles knows `-X`: as libguestfs, run it with only
/// that option and look for getopt's complaint.
fn has_option(call: &str, option: char) -> Result<bool, ErrorReply> {
    let flag = format!("-{option}");
    let out = run(call, "setfiles", &[OsStr::new(&flag)])?;
    Ok(!out.text.contains(&format!("'{option}'")))
}

/// The appliance path of a guest path, resolved inside the guest tree
/// (symlinks cannot lead out of it).
fn resolve(d: &GuestDaemon, call: &str, path: &Pathname) -> Result<PathBuf, ErrorReply> {
    let fd = d
        .root
        .open(path, OFlags::PATH | OFlags::CLOEXEC, Mode::empty())?;
    let real = std::fs::read_link(fd_path(&fd)).map_err(|e| errno_reply(call, path.as_str(), e))?;
    if !real.starts_with(d.root.path()) {
        return Err(invalid(format!(
            "{call}: {path} is not in the guest tree (a filesystem mounted over it?)"
        )));
    }
    Ok(real)
}

fn relabel(
    d: &mut GuestDaemon,
    call: &str,
    specfile: &Pathname,
    paths: &[Pathname],
    force: bool,
) -> Result<(), ErrorReply> {
    if paths.is_empty() {
        return Err(invalid(format!("{call}: give at least one path")));
    }
    let root = d.root.path().to_path_buf();
    let mut argv: Vec<OsString> = Vec::new();
    if force {
        argv.push("-F".into());
    }
    // Never relabelled in an ordinary guest (and not mounted here anyway).
    for dir in ["dev", "proc", "selinux", "sys"] {
        argv.push("-e".into());
        argv.push(root.join(dir).into_os_string());
    }
    // -m: do not put every mountpoint on the exclude list (RHBZ#1433577);
    // -C: relabelling errors alone exit 1; -T 0: one thread per CPU.
    let has_c = has_option(call, 'C')?;
    if has_option(call, 'm')? {
        argv.push("-m".into());
    }
    if has_c {
        argv.push("-C".into());
    }
    if has_option(call, 'T')? {
        argv.extend(["-T".into(), "0".into()]);
    }
    if root != std::path::Path::new("/") {
        argv.extend(["-r".into(), root.clone().into_os_string()]);
    }
    argv.push("-q".into());
    argv.push(resolve(d, call, specfile)?.into_os_string());
    for p in paths {
        argv.push(resolve(d, call, p)?.into_os_string());
    }
    let args: Vec<&OsStr> = argv.iter().map(OsString::as_os_str).collect();
    let out = run(call, "setfiles", &args)?;
    // With -C, 1 means some files could not be relabelled: as libguestfs,
    // the rest are done and the call succeeds.
    if out.code == 0 || (has_c && out.code == 1) {
        Ok(())
    } else {
        Err(failed(call, "setfiles", &out))
    }
}

pub(super) fn setfiles(
    d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    a: calls::setfiles::Args,
) -> Result<(), ErrorReply> {
    let paths = a
        .paths
        .iter()
        .map(|p| Pathname::new(p.as_str()))
        .collect::<Result<Vec<_>, _>>()?;
    relabel(d, "setfiles", &a.specfile, &paths, a.force == Some(true))
}

pub(super) fn selinux_relabel(
    d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    a: calls::selinux_relabel::Args,
) -> Result<(), ErrorReply> {
    relabel(
        d,
        "selinux_relabel",
        &a.specfile,
        std::slice::from_ref(&a.path),
        a.force == Some(true),
    )
}

#[cfg(test)]
mod tests;
