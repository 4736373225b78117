//! The inspect_os scan: each filesystem is mounted read-only on a private
//! directory of the appliance (never in the guest tree), looked at through
//! a [`Root`], and unmounted. Read-only means no journal replay either
//! (`noload` for ext3/4, `norecovery` for xfs, as libguestfs does), so
//! inspecting never writes to the disk.

use std::cmp::Ordering;
use std::ffi::CStr;
use std::io;
use std::path::Path;

use guest_formats::probe::Content;
use protocol::types::{Device, MountEntry, Mountable};
use rustix::io::Errno;
use rustix::mount::{MountFlags, UnmountFlags};

use super::types::{FsDevice, Mounter, OsFacts, OsInfo};
use super::{drives, fstab, linux, windows};
use crate::daemon::btrfs::split_mountable;
use crate::daemon::devices::probe_device;
use crate::daemon::root::Root;
use crate::log;

/// The filesystems among `devices` (swap and LVM PVs included: fstab
/// names them too).
pub(crate) fn probe_all(devices: &[String]) -> Vec<FsDevice> {
    devices
        .iter()
        .filter_map(|device| {
            // A btrfs subvolume is inspected as a filesystem of its own
            // (Fedora's root and home), with its device's label and UUID.
            let (probed, _) = split(device)?;
            match probe_device(probed.as_str()) {
                Ok(Content::Filesystem(fs)) => Some(FsDevice {
                    device: device.clone(),
                    fstype: fs.fstype.to_owned(),
                    label: fs.label,
                    uuid: fs.uuid,
                }),
                _ => None,
            }
        })
        .collect()
}

/// A listed mountable's device and btrfs subvolume (None for a device).
fn split(mountable: &str) -> Option<(Device, Option<String>)> {
    let m = Mountable::new(mountable).ok()?;
    let (device, subvol) = split_mountable("inspect_os", &m).ok()?;
    Some((device, subvol.map(str::to_owned)))
}

/// Kernel type and options for an inspection mount, tried in order.
fn mount_attempts(fstype: &str) -> &'static [(&'static str, &'static CStr)] {
    match fstype {
        "ext2" => &[("ext2", c""), ("ext4", c"")],
        "ext3" => &[("ext3", c"noload"), ("ext4", c"noload")],
        "ext4" | "ext4dev" => &[("ext4", c"noload")],
        "xfs" => &[("xfs", c"norecovery")],
        "btrfs" => &[("btrfs", c"rescue=nologreplay"), ("btrfs", c"")],
        "ntfs" => &[("ntfs3", c""), ("ntfs", c"")],
        "vfat" => &[("vfat", c"")],
        "iso9660" => &[("iso9660", c"")],
        _ => &[],
    }
}

/// The appliance's mounter: mount(2), read-only, nosuid, nodev, noexec.
pub(crate) fn kernel_mount(fs: &FsDevice, target: &Path) -> io::Result<()> {
    let flags = MountFlags::RDONLY | MountFlags::NOSUID | MountFlags::NODEV | MountFlags::NOEXEC;
    let Some((device, subvol)) = split(&fs.device) else {
        return Err(io::Error::from(Errno::NODEV));
    };
    let mut result = Err(Errno::NODEV);
    for (kernel_type, data) in mount_attempts(&fs.fstype) {
        let data = match &subvol {
            // The subvolume name was checked: no comma, no NUL.
            Some(sub) => {
                let d = data.to_string_lossy();
                let opts = if d.is_empty() {
                    format!("subvol={sub}")
                } else {
                    format!("subvol={sub},{d}")
                };
                std::ffi::CString::new(opts).map_err(|_| Errno::INVAL)?
            }
            None => (*data).to_owned(),
        };
        result = rustix::mount::mount(
            device.as_str(),
            target,
            *kernel_type,
            flags,
            data.as_c_str(),
        );
        if result.is_ok() {
            break;
        }
    }
    result.map_err(io::Error::from)
}

fn unmount(target: &Path) {
    for _ in 0..20 {
        match rustix::mount::unmount(target, UnmountFlags::NOFOLLOW) {
            Err(Errno::BUSY) => std::thread::sleep(std::time::Duration::from_millis(10)),
            Err(e) => {
                log(&format!("inspect: umount {}: {e}", target.display()));
                return;
            }
            Ok(()) => return,
        }
    }
    if let Err(e) = rustix::mount::unmount(target, UnmountFlags::DETACH | UnmountFlags::NOFOLLOW) {
        log(&format!("inspect: umount -l {}: {e}", target.display()));
    }
}

/// Mounts each filesystem in turn on `base/N` and returns the OS roots
/// found, sorted by device. `cancelled` is asked between filesystems.
pub(crate) fn inspect_devices(
    devices: &[FsDevice],
    base: &Path,
    mounter: &Mounter,
    cancelled: &dyn Fn() -> bool,
) -> io::Result<Vec<OsInfo>> {
    std::fs::create_dir_all(base)?;
    let mut roots = Vec::new();
    let mut usrs = Vec::new();
    let names: Vec<String> = devices.iter().map(|d| d.device.clone()).collect();
    let disks = drives::disks_of(&names);
    let resolve = |blob: &[u8]| drives::resolve(&disks, blob);
    for (n, fs) in devices.iter().enumerate() {
        if cancelled() {
            return Err(io::Error::from_raw_os_error(libc::ECANCELED));
        }
        if mount_attempts(&fs.fstype).is_empty() {
            continue;
        }
        let dir = base.join(n.to_string());
        std::fs::create_dir_all(&dir)?;
        if let Err(e) = mounter(fs, &dir) {
            log(&format!(
                "inspect: {} ({}): cannot mount: {e}",
                fs.device, fs.fstype
            ));
            let _ = std::fs::remove_dir(&dir);
            continue;
        }
        // Every descriptor opened below is closed before the unmount.
        let found = classify(&Root::new(&dir), fs, devices, &resolve);
        unmount(&dir);
        let _ = std::fs::remove_dir(&dir);
        match found {
            Some(Found::Root(info)) => roots.push(info),
            Some(Found::Usr { facts, coreos }) => usrs.push((fs.device.clone(), facts, coreos)),
            None => {}
        }
    }
    merge_usr(&mut roots, &usrs);
    roots.sort_by(|a, b| natural_cmp(&a.root, &b.root));
    Ok(roots)
}

