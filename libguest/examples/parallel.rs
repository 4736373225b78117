//! Runs several appliances at once, one per thread: each is its own
//! `Guest` with its own VM, and handles share nothing but the process.
//!
//! Given several images, one appliance inspects each. Given one image,
//! `-j N` appliances (default 3) open that same image: a drive added
//! read-only can be shared by any number of appliances, since none of
//! them can write to it. (Two handles writing to one image would corrupt
//! it, as two VMs would.)
//!
//! ```text
//! cargo run --example parallel -- disk1.img disk2.img disk3.img
//! cargo run --example parallel -- -j 4 disk.img
//! ```

mod common;

use std::process::ExitCode;
use std::time::Instant;

use libguest::Guest;

/// What one appliance found.
struct Report {
    disk: String,
    launch_ms: u128,
    systems: Vec<String>,
}

fn inspect(disk: String) -> libguest::Result<Report> {
    let mut g = Guest::new()?;
    g.add_drive_ro(&disk)?;
    g.launch()?;
    let launch_ms = g.launch_duration().unwrap_or_default().as_millis();
    let mut systems = Vec::new();
    for root in g.inspect_os()? {
        systems.push(format!("{root}: {}", g.inspect_get_product_name(&root)?));
    }
    g.shutdown()?;
    Ok(Report {
        disk,
        launch_ms,
        systems,
    })
}

fn main() -> ExitCode {
    common::run("[-j N] DISK.img...", |mut args| {
        let mut copies = 3;
        if args.first().is_some_and(|a| a == "-j") {
            match args.get(1).and_then(|n| n.parse().ok()) {
                Some(n) if n > 0 => copies = n,
                _ => return Ok(false),
            }
            args.drain(..2);
        }
        let disks = match args.len() {
            0 => return Ok(false),
            1 => vec![args[0].clone(); copies],
            _ => args,
        };
        let started = Instant::now();
        let threads: Vec<_> = disks
            .into_iter()
            .map(|disk| std::thread::spawn(move || inspect(disk)))
            .collect();
        let count = threads.len();
        let mut failed = 0;
        for (i, thread) in threads.into_iter().enumerate() {
            match thread.join() {
                Ok(Ok(report)) => {
                    println!(
                        "appliance {i}: {} (ready in {} ms)",
                        report.disk, report.launch_ms
                    );
                    for system in &report.systems {
                        println!("  {system}");
                    }
                }
                Ok(Err(e)) => {
                    eprintln!("appliance {i}: {e}");
                    failed += 1;
                }
                Err(_) => {
                    eprintln!("appliance {i}: the thread panicked");
                    failed += 1;
                }
            }
        }
        println!("all done in {} ms", started.elapsed().as_millis());
        match failed {
            0 => Ok(true),
            n => Err(format!("{n} of {count} appliances failed").into()),
        }
    })
}
