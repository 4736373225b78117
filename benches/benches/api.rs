//! The API channel: round-trip latency of a no-op call (`ping_daemon`,
//! median and p99 over 10,000 calls) and `upload` / `download` throughput
//! of a 256 MiB file, next to host `cat` of the same data in the same run.
//! Runs the main path (our VMM; inside the e2e test host where /dev/kvm
//! cannot run Linux) and the qemu TCG fallback.
//!
//!     cargo bench -p libguest-benches --bench api
//!
//! With our VMM it also prints KVM's exit counters per operation (per
//! round trip, per MiB each way) and the hardware estimate they give:
//! figures that carry over from the test host's nested KVM to hardware.
//!
//! LIBGUEST_BENCH_ITERS sets the number of pings (default 10000);
//! LIBGUEST_BENCH_BACKENDS=kvm or tcg runs only one.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use libguest::{Backend, Guest};
use libguest_tests::images::partitioned_ext4;
use libguest_tests::testhost::{self, TestHost};
use libguest_tests::Mode;

const FILE_MIB: u64 = 256;

fn main() {
    let wanted = std::env::var("LIBGUEST_BENCH_BACKENDS").unwrap_or_else(|_| "kvm,tcg".into());
    if std::env::var_os(libguest_tests::INSIDE_ENV).is_some() {
        measure(
            Backend::Kvm,
            "our VMM, inside the e2e test host (nested KVM under qemu TCG)",
        );
        // The peer on the same KVM: qemu microvm with the same devices.
        std::env::set_var("LIBGUEST_QEMU_ACCEL", "kvm");
        measure(
            Backend::Tcg,
            "qemu microvm -accel kvm (peer), inside the same test host",
        );
        return;
    }
    if wanted.contains("kvm") {
        match libguest_tests::mode() {
            Mode::Native => measure(Backend::Kvm, "our VMM on this host's KVM"),
            Mode::TestHost => in_test_host(),
        }
    }
    if wanted.contains("tcg") {
        measure(Backend::Tcg, "qemu TCG fallback, on this host");
    }
}

fn in_test_host() {
    let init = Path::new(env!("CARGO_BIN_EXE_bench-testhost-init"));
    // A test host whose nested KVM never runs a guest is replaced, as the
    // e2e harness does (at most three tries).
    for attempt in 1..=3 {
        let result = TestHost::new(init).and_then(|mut host| {
            host.add_appliance_kernel(&libguest_tests::appliance_kernel())?;
            libguest_benches::add_qemu(&mut host)?;
            for tool in ["mke2fs", "cat"] {
                if let Some(path) = testhost::which(tool) {
                    host.add_program(&path, &path.to_string_lossy())?;
                }
            }
            if let Ok(v) = std::env::var("LIBGUEST_BENCH_ITERS") {
                host.set_env("LIBGUEST_BENCH_ITERS", &v);
            }
            let exe =
                std::env::current_exe().map_err(|e| testhost::TestHostError(e.to_string()))?;
            host.run(&exe, &[])
        });
        match result {
            Ok(o) if o.exit_code == Some(0) => return,
            Ok(o) if attempt < 3 && o.output.contains(libguest_tests::NEVER_RAN_PHRASE) => {
                eprintln!("api bench: the test host's KVM never ran the appliance; booting a new test host");
            }
            Ok(_) => std::process::exit(1),
            Err(e) => {
                eprintln!("api bench: {e}");
                std::process::exit(1);
            }
        }
    }
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(i).map_or(f64::NAN, |d| d.as_secs_f64() * 1e6)
}

fn mib_s(bytes: u64, elapsed: Duration) -> f64 {
    bytes as f64 / (1 << 20) as f64 / elapsed.as_secs_f64()
}

/// `cat FILE > /dev/null`, timed.
fn cat(src: &Path) -> Duration {
    let t = Instant::now();
    let status = Command::new("cat")
        .arg(src)
        .stdout(std::process::Stdio::null())
        .status()
        .expect("run cat");
    assert!(status.success());
    t.elapsed()
}

fn measure(backend: Backend, place: &str) {
    let dir = tempfile::tempdir().expect("temp dir");
    let image = dir.path().join("bench.img");
    partitioned_ext4(
        &image,
        FILE_MIB * 2 + 64,
        "bench",
        "4c475354-0000-4000-8000-00000000be0c",
    );
    let data = dir.path().join("data.bin");
    let chunk = libguest_tests::pattern(0, 1 << 20, 5);
    let mut contents = Vec::with_capacity((FILE_MIB << 20) as usize);
    for _ in 0..FILE_MIB {
        contents.extend_from_slice(&chunk);
    }
    std::fs::write(&data, &contents).expect("write data file");
    drop(contents);

    let mut g = Guest::new().expect("Guest::new");
    g.set_backend(backend).expect("backend");
    g.add_drive(&image).expect("add drive");
    g.launch().unwrap_or_else(|e| panic!("launch: {e}"));
    g.mount("/dev/sda1", "/").expect("mount");

    let iters = libguest_benches::iterations(10_000);
    for _ in 0..100 {
        g.ping_daemon().expect("ping");
    }
    let mut samples = Vec::with_capacity(iters);
    let before_pings = g.exit_stats();
    for _ in 0..iters {
        let t = Instant::now();
        g.ping_daemon().expect("ping");
        samples.push(t.elapsed());
    }
    let pings_exits = delta(before_pings, g.exit_stats());
    samples.sort();

    let host_cat = cat(&data).min(cat(&data)); // the first run warms the cache
    let before = g.exit_stats();
    let t = Instant::now();
    g.upload(&data, "/data.bin").expect("upload");
    g.sync().expect("sync");
    let upload = t.elapsed();
    let upload_exits = delta(before, g.exit_stats());
    let before = g.exit_stats();
    let t = Instant::now();
    g.download("/data.bin", &mut std::io::sink())
        .expect("download");
    let download = t.elapsed();
    let download_exits = delta(before, g.exit_stats());
    g.shutdown().expect("shutdown");

    let bytes = FILE_MIB << 20;
    println!("API channel, {place}:");
    println!(
        "  ping_daemon round trip: median {:.1} µs, p99 {:.1} µs ({} calls)",
        percentile(&samples, 0.5),
        percentile(&samples, 0.99),
        samples.len()
    );
    println!(
        "  upload   {FILE_MIB} MiB: {:>7.1} MiB/s (into ext4 on virtio-scsi, sync included)",
        mib_s(bytes, upload)
    );
    println!(
        "  download {FILE_MIB} MiB: {:>7.1} MiB/s",
        mib_s(bytes, download)
    );
    println!(
        "  host cat of the same file: {:>7.1} MiB/s (same run)",
        mib_s(bytes, host_cat)
    );
    // KVM's own counters: these carry over to hardware, the wall times
    // above (taken under nested or emulated KVM) do not.
    let per_op = [
        ("ping_daemon round trip", pings_exits, iters as f64),
        ("MiB uploaded", upload_exits, FILE_MIB as f64),
        ("MiB downloaded", download_exits, FILE_MIB as f64),
    ];
    for (what, exits, ops) in per_op {
        match exits {
            Some(d) => println!("  {}", libguest_benches::exits_per_op(what, &d, ops)),
            None => {
                println!("  VM exits per {what}: not counted (no KVM statistics on this backend)")
            }
        }
    }
}

/// Exits between two readings, where both exist.
fn delta(
    before: Option<libguest::ExitStats>,
    after: Option<libguest::ExitStats>,
) -> Option<libguest::ExitStats> {
    Some(after?.since(&before?))
}
