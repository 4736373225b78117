//! Inspects a disk image: the operating systems on it (their root
//! filesystems), each one's type, distribution, version, architecture,
//! hostname and package manager, its mountpoints, and how many
//! applications it has installed.
//!
//! The disks are added read-only, so not one byte (nor an mtime) of them
//! changes, and the filesystems are mounted read-only too.
//!
//! ```text
//! cargo run --example inspect -- disk.img [more disks of the same VM ...]
//! ```
//!
//! Where this host's KVM cannot run the appliance, libguest says so in one
//! line and runs it under qemu TCG instead: slower, same results.

mod common;

use std::process::ExitCode;

use libguest::Guest;

fn main() -> ExitCode {
    common::run("DISK.img...", |disks| {
        if disks.is_empty() {
            return Ok(false);
        }
        let mut g = Guest::new()?;
        for disk in &disks {
            g.add_drive_ro(disk)?;
        }
        g.launch()?;
        let roots = g.inspect_os()?;
        if roots.is_empty() {
            println!("no operating system found");
        }
        for root in &roots {
            println!("{root}:");
            println!("  type:            {}", g.inspect_get_type(root)?);
            println!("  distribution:    {}", g.inspect_get_distro(root)?);
            println!("  product:         {}", g.inspect_get_product_name(root)?);
            let (major, minor) = (
                g.inspect_get_major_version(root)?,
                g.inspect_get_minor_version(root)?,
            );
            println!("  version:         {major}.{minor}");
            println!("  architecture:    {}", g.inspect_get_arch(root)?);
            println!("  hostname:        {}", g.inspect_get_hostname(root)?);
            println!(
                "  packages:        {} ({})",
                g.inspect_get_package_format(root)?,
                g.inspect_get_package_management(root)?
            );
            for m in g.inspect_get_mountpoints(root)? {
                println!("  mountpoint:      {} on {}", m.mountpoint, m.device);
            }
            // The package database is read from the mounted filesystems.
            common::mount_os(&mut g, root, false)?;
            let applications = g.inspect_list_applications2(root)?;
            println!("  applications:    {}", applications.len());
            g.umount_all()?;
        }
        g.shutdown()?;
        Ok(true)
    })
}
