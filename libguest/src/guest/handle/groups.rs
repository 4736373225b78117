//! libguestfs's feature groups (available, feature_available,
//! available_all_groups). A group is available when every call that
//! makes it up in libguestfs is in this build's API table, so the answer
//! follows the table as calls are added and is never hard-coded.

use crate::error::{Error, Result};

/// Each libguestfs group and the libguestfs calls it stands for.
pub(super) const GROUPS: &[(&str, &[&str])] = &[
    (
        "acl",
        &["acl_get_file", "acl_set_file", "acl_delete_def_file"],
    ),
    ("blkdiscard", &["blkdiscard"]),
    ("blkdiscardzeroes", &["blkdiscardzeroes"]),
    (
        "btrfs",
        &[
            "btrfs_subvolume_create",
            "btrfs_subvolume_list",
            "btrfs_filesystem_resize",
        ],
    ),
    ("clevisluks", &["clevis_luks_unlock"]),
    ("extlinux", &["extlinux"]),
    ("f2fs", &["f2fs_expand"]),
    ("fstrim", &["fstrim"]),
    (
        "gdisk",
        &[
            "part_get_gpt_type",
            "part_set_gpt_type",
            "part_expand_gpt",
            "part_get_gpt_guid",
            "part_set_gpt_guid",
            "part_get_disk_guid",
            "part_set_disk_guid",
            "part_set_disk_guid_random",
            "part_get_gpt_attributes",
            "part_set_gpt_attributes",
        ],
    ),
    ("grub", &["grub_install"]),
    (
        "hivex",
        &[
            "hivex_open",
            "hivex_close",
            "hivex_root",
            "hivex_node_children",
            "hivex_node_values",
            "hivex_value_value",
        ],
    ),
    (
        "inotify",
        &[
            "inotify_init",
            "inotify_add_watch",
            "inotify_read",
            "inotify_close",
        ],
    ),
    (
        "journal",
        &[
            "journal_open",
            "journal_next",
            "journal_get",
            "journal_close",
        ],
    ),
    (
        "ldm",
        &["ldmtool_scan", "list_ldm_volumes", "list_ldm_partitions"],
    ),
    ("libtsk", &["filesystem_walk", "download_inode"]),
    ("libyara", &["yara_load", "yara_scan", "yara_destroy"]),
    ("linuxcaps", &["cap_get_file", "cap_set_file"]),
    (
        "linuxfsuuid",
        &["mke2journal_U", "mkswap_U", "swapon_uuid", "swapoff_uuid"],
    ),
    ("linuxmodules", &["modprobe"]),
    (
        "linuxxattrs",
        &[
            "getxattrs",
            "lgetxattrs",
            "getxattr",
            "lgetxattr",
            "setxattr",
            "lsetxattr",
            "removexattr",
            "lremovexattr",
            "lxattrlist",
        ],
    ),
    (
        "luks",
        &[
            "luks_format",
            "luks_open",
            "luks_close",
            "luks_add_key",
            "luks_kill_slot",
        ],
    ),
    (
        "lvm2",
        &[
            "pvcreate", "vgcreate", "lvcreate", "pvs", "vgs", "lvs", "lvremove", "vgremove",
            "pvremove",
        ],
    ),
    (
        "mdadm",
        &["md_create", "md_detail", "md_stop", "list_md_devices"],
    ),
    ("mknod", &["mknod", "mkfifo", "mknod_b", "mknod_c"]),
    ("ntfs3g", &["ntfs_3g_probe", "ntfsfix"]),
    (
        "ntfsprogs",
        &["ntfsresize", "ntfsclone_in", "ntfsclone_out"],
    ),
    ("rsync", &["rsync", "rsync_in", "rsync_out"]),
    ("scrub", &["scrub_device", "scrub_file", "scrub_freespace"]),
    ("selinux", &["getcon", "setcon"]),
    ("selinuxrelabel", &["selinux_relabel"]),
    ("sleuthkit", &["download_blocks", "find_inode"]),
    ("squashfs", &["mksquashfs"]),
    ("syslinux", &["syslinux"]),
    ("wipefs", &["wipefs"]),
    (
        "xfs",
        &["xfs_info", "xfs_growfs", "xfs_admin", "xfs_repair"],
    ),
    ("xz", &["txz_in", "txz_out"]),
    ("zerofree", &["zerofree"]),
];

/// The calls of `group` this build lacks; an unknown group is an error.
fn missing(call: &'static str, group: &str) -> Result<Vec<&'static str>> {
    let (_, calls) = GROUPS
        .iter()
        .find(|(name, _)| *name == group)
        .ok_or_else(|| Error::InvalidArgument {
            call,
            message: format!("{group:?} is not a feature group (available_all_groups lists them)"),
        })?;
    Ok(calls
        .iter()
        .copied()
        .filter(|c| protocol::CallInfo::find(c).is_none())
        .collect())
}

/// Whether every group in `groups` is available.
pub(super) fn all_available(call: &'static str, groups: &[String]) -> Result<bool> {
    for group in groups {
        if !missing(call, group)?.is_empty() {
            return Ok(false);
        }
    }
    Ok(true)
}

/// An error naming the first group that is not available.
pub(super) fn require(call: &'static str, groups: &[String]) -> Result<()> {
    for group in groups {
        let lacking = missing(call, group)?;
        if !lacking.is_empty() {
            return Err(Error::InvalidArgument {
                call,
                message: format!(
                    "feature group {group:?} is not available in this build of libguest: it lacks {}",
                    lacking.join(", ")
                ),
            });
        }
    }
    Ok(())
}
