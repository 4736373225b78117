//! mount, umount and the mount table. Guest filesystems go under the root
//! directory (`/sysroot`), "/" first. Every other mountpoint is resolved
//! inside the guest tree and mounted through `/proc/self/fd/N`, so a guest
//! symlink cannot send a mount elsewhere in the appliance; an unmount
//! first re-checks that the recorded path still names that mount. The
//! kernel needs the filesystem type: it comes from our prober, as the
//! appliance has no blkid (and no udev: /dev is devtmpfs).

mod options;
pub(crate) mod table;
#[cfg(test)]
mod tests;

use std::ffi::CString;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};

use guest_formats::probe::Content;
use protocol::types::{MountEntry, Mountable, Pathname};
use protocol::{calls, CallIo, ErrorKind, ErrorReply};
use rustix::fs::{Mode, OFlags};
use rustix::io::Errno;
use rustix::mount::{MountFlags, UnmountFlags};

use super::devices::{no_filesystem, probe_device};
use super::root::fd_path;
use super::state::GuestDaemon;
use super::util::{errno_reply, invalid};
use options::{kernel_types, parse_options};
use table::MountRecord;

fn busy(message: String) -> ErrorReply {
    ErrorReply::errno(libc::EBUSY, message)
}

/// "/", "//", "/." and the like: the guest root itself.
fn names_root(path: &str) -> bool {
    path.split('/').all(|c| c.is_empty() || c == ".")
}

/// `/a//b/./c/` → `/a/b/c`; `..` is left for the resolver.
fn tidy(path: &str) -> String {
    let parts: Vec<&str> = path
        .split('/')
        .filter(|c| !c.is_empty() && *c != ".")
        .collect();
    format!("/{}", parts.join("/"))
}

/// The appliance path an open descriptor names.
fn fd_target(fd: &OwnedFd) -> Result<PathBuf, ErrorReply> {
    std::fs::read_link(fd_path(fd)).map_err(|e| errno_reply("readlink", "/proc/self/fd", e))
}

/// The guest path of an appliance path below the root ("/boot").
fn guest_path(d: &GuestDaemon, at: &Path) -> Result<String, ErrorReply> {
    let root = fd_target(&d.root.dir()?)?;
    let rest = at
        .strip_prefix(&root)
        .map_err(|_| invalid(format!("{} is outside the guest root", at.display())))?;
    Ok(tidy(&format!("/{}", rest.to_string_lossy())))
}

/// How a mount is asked for: its flags, its data (options for the
/// kernel) and the filesystem type, if the caller named one (mount_vfs).
struct Request<'a> {
    flags: MountFlags,
    data: &'a str,
    vfstype: Option<&'a str>,
}

fn do_mount(
    d: &mut GuestDaemon,
    call: &str,
    mountable: &Mountable,
    mountpoint: &Pathname,
    req: Request<'_>,
) -> Result<(), ErrorReply> {
    let Request {
        flags,
        data,
        vfstype,
    } = req;
    // A btrfsvol: mountable is its device mounted with subvol=.
    let (device, subvol) = super::btrfs::split_mountable(call, mountable)?;
    let data = match subvol {
        Some(sub) if data.is_empty() => format!("subvol={sub}"),
        Some(sub) => format!("subvol={sub},{data}"),
        None => data.to_owned(),
    };
    let (dev, mp) = (device.as_str(), mountpoint.as_str());
    let name = mountable.as_str();
    let is_root = names_root(mp);
    // Held until mount(2) returns: the target is /proc/self/fd/N.
    let mut target_fd = None;
    let (target, guest_mp) = if !d.mounts.root_mounted() {
        if !is_root {
            let msg = format!("{call} {dev} on {mp}: mount a filesystem on / first");
            return Err(ErrorReply::new(ErrorKind::NotMounted, msg));
        }
        (d.root.path().to_path_buf(), "/".to_owned())
    } else {
        let fd = d
            .root
            .open(mountpoint, OFlags::PATH | OFlags::DIRECTORY, Mode::empty())?;
        let guest = guest_path(d, &fd_target(&fd)?)?;
        if let Some(m) = d.mounts.mounts.iter().find(|m| m.mountpoint == guest) {
            let what = if guest == "/" {
                "/ is already mounted"
            } else {
                "already a mountpoint"
            };
            return Err(busy(format!(
                "{call} {dev} on {mp}: {what} ({} is there)",
                m.device
            )));
        }
        let path = fd_path(&fd);
        target_fd = Some(fd);
        (path, guest)
    };
    if let Some(i) = d.mounts.by_device(name) {
        let on = &d.mounts.mounts[i].mountpoint;
        return Err(busy(format!("{call} {name}: already mounted on {on}")));
    }
    let content = probe_device(dev)?;
    let fs = match &content {
        Content::Filesystem(fs) => fs,
        other => return Err(no_filesystem(call, dev, other)),
    };
    if subvol.is_some() && fs.fstype != "btrfs" {
        return Err(invalid(format!(
            "{call} {name}: {dev} holds {}, not btrfs: btrfsvol: names a btrfs subvolume",
            fs.fstype
        )));
    }
    let named = vfstype.map(|t| [t]);
    let types: &[&str] = match &named {
        Some(t) => t,
        None => kernel_types(fs.fstype).ok_or_else(|| {
            invalid(format!(
                "{call} {dev}: it holds {}, which cannot be mounted",
                fs.fstype
            ))
        })?,
    };
    let data = CString::new(data).map_err(|_| invalid(format!("{call}: options contain a NUL")))?;
    let attempt = |flags: MountFlags| {
        let mut result = Err(Errno::NODEV);
        for kernel_type in types {
            result = rustix::mount::mount(dev, &target, *kernel_type, flags, data.as_c_str());
            if result != Err(Errno::NODEV) {
                break;
            }
        }
        result
    };
    let mut result = attempt(flags);
    // Like mount(8): a write-protected device is mounted read-only.
    if matches!(result, Err(Errno::ROFS | Errno::ACCESS)) && !flags.contains(MountFlags::RDONLY) {
        result = attempt(flags | MountFlags::RDONLY);
    }
    drop(target_fd);
    result.map_err(|e| errno_reply(&format!("{call} {dev} on"), mp, e))?;
    let appliance_path = if is_root && guest_mp == "/" {
        d.root.path().to_path_buf()
    } else {
        d.root.path().join(guest_mp.trim_start_matches('/'))
    };
    d.mounts.mounts.push(MountRecord {
        device: name.to_owned(),
        mountpoint: guest_mp,
        appliance_path,
    });
    Ok(())
}

