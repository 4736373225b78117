//! Filesystem and swap calls that run the standard tools (mkswap, blkid,
//! wipefs, zerofree, mke2fs, tune2fs, xfs_*, ntfs*, mksquashfs) through
//! the tools layer, and the ones done with system calls (swapon/swapoff,
//! ext2 attributes) or our own prober (findfs).

mod attrs;
mod blkid;
mod ext2;
mod ntfs;
mod squashfs;
mod swap;
#[cfg(test)]
mod tests;
mod xfs;
mod xfs_info2;

use std::ffi::{OsStr, OsString};
use std::os::fd::{AsRawFd, OwnedFd};

pub(super) use attrs::{get_e2attrs, get_e2generation, set_e2attrs, set_e2generation};
pub(super) use blkid::{blkid, findfs_label, findfs_uuid, wipefs, zerofree};
pub(super) use ext2::{mke2fs, tune2fs, tune2fs_l, vfs_minimum_size};
pub(super) use ntfs::{ntfs_3g_probe, ntfsfix, ntfsresize};
pub(super) use squashfs::mksquashfs;
pub(super) use swap::{
    mkswap, mkswap_L, mkswap_U, mkswap_file, swapoff_device, swapoff_file, swapoff_label,
    swapoff_uuid, swapon_device, swapon_file, swapon_label, swapon_uuid,
};
pub(super) use xfs::{xfs_admin, xfs_growfs, xfs_info, xfs_repair};
pub(super) use xfs_info2::xfs_info2;

/// A path a child process can open to reach one of our descriptors
/// (`/proc/self` would be the child's own). Valid while `fd` lives.
fn child_fd_path(fd: &OwnedFd) -> OsString {
    format!("/proc/{}/fd/{}", std::process::id(), fd.as_raw_fd()).into()
}

/// An argument list as the tool runner takes it.
fn os_args(args: &[OsString]) -> Vec<&OsStr> {
    args.iter().map(OsString::as_os_str).collect()
}

/// Key/value pairs from `KEY<sep>value` lines (blkid -o export).
fn split_pairs(text: &str, sep: char) -> Vec<(String, String)> {
    text.lines()
        .filter_map(|line| line.split_once(sep))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}
