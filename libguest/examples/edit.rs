//! Edits a file in a disk image: appends a line to a file of the
//! operating system on it (`/etc/motd` unless told otherwise), then reads
//! the file back.
//!
//! By default the change is written to the image: `shutdown()` returns
//! only once it has reached the disk. With `--overlay` the image is opened
//! read-only under a copy-on-write overlay: the appliance sees the change,
//! the image does not (not one byte nor its mtime), and the overlay is
//! dropped at shutdown. A dry run, or a way to try an edit first.
//!
//! ```text
//! cargo run --example edit -- [--overlay] disk.img [LINE [FILE]]
//! cargo run --example edit -- --overlay disk.img "Hello from libguest" /etc/motd
//! ```

mod common;

use std::process::ExitCode;

use libguest::{DriveOptions, Guest};

fn main() -> ExitCode {
    common::run("[--overlay] DISK.img [LINE [FILE]]", |mut args| {
        let overlay = args.first().is_some_and(|a| a == "--overlay");
        if overlay {
            args.remove(0);
        }
        let (disk, line, file) = match args.as_slice() {
            [disk] => (disk, "edited by libguest's edit example", "/etc/motd"),
            [disk, line] => (disk, line.as_str(), "/etc/motd"),
            [disk, line, file] => (disk, line.as_str(), file.as_str()),
            _ => return Ok(false),
        };
        let mut g = Guest::new()?;
        g.add_drive_opts(
            disk,
            DriveOptions {
                overlay: Some(overlay),
                ..Default::default()
            },
        )?;
        g.launch()?;
        let root = common::first_os(&mut g)?;
        common::mount_os(&mut g, &root, true)?;
        g.write_append(file, format!("{line}\n").into_bytes())?;
        print!("{file} now reads:\n{}", g.cat(file)?);
        // Unmounts, syncs and powers off; the drive is flushed on the host.
        g.shutdown()?;
        if overlay {
            println!("(--overlay: {disk} itself is unchanged)");
        }
        Ok(true)
    })
}
