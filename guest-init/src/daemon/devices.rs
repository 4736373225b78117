//! Block devices and what is on them: the disks and partitions the kernel
//! shows in /sys/block, and the signatures on them (read by
//! `guest_formats::probe` from the device opened here). The
//! appliance has no udev: its /dev nodes come from devtmpfs, named as in
//! /sys/block. The listing logic works on any sysfs-like and dev-like
//! directory, so tests run it on fake trees of image files.

#[cfg(test)]
mod tests;

use std::cmp::Ordering;
use std::fs::File;
use std::os::fd::AsRawFd;
use std::path::Path;

use guest_formats::probe::{self, Content, Filesystem};
use guest_formats::FileSource;
use protocol::types::FsEntry;
use protocol::{calls, CallIo, ErrorKind, ErrorReply};

use super::state::GuestDaemon;
use super::util::errno_reply;

const SYS_BLOCK: &str = "/sys/block";
const DEV: &str = "/dev";

/// The whole disks libguestfs lists: SCSI/SATA, IDE, virtio, Xen, UML,
/// NVMe namespaces and MMC cards; not loop, ram, zram, dm or md devices,
/// nor MMC boot/RPMB areas.
fn is_disk(name: &str) -> bool {
    let letters = |rest: &str| !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_lowercase());
    fn digits_then(s: &str) -> Option<&str> {
        let n = s.bytes().take_while(u8::is_ascii_digit).count();
        (n > 0).then(|| s.get(n..)).flatten()
    }
    PREFIXES
        .iter()
        .any(|prefix| name.strip_prefix(prefix).is_some_and(letters))
        || name
            .strip_prefix("nvme")
            .and_then(digits_then)
            .and_then(|r| r.strip_prefix('n'))
            .and_then(digits_then)
            == Some("")
        || name.strip_prefix("mmcblk").and_then(digits_then) == Some("")
}

/// Disk-name prefixes, kept apart from the drive letters when sorting.
const PREFIXES: [&str; 5] = ["xvd", "ubd", "sd", "hd", "vd"];

/// Device-name order: by kind (the sd/vd… prefix), then letter runs by
/// length then bytes (sdz < sdaa), digit runs by value (sda2 < sda10).
fn natural_cmp(a: &str, b: &str) -> Ordering {
    fn runs(s: &str) -> Vec<(bool, usize, &[u8])> {
        let mut out = Vec::new();
        let mut rest = s.as_bytes();
        if let Some(p) = PREFIXES.iter().find(|p| s.starts_with(**p)) {
            out.push((false, p.len(), p.as_bytes()));
            rest = rest.get(p.len()..).unwrap_or_default();
        }
        while let Some(&first) = rest.first() {
            let digit = first.is_ascii_digit();
            let n = rest
                .iter()
                .take_while(|b| b.is_ascii_digit() == digit)
                .count();
            let (run, tail) = rest.split_at(n);
            let run = if digit {
                let zeros = run.iter().take_while(|&&b| b == b'0').count();
                run.get(zeros.min(run.len().saturating_sub(1))..)
                    .unwrap_or(run)
            } else {
                run
            };
            out.push((digit, run.len(), run));
            rest = tail;
        }
        out
    }
    runs(a).cmp(&runs(b)).then_with(|| a.cmp(b))
}

/// A disk and its partitions (name, number), sorted.
struct Disk {
    name: String,
    partitions: Vec<(String, u32)>,
}

fn scan(sys_block: &Path) -> Result<Vec<Disk>, ErrorReply> {
    let entries = std::fs::read_dir(sys_block)
        .map_err(|e| errno_reply("read", &sys_block.to_string_lossy(), e))?;
    let mut disks: Vec<Disk> = entries
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|name| is_disk(name))
        .map(|name| {
            let partitions = partitions_of(&sys_block.join(&name), &name);
            Disk { name, partitions }
        })
        .collect();
    disks.sort_by(|a, b| natural_cmp(&a.name, &b.name));
    Ok(disks)
}