pub(super) fn mount(
    d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    args: calls::mount::Args,
) -> Result<calls::mount::Ret, ErrorReply> {
    let req = Request {
        flags: MountFlags::empty(),
        data: "",
        vfstype: None,
    };
    do_mount(d, "mount", &args.mountable, &args.mountpoint, req)
}

pub(super) fn mount_ro(
    d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    args: calls::mount_ro::Args,
) -> Result<calls::mount_ro::Ret, ErrorReply> {
    let req = Request {
        flags: MountFlags::RDONLY,
        data: "",
        vfstype: None,
    };
    do_mount(d, "mount_ro", &args.mountable, &args.mountpoint, req)
}

pub(super) fn mount_options(
    d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    args: calls::mount_options::Args,
) -> Result<calls::mount_options::Ret, ErrorReply> {
    let (flags, data) = parse_options(&args.options)?;
    let req = Request {
        flags,
        data: &data,
        vfstype: None,
    };
    do_mount(d, "mount_options", &args.mountable, &args.mountpoint, req)
}

pub(super) fn mount_vfs(
    d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    args: calls::mount_vfs::Args,
) -> Result<calls::mount_vfs::Ret, ErrorReply> {
    let vfstype = args.vfstype.as_str();
    if vfstype.is_empty()
        || vfstype.len() > 64
        || !vfstype
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
    {
        return Err(invalid(format!(
            "mount_vfs: {vfstype:?} is not a filesystem type (such as ext4, xfs, btrfs)"
        )));
    }
    let (flags, data) = parse_options(&args.options)?;
    let req = Request {
        flags,
        data: &data,
        vfstype: Some(vfstype),
    };
    do_mount(d, "mount_vfs", &args.mountable, &args.mountpoint, req)
}

/// The record a umount argument names: a device, or a mountpoint (as
/// recorded, or resolved in the guest tree).
fn find_record(d: &GuestDaemon, what: &str) -> Result<usize, ErrorReply> {
    let not_mounted = || ErrorReply::errno(libc::EINVAL, format!("umount {what}: not mounted"));
    if what.starts_with("/dev/") || what.starts_with(protocol::types::BTRFSVOL) {
        return d.mounts.by_device(what).ok_or_else(not_mounted);
    }
    if !what.starts_with('/') {
        return Err(invalid(format!(
            "umount {what}: give a mountpoint or a /dev device"
        )));
    }
    let tidied = tidy(what);
    if let Some(i) = d.mounts.mounts.iter().position(|m| m.mountpoint == tidied) {
        return Ok(i);
    }
    let fd = d
        .root
        .open_str(what, OFlags::PATH | OFlags::DIRECTORY, Mode::empty())
        .map_err(|_| not_mounted())?;
    let guest = guest_path(d, &fd_target(&fd)?)?;
    d.mounts
        .mounts
        .iter()
        .position(|m| m.mountpoint == guest)
        .ok_or_else(not_mounted)
}