/// Completes roots from their separate /usr, as libguestfs's
/// collect_linux_inspection_info and collect_coreos_inspection_info: a
/// Linux root takes what it lacks from the /usr its fstab mounts; a
/// CoreOS root from the CoreOS /usr with the highest version (USR-A and
/// USR-B), which is then mounted on /usr.
fn merge_usr(roots: &mut [OsInfo], usrs: &[(String, OsFacts, bool)]) {
    for root in roots.iter_mut() {
        if root.facts.os_type != "linux" {
            continue;
        }
        if root.facts.distro == "coreos" {
            let newest = usrs
                .iter()
                .filter(|(_, _, coreos)| *coreos)
                .max_by_key(|(_, f, _)| (f.major, f.minor));
            if let Some((device, facts, _)) = newest {
                root.facts.fill_from(facts);
                root.mountpoints.push(MountEntry {
                    device: device.clone(),
                    mountpoint: "/usr".into(),
                });
                root.filesystems.push(device.clone());
            }
            continue;
        }
        let usr = usrs
            .iter()
            .find(|(device, _, _)| root.filesystems[1..].contains(device));
        if let Some((_, facts, _)) = usr {
            root.facts.fill_from(facts);
        }
    }
}

/// Device-name order: digit runs compare by value (sda2 < sda10).
pub(super) fn natural_cmp(a: &str, b: &str) -> Ordering {
    fn runs(s: &str) -> Vec<(bool, u128, &str)> {
        let mut out = Vec::new();
        let mut rest = s;
        while let Some(first) = rest.chars().next() {
            let digit = first.is_ascii_digit();
            let n = rest
                .find(|c: char| c.is_ascii_digit() != digit)
                .unwrap_or(rest.len());
            let (run, tail) = rest.split_at(n);
            let value = if digit {
                run.parse().unwrap_or(u128::MAX)
            } else {
                0
            };
            out.push((digit, value, run));
            rest = tail;
        }
        out
    }
    runs(a).cmp(&runs(b)).then_with(|| a.cmp(b))
}

/// What one mounted filesystem is to inspection.
enum Found {
    Root(OsInfo),
    /// A separate /usr (its facts complete its root's).
    Usr {
        facts: OsFacts,
        coreos: bool,
    },
}

/// What one mounted filesystem is, if it is an OS root.
#[cfg(test)]
pub(crate) fn inspect_mounted(root: &Root, fs: &FsDevice, devices: &[FsDevice]) -> Option<OsInfo> {
    match classify(root, fs, devices, &|_| None)? {
        Found::Root(info) => Some(info),
        Found::Usr { .. } => None,
    }
}

fn classify(
    root: &Root,
    fs: &FsDevice,
    devices: &[FsDevice],
    drives: &windows::DriveResolver<'_>,
) -> Option<Found> {
    let linux = linux::detect(root);
    if let Some(linux::LinuxFs::Usr { facts, coreos }) = linux {
        return Some(Found::Usr { facts, coreos });
    }
    if let Some(linux::LinuxFs::Root(facts, entries)) = linux {
        let mut mountpoints = vec![MountEntry {
            device: fs.device.clone(),
            mountpoint: "/".into(),
        }];
        let mut filesystems = vec![fs.device.clone()];
        for entry in &entries {
            let Some(device) = fstab::resolve_entry(entry, devices) else {
                continue;
            };
            if entry.mountpoint != "/"
                && entry.is_reported_mount()
                && !mountpoints.iter().any(|m| m.mountpoint == entry.mountpoint)
            {
                mountpoints.push(MountEntry {
                    device: device.clone(),
                    mountpoint: entry.mountpoint.clone(),
                });
            } else if !entry.is_swap() {
                continue;
            }
            if !filesystems.contains(&device) {
                filesystems.push(device);
            }
        }
        // Parents before children: the order to mount them in.
        let depth = |m: &MountEntry| m.mountpoint.split('/').filter(|c| !c.is_empty()).count();
        mountpoints.sort_by(|a, b| {
            depth(a)
                .cmp(&depth(b))
                .then(a.mountpoint.cmp(&b.mountpoint))
        });
        return Some(Found::Root(OsInfo {
            root: fs.device.clone(),
            facts,
            mountpoints,
            filesystems,
        }));
    }
    let facts = windows::detect(root, drives)?;
    Some(Found::Root(OsInfo {
        root: fs.device.clone(),
        facts,
        mountpoints: vec![MountEntry {
            device: fs.device.clone(),
            mountpoint: "/".into(),
        }],
        filesystems: vec![fs.device.clone()],
    }))
}
