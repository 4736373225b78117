//! The option words of mount_options, and the kernel's names for the
//! filesystem types the prober reports.

use protocol::ErrorReply;
use rustix::mount::MountFlags;

use super::super::util::invalid;

/// mount(8)-style options: flags, and the rest as the data string.
pub(super) fn parse_options(options: &str) -> Result<(MountFlags, String), ErrorReply> {
    let mut flags = MountFlags::empty();
    let mut data = Vec::new();
    for opt in options.split(',').map(str::trim).filter(|o| !o.is_empty()) {
        let (set, clear) = match opt {
            "ro" => (MountFlags::RDONLY, MountFlags::empty()),
            "rw" => (MountFlags::empty(), MountFlags::RDONLY),
            "noatime" => (MountFlags::NOATIME, MountFlags::empty()),
            "atime" => (MountFlags::empty(), MountFlags::NOATIME),
            "nodiratime" => (MountFlags::NODIRATIME, MountFlags::empty()),
            "diratime" => (MountFlags::empty(), MountFlags::NODIRATIME),
            "relatime" => (MountFlags::RELATIME, MountFlags::empty()),
            "norelatime" => (MountFlags::empty(), MountFlags::RELATIME),
            "strictatime" => (MountFlags::STRICTATIME, MountFlags::empty()),
            "nostrictatime" => (MountFlags::empty(), MountFlags::STRICTATIME),
            "lazytime" => (MountFlags::LAZYTIME, MountFlags::empty()),
            "nolazytime" => (MountFlags::empty(), MountFlags::LAZYTIME),
            "nodev" => (MountFlags::NODEV, MountFlags::empty()),
            "dev" => (MountFlags::empty(), MountFlags::NODEV),
            "nosuid" => (MountFlags::NOSUID, MountFlags::empty()),
            "suid" => (MountFlags::empty(), MountFlags::NOSUID),
            "noexec" => (MountFlags::NOEXEC, MountFlags::empty()),
            "exec" => (MountFlags::empty(), MountFlags::NOEXEC),
            "sync" => (MountFlags::SYNCHRONOUS, MountFlags::empty()),
            "async" => (MountFlags::empty(), MountFlags::SYNCHRONOUS),
            "dirsync" => (MountFlags::DIRSYNC, MountFlags::empty()),
            "nosymfollow" => (MountFlags::NOSYMFOLLOW, MountFlags::empty()),
            // fstab-only words that mean nothing to mount(2).
            "defaults" | "auto" | "noauto" | "nofail" | "user" | "nouser" | "_netdev" => continue,
            "remount" | "bind" | "rbind" | "move" => {
                return Err(invalid(format!(
                    "mount_options: \"{opt}\" is not supported: umount and mount again"
                )))
            }
            other => {
                data.push(other);
                continue;
            }
        };
        flags = (flags | set) - clear;
    }
    Ok((flags, data.join(",")))
}

/// Kernel filesystem names for a probed type, tried in order.
pub(super) fn kernel_types(fstype: &str) -> Option<&'static [&'static str]> {
    Some(match fstype {
        "ext2" => &["ext2", "ext4"],
        "ext3" => &["ext3", "ext4"],
        "ext4" | "ext4dev" => &["ext4"],
        "xfs" => &["xfs"],
        "vfat" => &["vfat"],
        "btrfs" => &["btrfs"],
        "iso9660" => &["iso9660"],
        "squashfs" => &["squashfs"],
        "ntfs" => &["ntfs3", "ntfs"],
        _ => return None,
    })
}
