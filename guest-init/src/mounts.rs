//! /proc, /sys, /dev and the tmpfs directories the appliance needs.

use crate::{log, sys};

const NOSUID_NODEV_NOEXEC: libc::c_ulong = libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC;

pub(crate) fn mount_pseudo_filesystems() {
    let table: [(&str, &str, &str, libc::c_ulong); 5] = [
        ("proc", "/proc", "proc", NOSUID_NODEV_NOEXEC),
        ("sysfs", "/sys", "sysfs", NOSUID_NODEV_NOEXEC),
        ("devtmpfs", "/dev", "devtmpfs", libc::MS_NOSUID),
        ("tmpfs", "/tmp", "tmpfs", libc::MS_NOSUID | libc::MS_NODEV),
        ("tmpfs", "/run", "tmpfs", libc::MS_NOSUID | libc::MS_NODEV),
    ];
    for (source, target, fstype, flags) in table {
        if let Err(e) = std::fs::create_dir_all(target) {
            log(&format!("mkdir {target}: {e}"));
        }
        match sys::mount(source, target, fstype, flags) {
            Ok(()) => {}
            // Already mounted (e.g. devtmpfs automount): fine.
            Err(e) if e.raw_os_error() == Some(libc::EBUSY) => {}
            Err(e) => log(&format!("mount {fstype} on {target}: {e}")),
        }
    }
}
