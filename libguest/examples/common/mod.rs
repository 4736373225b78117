//! What the examples share: finding the operating system on the disks and
//! mounting its filesystems, and turning an error into an exit status.
//! Each example uses part of it.
#![allow(dead_code)]

use std::process::ExitCode;

use libguest::Guest;

/// The root filesystem of the first operating system on the launched
/// handle's disks.
pub fn first_os(g: &mut Guest) -> libguest::Result<String> {
    g.inspect_os()?
        .into_iter()
        .next()
        .ok_or_else(|| libguest::Error::InvalidArgument {
            call: "inspect_os",
            message: "no operating system found on these disks".into(),
        })
}

/// Mounts the filesystems of the OS at `root` as its fstab says
/// (read-only unless `writable`), a parent before its children: `/`
/// before `/boot` before `/boot/efi`.
pub fn mount_os(g: &mut Guest, root: &str, writable: bool) -> libguest::Result<()> {
    let mut mountpoints = g.inspect_get_mountpoints(root)?;
    mountpoints.sort_by_key(|m| m.mountpoint.len());
    for m in &mountpoints {
        if writable {
            g.mount(&m.device, &m.mountpoint)?;
        } else {
            g.mount_ro(&m.device, &m.mountpoint)?;
        }
    }
    Ok(())
}

/// What an example's body returns: `Ok(false)` for bad arguments.
pub type Outcome = Result<bool, Box<dyn std::error::Error>>;

/// Runs `body` with the command-line arguments; prints `usage` (exit
/// status 2) when it returns `Ok(false)`, the error (status 1) on failure.
pub fn run(usage: &str, body: impl FnOnce(Vec<String>) -> Outcome) -> ExitCode {
    let program = std::env::args().next().unwrap_or_default();
    match body(std::env::args().skip(1).collect()) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => {
            eprintln!("usage: {program} {usage}");
            ExitCode::from(2)
        }
        Err(e) => {
            eprintln!("{program}: {e}");
            ExitCode::FAILURE
        }
    }
}