/// Unmounts record `i` (kept in the table on failure), syncing it first.
fn unmount(d: &mut GuestDaemon, i: usize, flags: UnmountFlags) -> Result<(), ErrorReply> {
    let rec = &d.mounts.mounts[i];
    let path = if rec.mountpoint == "/" {
        let fd = d
            .root
            .open_str("/", OFlags::RDONLY | OFlags::DIRECTORY, Mode::empty())?;
        rustix::fs::syncfs(&fd).map_err(|e| errno_reply("sync", "/", e))?;
        rec.appliance_path.clone()
    } else {
        // The tree may have changed since (mv, ln_s): unmount only if the
        // recorded path still leads, symlink-free, to the same place.
        let fd = d.root.open_str(
            &rec.mountpoint,
            OFlags::RDONLY | OFlags::DIRECTORY,
            Mode::empty(),
        )?;
        let at = fd_target(&fd)?;
        let root = fd_target(&d.root.dir()?)?;
        if at != root.join(rec.mountpoint.trim_start_matches('/')) {
            let msg = format!("umount {}: it moved since it was mounted", rec.mountpoint);
            return Err(ErrorReply::new(ErrorKind::Other, msg));
        }
        // Writes reach the disk before success is reported, even when a
        // lazy unmount finishes later.
        rustix::fs::syncfs(&fd).map_err(|e| errno_reply("sync", &rec.mountpoint, e))?;
        at
    };
    // EBUSY can be a passing reference: a child forked elsewhere in the
    // process holds copies of our descriptors until it execs.
    let mut tries = 0;
    loop {
        match rustix::mount::unmount(&path, flags | UnmountFlags::NOFOLLOW) {
            Err(Errno::BUSY) if tries < 20 => {
                tries += 1;
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            Err(e) => return Err(errno_reply("umount", &rec.mountpoint, e)),
            Ok(()) => break,
        }
    }
    d.mounts.mounts.remove(i);
    Ok(())
}

/// Another mount below record `i`'s mountpoint.
fn mounted_below(d: &GuestDaemon, i: usize) -> Option<&MountRecord> {
    let mp = &d.mounts.mounts[i].mountpoint;
    let prefix = if mp == "/" {
        "/".to_owned()
    } else {
        format!("{mp}/")
    };
    d.mounts
        .mounts
        .iter()
        .find(|m| m.mountpoint != *mp && m.mountpoint.starts_with(&prefix))
}

pub(super) fn umount(
    d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    args: calls::umount::Args,
) -> Result<calls::umount::Ret, ErrorReply> {
    let i = find_record(d, &args.pathordevice)?;
    if let Some(below) = mounted_below(d, i) {
        return Err(busy(format!(
            "umount {}: {} is still mounted below it (unmount it first, or use umount_all)",
            d.mounts.mounts[i].mountpoint, below.mountpoint
        )));
    }
    let mut flags = UnmountFlags::empty();
    if args.force.unwrap_or(false) {
        flags |= UnmountFlags::FORCE;
    }
    if args.lazyunmount.unwrap_or(false) {
        flags |= UnmountFlags::DETACH;
    }
    unmount(d, i, flags)
}

pub(super) fn umount_all(
    d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    _args: calls::umount_all::Args,
) -> Result<calls::umount_all::Ret, ErrorReply> {
    // Deepest first; among equals, the latest mounted first.
    let depth = |m: &MountRecord| m.mountpoint.split('/').filter(|c| !c.is_empty()).count();
    while let Some((i, _)) = d
        .mounts
        .mounts
        .iter()
        .enumerate()
        .max_by_key(|(_, m)| depth(m))
    {
        unmount(d, i, UnmountFlags::empty())?;
    }
    rustix::fs::sync();
    Ok(())
}

pub(super) fn mounts(
    d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    _args: calls::mounts::Args,
) -> Result<calls::mounts::Ret, ErrorReply> {
    Ok(d.mounts.mounts.iter().map(|m| m.device.clone()).collect())
}

pub(super) fn mountpoints(
    d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    _args: calls::mountpoints::Args,
) -> Result<calls::mountpoints::Ret, ErrorReply> {
    let entry = |m: &MountRecord| MountEntry {
        device: m.device.clone(),
        mountpoint: m.mountpoint.clone(),
    };
    Ok(d.mounts.mounts.iter().map(entry).collect())
}

pub(super) fn sync(
    _d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    _args: calls::sync::Args,
) -> Result<calls::sync::Ret, ErrorReply> {
    rustix::fs::sync();
    Ok(())
}
