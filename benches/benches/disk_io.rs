//! Disk throughput seen from inside the appliance: sequential 1 MiB reads
//! and writes of a 256 MiB raw image with O_DIRECT (guest-init's
//! `readbench`/`writebench` hooks), next to reading the same image on the
//! host in the same run. Where /dev/kvm cannot run Linux, everything runs
//! inside the e2e test host.
//!
//!     cargo bench -p libguest-benches --bench disk_io

use std::io::{Read, Write};
use std::path::Path;
use std::time::Instant;

use libguest::{DriveFormat, DriveOptions, Guest};
use libguest_tests::testhost::TestHost;
use libguest_tests::Mode;

const SIZE: u64 = 256 << 20;

fn main() {
    match libguest_tests::mode() {
        Mode::Native => measure_here(),
        Mode::TestHost => {
            let init = Path::new(env!("CARGO_BIN_EXE_bench-testhost-init"));
            let result = TestHost::new(init).and_then(|mut host| {
                host.add_appliance_kernel(&libguest_tests::appliance_kernel())?;
                host.set_env(
                    "LIBGUEST_BENCH_WHERE",
                    "inside the e2e test host (nested KVM under qemu TCG)",
                );
                let exe = std::env::current_exe()
                    .map_err(|e| libguest_tests::testhost::TestHostError(e.to_string()))?;
                host.run(&exe, &[])
            });
            match result {
                Ok(o) if o.exit_code == Some(0) => {}
                Ok(_) => std::process::exit(1),
                Err(e) => {
                    eprintln!("disk_io bench: {e}");
                    std::process::exit(1);
                }
            }
        }
    }
}

fn mib_s(bytes: u64, micros: f64) -> f64 {
    bytes as f64 / (1 << 20) as f64 / (micros / 1e6)
}

fn measure_here() {
    let place = std::env::var("LIBGUEST_BENCH_WHERE").unwrap_or_else(|_| "natively".into());
    let dir = tempfile::tempdir().expect("temp dir");
    let image = dir.path().join("bench.raw");
    {
        let mut f = std::fs::File::create(&image).expect("create image");
        let chunk = libguest_tests::pattern(0, 1 << 20, 11);
        for _ in 0..SIZE >> 20 {
            f.write_all(&chunk).expect("write image");
        }
        f.sync_all().expect("sync image");
    }

    // Host peer: read the same file with 1 MiB reads.
    let t = Instant::now();
    let mut f = std::fs::File::open(&image).expect("open image");
    let mut buf = vec![0u8; 1 << 20];
    let mut total = 0u64;
    while total < SIZE {
        let n = f.read(&mut buf).expect("read image");
        if n == 0 {
            break;
        }
        total += n as u64;
    }
    let host_read = mib_s(total, t.elapsed().as_micros() as f64);

    let mut g = Guest::new().expect("Guest::new");
    g.add_drive_opts(
        &image,
        DriveOptions {
            format: Some(DriveFormat::Raw),
            ..Default::default()
        },
    )
    .expect("add drive");
    g.launch().unwrap_or_else(|e| panic!("launch: {e}"));
    let run = |g: &mut Guest, cmd: &str| -> f64 {
        let reply = g
            .debug(cmd, &["/dev/sda", &SIZE.to_string()])
            .unwrap_or_else(|e| panic!("{cmd}: {e}"));
        let mut it = reply
            .split_whitespace()
            .map(|w| w.parse::<f64>().unwrap_or(f64::NAN));
        let (bytes, micros) = (it.next().unwrap_or(f64::NAN), it.next().unwrap_or(f64::NAN));
        mib_s(bytes as u64, micros)
    };
    // First pass warms the host page cache the raw backend reads through.
    let _ = run(&mut g, "readbench");
    let before = g.exit_stats();
    let guest_read = run(&mut g, "readbench");
    let read_exits = before.zip(g.exit_stats()).map(|(b, a)| a.since(&b));
    let guest_write = run(&mut g, "writebench");
    g.shutdown().expect("shutdown");

    println!("appliance disk throughput, 256 MiB raw image, 1 MiB O_DIRECT requests, {place}");
    println!("guest sequential read:   {guest_read:>8.0} MiB/s");
    println!("guest sequential write:  {guest_write:>8.0} MiB/s (fsync included)");
    println!("host read of the image:  {host_read:>8.0} MiB/s (same file, same run)");
    // KVM's counters carry over to hardware; the wall times do not.
    match read_exits {
        Some(d) => println!(
            "{}",
            libguest_benches::exits_per_op(
                "MiB read (1 MiB requests, the call's round trip included)",
                &d,
                (SIZE >> 20) as f64
            )
        ),
        None => println!("VM exits per MiB read: not counted (no KVM statistics here)"),
    }
}
