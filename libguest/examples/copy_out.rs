//! Copies a tree out of a disk image into a host directory: the guest's
//! `/etc` (or any path) into `HOSTDIR/etc`.
//!
//! The disk and its filesystems are read-only. The tar stream from the
//! appliance is treated as hostile: nothing is written outside `HOSTDIR`,
//! names that try (`..`, absolute paths, links on the way) are refused,
//! and the guest's symbolic links are stored as links, never followed.
//!
//! ```text
//! cargo run --example copy_out -- disk.img [GUESTPATH [HOSTDIR]]
//! cargo run --example copy_out -- disk.img /etc /tmp/guest-etc
//! ```

mod common;

use std::path::Path;
use std::process::ExitCode;

use libguest::Guest;

fn main() -> ExitCode {
    common::run("DISK.img [GUESTPATH [HOSTDIR]]", |args| {
        let (disk, guest_path, host_dir) = match args.as_slice() {
            [disk] => (disk, "/etc", "."),
            [disk, path] => (disk, path.as_str(), "."),
            [disk, path, dir] => (disk, path.as_str(), dir.as_str()),
            _ => return Ok(false),
        };
        std::fs::create_dir_all(host_dir).map_err(|e| format!("cannot create {host_dir}: {e}"))?;
        let mut g = Guest::new()?;
        g.add_drive_ro(disk)?;
        g.launch()?;
        let root = common::first_os(&mut g)?;
        common::mount_os(&mut g, &root, false)?;
        g.copy_out(guest_path, host_dir)?;
        g.shutdown()?;
        let name = Path::new(guest_path).file_name().unwrap_or_default();
        println!(
            "copied {guest_path} to {}",
            Path::new(host_dir).join(name).display()
        );
        Ok(true)
    })
}
