//! The appliance's /dev, /dev/pts, /proc and /sys bound onto the same
//! directories of the guest tree while a guest program runs, as
//! libguestfs does. A directory the guest lacks (or has as a symlink)
//! is skipped; the targets are resolved inside the guest root, so a
//! hostile symlink cannot place a bind outside it. Dropping [`Binds`]
//! detaches every bind, in reverse order, on every path out of the call.

use std::os::fd::{AsRawFd, OwnedFd};
use std::path::Path;

use protocol::ErrorReply;
use rustix::fs::{Mode, OFlags};
use rustix::mount::UnmountFlags;

use crate::daemon::root::Root;
use crate::daemon::util::errno_reply;

/// In mount order: /dev/pts goes onto the /dev bound before it.
const BOUND: [&str; 4] = ["/dev", "/dev/pts", "/proc", "/sys"];

pub(super) struct Binds {
    /// O_PATH descriptors on the root of each bind: unmounting through
    /// them detaches exactly our mount, whatever the program mounted
    /// over it or did to the names leading to it.
    mounted: Vec<OwnedFd>,
}

fn fd_path(fd: &OwnedFd) -> String {
    format!("/proc/self/fd/{}", fd.as_raw_fd())
}

impl Binds {
    pub(super) fn new(root: &Root, call: &str) -> Result<Binds, ErrorReply> {
        let mut binds = Binds {
            mounted: Vec::new(),
        };
        let flags = OFlags::PATH | OFlags::DIRECTORY | OFlags::NOFOLLOW;
        for dir in BOUND {
            // The appliance has no devpts: nothing to bind then.
            if !Path::new(dir).is_dir() {
                continue;
            }
            let Ok(target) = root.open_str(dir, flags, Mode::empty()) else {
                continue;
            };
            // Where the bind lands, as an appliance path.
            let real = std::fs::read_link(fd_path(&target))
                .map_err(|e| errno_reply(&format!("{call}: readlink"), dir, e))?;
            rustix::mount::mount_bind(dir, fd_path(&target))
                .map_err(|e| errno_reply(&format!("{call}: bind {dir} onto"), dir, e))?;
            // The same name now leads to the bind's root.
            match rustix::fs::open(&real, flags | OFlags::CLOEXEC, Mode::empty()) {
                Ok(top) => binds.mounted.push(top),
                Err(e) => {
                    // Not tracked, so undone here.
                    let _ = rustix::mount::unmount(
                        &real,
                        UnmountFlags::DETACH | UnmountFlags::NOFOLLOW,
                    );
                    return Err(errno_reply(&format!("{call}: open"), dir, e));
                }
            }
        }
        Ok(binds)
    }
}

impl Drop for Binds {
    fn drop(&mut self) {
        while let Some(top) = self.mounted.pop() {
            // Detached: a process the program left behind may keep it busy.
            let _ = rustix::mount::unmount(fd_path(&top), UnmountFlags::DETACH);
        }
    }
}
