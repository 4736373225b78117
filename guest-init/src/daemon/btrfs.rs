//! btrfs: mkfs_btrfs, the subvolume calls, filesystem resize, and the
//! `btrfsvol:DEVICE/SUBVOLUME` mountable the mount calls take. The calls
//! run the btrfs tool from the tools layer on a guest directory named
//! through `/proc/PID/fd/N` of a descriptor opened inside the guest root,
//! so a guest symlink cannot point the tool elsewhere. list_filesystems
//! learns the subvolumes with the tree-search ioctl (`scan.rs`), which
//! needs no tool: listing must not wait for the tools layer.

mod mkfs;
mod scan;
mod subvol;
#[cfg(test)]
mod tests;

use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use protocol::types::{Device, Mountable};
use protocol::ErrorReply;
use rustix::mount::{MountFlags, UnmountFlags};

use super::util::{errno_reply, invalid};

pub(super) use mkfs::mkfs_btrfs;
pub(super) use scan::add_subvolumes;
pub(super) use subvol::{
    btrfs_filesystem_resize, btrfs_subvolume_create, btrfs_subvolume_delete,
    btrfs_subvolume_get_default, btrfs_subvolume_list, btrfs_subvolume_set_default,
    btrfs_subvolume_snapshot,
};

/// The device of a mountable and, for `btrfsvol:`, the subvolume. Of the
/// ways to split `btrfsvol:/dev/VG/LV/sub`, the first whose device part is
/// a block device wins, as in libguestfs.
pub(super) fn split_mountable<'a>(
    call: &str,
    m: &'a Mountable,
) -> Result<(Device, Option<&'a str>), ErrorReply> {
    if let Some(device) = m.device() {
        return Ok((device, None));
    }
    for (device, subvol) in m.subvolume_splits() {
        let is_block =
            std::fs::metadata(device.as_str()).is_ok_and(|md| md.file_type().is_block_device());
        if is_block {
            return Ok((device, Some(subvol)));
        }
    }
    Err(ErrorReply::errno(
        libc::ENOENT,
        format!(
            "{call} {m}: no block device in it: write btrfsvol:DEVICE/SUBVOLUME with an existing device (list_filesystems lists them)"
        ),
    ))
}

/// A btrfs filesystem mounted read-only on a directory of its own in the
/// appliance for one call; unmounted and removed on drop.
pub(super) struct TempMount {
    dir: PathBuf,
    mounted: bool,
}

impl TempMount {
    pub(super) fn new(
        call: &str,
        device: &str,
        subvol: Option<&str>,
    ) -> Result<TempMount, ErrorReply> {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("libguest-btrfs-{}-{n}", std::process::id()));
        rustix::fs::mkdir(&dir, rustix::fs::Mode::from_raw_mode(0o700))
            .map_err(|e| errno_reply(&format!("{call}: mkdir"), &dir.to_string_lossy(), e))?;
        let mut tm = TempMount {
            dir,
            mounted: false,
        };
        let sub = subvol.map(|s| format!("subvol={s}"));
        // No log replay: a read-only look must not write the device.
        let mut attempts = vec![match &sub {
            Some(s) => format!("{s},rescue=nologreplay"),
            None => "rescue=nologreplay".to_owned(),
        }];
        attempts.push(sub.unwrap_or_default());
        let mut result = Err(rustix::io::Errno::INVAL);
        for data in &attempts {
            let data = std::ffi::CString::new(data.as_str())
                .map_err(|_| invalid(format!("{call}: the subvolume has a NUL byte")))?;
            result = rustix::mount::mount(
                device,
                &tm.dir,
                "btrfs",
                MountFlags::RDONLY,
                data.as_c_str(),
            );
            if result.is_ok() {
                break;
            }
        }
        result.map_err(|e| errno_reply(&format!("{call}: mount"), device, e))?;
        tm.mounted = true;
        Ok(tm)
    }

    pub(super) fn path(&self) -> &Path {
        &self.dir
    }
}

impl Drop for TempMount {
    fn drop(&mut self) {
        if self.mounted {
            let _ = rustix::mount::unmount(&self.dir, UnmountFlags::DETACH);
        }
        let _ = std::fs::remove_dir(&self.dir);
    }
}
