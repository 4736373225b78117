//! lstatnslist and readlinklist: lstat and readlink of many names in one
//! directory in one round trip. Each name is resolved as `dir/name`
//! inside the guest root (so a name with `/` or `..` cannot leave it);
//! a name that fails gets st_ino -1 or "", as libguestfs.

use std::os::fd::OwnedFd;

use protocol::types::{Pathname, Statns};
use protocol::{calls, CallIo, ErrorReply};
use rustix::fs::{FileType, Mode, OFlags};

use super::dirs::to_statns;
use super::root::Root;
use super::state::GuestDaemon;
use super::util::{check_cancel, Budget};

#[cfg(test)]
mod tests;

/// `dir/name` opened O_PATH without following a final symlink; None when
/// the name is empty or the lookup fails.
fn open_name(root: &Root, dir: &Pathname, name: &str) -> Option<OwnedFd> {
    if name.is_empty() {
        return None;
    }
    let path = Pathname::new(format!("{}/{name}", dir.as_str().trim_end_matches('/'))).ok()?;
    root.open(&path, OFlags::PATH | OFlags::NOFOLLOW, Mode::empty())
        .ok()
}

fn failed_stat() -> Statns {
    // libguestfs's marker for an entry it could not stat: ino -1.
    Statns {
        st_ino: -1,
        ..Statns::default()
    }
}

/// The directory must exist (an error otherwise, as libguestfs).
fn check_dir(root: &Root, dir: &Pathname) -> Result<(), ErrorReply> {
    root.open(dir, OFlags::PATH | OFlags::DIRECTORY, Mode::empty())
        .map(drop)
}

pub(super) fn lstatnslist(
    d: &mut GuestDaemon,
    io: &mut dyn CallIo,
    args: calls::lstatnslist::Args,
) -> Result<Vec<Statns>, ErrorReply> {
    check_dir(&d.root, &args.path)?;
    let mut budget = Budget::new("lstatnslist", args.path.as_str());
    let mut out = Vec::with_capacity(args.names.len().min(1 << 16));
    for (i, name) in args.names.iter().enumerate() {
        if i % 256 == 0 {
            check_cancel(io)?;
        }
        // 16 fields of at most 10 bytes each.
        budget.add_raw(160)?;
        let st = open_name(&d.root, &args.path, name).and_then(|fd| rustix::fs::fstat(&fd).ok());
        out.push(st.as_ref().map_or_else(failed_stat, to_statns));
    }
    Ok(out)
}

pub(super) fn readlinklist(
    d: &mut GuestDaemon,
    io: &mut dyn CallIo,
    args: calls::readlinklist::Args,
) -> Result<Vec<String>, ErrorReply> {
    check_dir(&d.root, &args.path)?;
    let mut budget = Budget::new("readlinklist", args.path.as_str());
    let mut out = Vec::with_capacity(args.names.len().min(1 << 16));
    for (i, name) in args.names.iter().enumerate() {
        if i % 256 == 0 {
            check_cancel(io)?;
        }
        let target = open_name(&d.root, &args.path, name)
            .filter(|fd| {
                rustix::fs::fstat(fd)
                    .is_ok_and(|st| FileType::from_raw_mode(st.st_mode) == FileType::Symlink)
            })
            .and_then(|fd| rustix::fs::readlinkat(&fd, "", Vec::new()).ok())
            .map(|t| String::from_utf8_lossy(t.as_bytes()).into_owned())
            .unwrap_or_default();
        budget.add(target.len())?;
        out.push(target);
    }
    Ok(out)
}
