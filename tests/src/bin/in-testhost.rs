//! Runs a program inside the e2e test host (qemu TCG with nested KVM), for
//! machines whose /dev/kvm cannot run Linux:
//!
//!     cargo run -p libguest-tests --bin in-testhost -- [--disk IMAGE | --disk-ro IMAGE]... PROGRAM [ARGS...]
//!
//! The appliance kernel is put beside it and LIBGUEST_KERNEL points at it.
//! Each `--disk` image becomes the next virtio-blk disk there (/dev/vda,
//! /dev/vdb...), read-only with `--disk-ro`.
//! Exits with the program's exit status.

use std::path::PathBuf;
use std::process::ExitCode;

use libguest_tests::testhost::TestHost;

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let mut disks = Vec::new();
    let program = loop {
        match args.next().as_deref() {
            Some(flag @ ("--disk" | "--disk-ro")) => match args.next() {
                Some(image) => disks.push((PathBuf::from(image), flag == "--disk-ro")),
                None => {
                    eprintln!("in-testhost: {flag} needs an image path");
                    return ExitCode::from(2);
                }
            },
            Some(program) => break program.to_string(),
            None => {
                eprintln!(
                    "usage: in-testhost [--disk IMAGE | --disk-ro IMAGE]... PROGRAM [ARGS...]"
                );
                return ExitCode::from(2);
            }
        }
    };
    let rest: Vec<String> = args.collect();
    let rest: Vec<&str> = rest.iter().map(String::as_str).collect();
    // testhost-init is built beside this binary (same package, same profile).
    let init = std::env::current_exe()
        .ok()
        .and_then(|p| p.parent().map(|d| d.join("testhost-init")))
        .unwrap_or_else(|| PathBuf::from("testhost-init"));
    let result = TestHost::new(&init).and_then(|mut host| {
        host.add_appliance_kernel(&libguest_tests::appliance_kernel())?;
        host.set_echo(false);
        for (image, read_only) in &disks {
            host.add_disk(image, *read_only)?;
        }
        host.run(&PathBuf::from(&program), &rest)
    });
    match result {
        Ok(outcome) => {
            // Show the program's output without the test host's own lines.
            for line in outcome.output.lines() {
                if !line.starts_with(libguest_tests::testhost::EXIT_MARKER) {
                    println!("{line}");
                }
            }
            ExitCode::from(outcome.exit_code.unwrap_or(1).clamp(0, 255) as u8)
        }
        Err(e) => {
            eprintln!("in-testhost: {e}");
            ExitCode::FAILURE
        }
    }
}