/// The `<disk>*` entries of `/sys/block/<disk>` that have a `partition`
/// file (holding the number). A disk that vanished has none.
fn partitions_of(dir: &Path, disk: &str) -> Vec<(String, u32)> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut parts: Vec<(String, u32)> = entries
        .filter_map(|e| {
            let name = e.ok()?.file_name().into_string().ok()?;
            if !name.starts_with(disk) || name == disk {
                return None;
            }
            let number = std::fs::read_to_string(dir.join(&name).join("partition")).ok()?;
            Some((name, number.trim().parse().unwrap_or(0)))
        })
        .collect();
    parts.sort_by(|a, b| natural_cmp(&a.0, &b.0));
    parts
}

/// The devices findfs and swapon_label search, as blkid would: every
/// disk and partition (list_devices, then list_partitions order), then
/// loop devices in use and their partitions.
pub(super) fn searchable_devices() -> Result<Vec<String>, ErrorReply> {
    let sys_block = Path::new(SYS_BLOCK);
    let disks = scan(sys_block)?;
    let mut out: Vec<String> = disks.iter().map(|d| format!("{DEV}/{}", d.name)).collect();
    for disk in &disks {
        out.extend(disk.partitions.iter().map(|(p, _)| format!("{DEV}/{p}")));
    }
    let entries = std::fs::read_dir(sys_block)
        .map_err(|e| errno_reply("read", &sys_block.to_string_lossy(), e))?;
    let mut loops: Vec<String> = entries
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|name| name.starts_with("loop"))
        .filter(|name| {
            let size = std::fs::read_to_string(sys_block.join(name).join("size"));
            size.is_ok_and(|s| s.trim() != "0")
        })
        .collect();
    loops.sort_by(|a, b| natural_cmp(a, b));
    for name in loops {
        let parts = partitions_of(&sys_block.join(&name), &name);
        out.push(format!("{DEV}/{name}"));
        out.extend(parts.into_iter().map(|(p, _)| format!("{DEV}/{p}")));
    }
    Ok(out)
}

/// What list_filesystems reports, read from `sys_block`, probing the
/// nodes in `dev_dir`: unpartitioned disks, then partitions, each with
/// its filesystem type or "unknown". Partitioned disks, extended
/// partitions, LVM PVs, md members and LUKS containers (libguestfs lists
/// what is in them instead) are left out.
fn filesystems_in(sys_block: &Path, dev_dir: &Path) -> Result<Vec<FsEntry>, ErrorReply> {
    let disks = scan(sys_block)?;
    let mut out = Vec::new();
    let mut report = |name: &str, content: Option<Content>| {
        let fstype = match content {
            Some(Content::Filesystem(fs)) if super::luksmd::is_container(fs.fstype) => return,
            Some(Content::Filesystem(fs)) => fs.fstype,
            _ => "unknown",
        };
        let (device, fstype) = (format!("/dev/{name}"), fstype.to_owned());
        out.push(FsEntry { device, fstype });
    };
    for disk in disks.iter().filter(|d| d.partitions.is_empty()) {
        match probe_path(&dev_dir.join(&disk.name)).ok() {
            Some(Content::PartitionTable(_)) => {}
            content => report(&disk.name, content),
        }
    }
    for disk in &disks {
        let disk_path = dev_dir.join(&disk.name);
        for (part, number) in &disk.partitions {
            let container = File::open(&disk_path)
                .and_then(FileSource::new)
                .and_then(|f| probe::mbr_partition_type(&f, *number))
                .is_ok_and(|t| t.is_some_and(probe::is_extended));
            if !container {
                report(part, probe_path(&dev_dir.join(part)).ok());
            }
        }
    }
    Ok(out)
}

fn probe_path(path: &Path) -> std::io::Result<Content> {
    probe::probe(&FileSource::new(File::open(path)?)?)
}

/// Probes a device named by the caller.
pub(super) fn probe_device(device: &str) -> Result<Content, ErrorReply> {
    let file = File::open(device).map_err(|e| errno_reply("open", device, e))?;
    let dev = FileSource::new(file).map_err(|e| errno_reply("read", device, e))?;
    probe::probe(&dev).map_err(|e| errno_reply("read", device, e))
}

