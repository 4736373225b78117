//! The daemon's calls: one function per API table entry, grouped by what
//! they work on. The `Daemon` trait impl below is only the routing table;
//! `protocol::dispatch` decodes, validates and calls it.
//!
//! Modules depend one way: this routing table → the call modules → the
//! daemon's state (`state`), the guest tree (`root`) and the shared
//! reply helpers (`util`); none of those imports a call module.

mod acl;
mod archive;
mod blockdev;
mod btrfs;
mod caps;
mod command;
mod contents;
mod devices;
mod dirs;
mod dump;
mod files;
mod fill;
mod fstools;
mod identity;
mod inspect;
mod kernel;
mod lists;
mod luksmd;
mod lvm;
mod magic;
mod misc;
mod mkfs;
pub(crate) mod mount;
mod nodes;
mod ops;
mod outputs;
mod parts;
mod paths;
pub(crate) mod root;
mod search;
mod selinux;
mod state;
#[cfg(test)]
pub(crate) mod tests;
mod util;
mod xattrs;

use protocol::{calls, CallIo, Daemon, ErrorReply};

pub(crate) use state::GuestDaemon;

type Reply<T> = Result<T, ErrorReply>;

macro_rules! route {
    ($($module:ident: [$($call:ident),* $(,)?])*) => {
        impl Daemon for GuestDaemon {
            fn root_mounted(&self) -> bool {
                self.mounts.root_mounted()
            }
            $($(
                fn $call(
                    &mut self,
                    io: &mut dyn CallIo,
                    args: calls::$call::Args,
                ) -> Reply<calls::$call::Ret> {
                    $module::$call(self, io, args)
                }
            )*)*
        }
    };
}

route! {
    misc: [ping_daemon, version, debug, internal_poweroff]
    kernel: [dmesg, utsname]
    selinux: [setfiles, selinux_relabel]
    devices: [list_devices, list_partitions, list_filesystems, vfs_type, vfs_label, vfs_uuid, blockdev_getsize64]
    mount: [mount, mount_ro, mount_options, mount_vfs, umount, umount_all, mounts, mountpoints, sync]
    dirs: [ls, ll, readdir, find, statns, lstatns, statvfs, exists, is_file, is_dir, is_symlink, readlink]
    files: [cat, read_file, read_lines, pread, write, write_append, pwrite, truncate, truncate_size, touch, upload, download]
    ops: [mkdir, mkdir_p, rmdir, rm, rm_rf, cp, cp_a, mv, ln_s, chmod, chown, utimens, lchown, rm_f, ln, ln_f, ln_sf, rename, cp_r, copy_attributes]
    search: [checksum, grep]
    archive: [tar_in, tar_out]
    inspect: [inspect_os, inspect_get_type, inspect_get_distro, inspect_get_product_name, inspect_get_major_version, inspect_get_minor_version, inspect_get_arch, inspect_get_hostname, inspect_get_package_format, inspect_get_package_management, inspect_get_mountpoints, inspect_get_filesystems, inspect_list_applications2, inspect_get_roots, inspect_get_product_variant, inspect_get_osinfo, inspect_get_build_id, inspect_get_windows_systemroot, inspect_get_windows_software_hive, inspect_get_windows_system_hive, inspect_get_windows_current_control_set, inspect_get_drive_mappings]
    parts: [part_init, part_add, part_del, part_disk, part_list, part_get_parttype, part_set_name, part_set_gpt_type, part_set_bootable, part_get_mbr_id, part_set_mbr_id, part_get_mbr_part_type, part_get_gpt_type, part_get_gpt_guid, part_set_gpt_guid, part_get_gpt_attributes, part_set_gpt_attributes, part_get_name, part_get_bootable, part_to_dev, part_to_partnum, part_get_disk_guid, part_set_disk_guid, part_set_disk_guid_random, part_expand_gpt, part_resize]
    blockdev: [blockdev_getss, blockdev_getbsz, blockdev_getsz, blockdev_getro, blockdev_setro, blockdev_setrw, blockdev_flushbufs, blockdev_rereadpt, blockdev_setra, device_index, nr_devices, is_whole_device, pread_device, pwrite_device, zero, zero_device, is_zero_device, blkdiscard, blkdiscardzeroes, checksum_device, copy_device_to_device, copy_device_to_file, copy_file_to_device, copy_file_to_file]
    acl: [acl_get_file, acl_set_file, acl_delete_def_file]
    xattrs: [getxattrs, lgetxattrs, getxattr, lgetxattr, setxattr, lsetxattr, removexattr, lremovexattr, lxattrlist]
    caps: [cap_get_file, cap_set_file, cap_remove_file]
    paths: [case_sensitive_path, realpath, glob_expand, find0, filesize, du]
    contents: [head, head_n, tail, tail_n, wc_l, wc_w, wc_c]
    fstools: [mkswap, mkswap_L, mkswap_U, mkswap_file, swapon_device, swapoff_device, swapon_file, swapoff_file, swapon_label, swapoff_label, swapon_uuid, swapoff_uuid, blkid, findfs_label, findfs_uuid, wipefs, zerofree, mke2fs, tune2fs, tune2fs_l, get_e2attrs, set_e2attrs, get_e2generation, set_e2generation, vfs_minimum_size, xfs_info, xfs_info2, xfs_growfs, xfs_admin, xfs_repair, ntfsresize, ntfsfix, ntfs_3g_probe, mksquashfs]
    nodes: [is_blockdev, is_chardev, is_fifo, is_socket, mknod, mknod_b, mknod_c, mkfifo, mkdir_mode, mkdtemp, umask, get_umask]
    dump: [equal, is_zero, strings, strings_e, hexdump]
    fill: [fill, fill_pattern, fill_dir]
    lists: [lstatnslist, readlinklist]
    magic: [file, file_architecture]
    command: [command, command_lines, sh, sh_lines]
    outputs: [cpio_out, base64_in, base64_out, compress_out, compress_device_out, checksums_out]
    btrfs: [mkfs_btrfs, btrfs_subvolume_list, btrfs_subvolume_create, btrfs_subvolume_delete, btrfs_subvolume_snapshot, btrfs_subvolume_get_default, btrfs_subvolume_set_default, btrfs_filesystem_resize]
    identity: [set_uuid, set_uuid_random, set_e2uuid, canonical_device_name]
    luksmd: [cryptsetup_open, cryptsetup_close, luks_format, luks_format_cipher, luks_add_key, luks_kill_slot, luks_uuid, luks_open, luks_open_ro, luks_close, md_create, list_md_devices, md_detail, md_stat, md_stop]
    lvm: [pvs, vgs, lvs, pvs_full, vgs_full, lvs_full, pvcreate, vgcreate, lvcreate, lvcreate_free, lvremove, vgremove, pvremove, lvresize, lvresize_free, pvresize, lvrename, vgrename, lvuuid, vguuid, pvuuid, vglvuuids, vgpvuuids, vg_activate, vg_activate_all, lvm_scan, is_lv, lvm_canonical_lv_name, lvm_set_filter, lvm_clear_filter, list_dm_devices, internal_lvm_pending, internal_lvm_activate, internal_lvm_activate_native]
    mkfs: [mkfs, e2fsck, fsck, resize2fs, set_label, zero_free_space, fstrim, internal_load_tools]
}