/// The error for a device that holds no filesystem, saying what it holds.
pub(super) fn no_filesystem(call: &str, device: &str, content: &Content) -> ErrorReply {
    let why = match content {
        Content::PartitionTable(t) => format!(
            "it holds a {} partition table: use one of its partitions \
             (list_partitions), such as {device}1",
            t.name()
        ),
        Content::Filesystem(fs) => format!("it holds {}, not a filesystem", fs.fstype),
        Content::Unknown => "no known signature on it (blank, or an unsupported format)".into(),
    };
    ErrorReply::new(
        ErrorKind::Other,
        format!("{call} {device}: no filesystem found: {why}"),
    )
}

pub(super) fn list_devices(
    _d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    _args: calls::list_devices::Args,
) -> Result<calls::list_devices::Ret, ErrorReply> {
    let disks = scan(Path::new(SYS_BLOCK))?;
    Ok(disks
        .into_iter()
        .map(|d| format!("{DEV}/{}", d.name))
        .collect())
}

pub(super) fn list_partitions(
    _d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    _args: calls::list_partitions::Args,
) -> Result<calls::list_partitions::Ret, ErrorReply> {
    let disks = scan(Path::new(SYS_BLOCK))?;
    let parts = disks.into_iter().flat_map(|d| d.partitions);
    Ok(parts.map(|(name, _)| format!("{DEV}/{name}")).collect())
}

pub(super) fn list_filesystems(
    d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    _args: calls::list_filesystems::Args,
) -> Result<calls::list_filesystems::Ret, ErrorReply> {
    let mut found = filesystems_in(Path::new(SYS_BLOCK), Path::new(DEV))?;
    found.extend(super::luksmd::filesystem_candidates());
    found.extend(super::lvm::filesystem_candidates(d)?);
    super::btrfs::add_subvolumes(&mut found);
    Ok(found)
}

pub(super) fn vfs_type(
    _d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    args: calls::vfs_type::Args,
) -> Result<calls::vfs_type::Ret, ErrorReply> {
    let (device, _) = super::btrfs::split_mountable("vfs_type", &args.mountable)?;
    let device = device.as_str();
    // As libguestfs (blkid's TYPE): none on a blank device or a
    // partition table, which is not an error.
    Ok(probed(device)?.fstype.to_owned())
}

/// Label and UUID are "" both for a filesystem without one and for a
/// device without a filesystem, as in libguestfs.
fn probed(device: &str) -> Result<Filesystem, ErrorReply> {
    Ok(match probe_device(device)? {
        Content::Filesystem(fs) => fs,
        _ => Filesystem {
            fstype: "",
            label: String::new(),
            uuid: String::new(),
        },
    })
}

pub(super) fn vfs_label(
    _d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    args: calls::vfs_label::Args,
) -> Result<calls::vfs_label::Ret, ErrorReply> {
    let (device, _) = super::btrfs::split_mountable("vfs_label", &args.mountable)?;
    Ok(probed(device.as_str())?.label)
}

pub(super) fn vfs_uuid(
    _d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    args: calls::vfs_uuid::Args,
) -> Result<calls::vfs_uuid::Ret, ErrorReply> {
    let (device, _) = super::btrfs::split_mountable("vfs_uuid", &args.mountable)?;
    Ok(probed(device.as_str())?.uuid)
}

/// `_IOR(0x12, 114, u64)`; libc does not export it.
const BLKGETSIZE64: u32 = (2 << 30) | (8 << 16) | (0x12 << 8) | 114;

pub(super) fn blockdev_getsize64(
    _d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    args: calls::blockdev_getsize64::Args,
) -> Result<calls::blockdev_getsize64::Ret, ErrorReply> {
    let device = args.device.as_str();
    let file = File::open(device).map_err(|e| errno_reply("open", device, e))?;
    let mut size: u64 = 0;
    // SAFETY: BLKGETSIZE64 writes one u64 through the pointer, which
    // points at `size`, alive for the call; `file` is an open descriptor.
    let rc = unsafe { libc::ioctl(file.as_raw_fd(), BLKGETSIZE64 as _, &mut size as *mut u64) };
    if rc != 0 {
        return Err(errno_reply(
            "blockdev_getsize64",
            device,
            std::io::Error::last_os_error(),
        ));
    }
    i64::try_from(size)
        .map_err(|_| ErrorReply::new(ErrorKind::Other, format!("{device}: size {size} overflows")))
}
