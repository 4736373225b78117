//! Launch benchmark: `launch()` until guest-init is ready, then shutdown,
//! with our VMM and, in the same run on the same kernel and initramfs,
//! with `qemu-system-x86_64 -M microvm -accel kvm` as the peer.
//!
//! Where /dev/kvm cannot run Linux, both run inside the e2e test host
//! (nested KVM under qemu TCG), so the two figures share a machine.
//!
//!     cargo bench -p libguest-benches --bench launch
//!
//! LIBGUEST_BENCH_ITERS sets the number of launches per figure (default 10).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use appliance::{kernel_cmdline, Appliance};
use libguest::Guest;
use libguest_benches::{iterations, summarize};
use libguest_tests::testhost::{microvm_args, TestHost, QEMU};
use libguest_tests::Mode;

const QEMU_TIMEOUT: Duration = Duration::from_secs(60);
const QEMU_DATA: &str = "/usr/share/qemu";
/// The firmware and option ROMs a microvm boot of a PVH vmlinux reads.
const QEMU_FILES: &[&str] = &[
    "bios-microvm.bin",
    "pvh.bin",
    "linuxboot_dma.bin",
    "qboot.rom",
];

fn main() {
    match libguest_tests::mode() {
        Mode::Native => measure_here(),
        Mode::TestHost => run_in_test_host(),
    }
}

fn run_in_test_host() {
    let init = Path::new(env!("CARGO_BIN_EXE_bench-testhost-init"));
    let result = (|| {
        let mut host = TestHost::new(init)?;
        host.add_appliance_kernel(&libguest_tests::appliance_kernel())?;
        let qemu = which(QEMU).ok_or_else(|| {
            libguest_tests::testhost::TestHostError(format!("{QEMU} not on PATH"))
        })?;
        host.add_program(&qemu, &qemu.to_string_lossy())?;
        for f in QEMU_FILES {
            let p = Path::new(QEMU_DATA).join(f);
            if p.exists() {
                host.add_file(&p, &format!("{QEMU_DATA}/{f}"), 0o644);
            }
        }
        for var in [
            "LIBGUEST_BENCH_ITERS",
            "LIBGUEST_BENCH_VERBOSE",
            "LIBGUEST_BENCH_TIMEOUT",
        ] {
            if let Ok(value) = std::env::var(var) {
                host.set_env(var, &value);
            }
        }
        host.set_env(
            "LIBGUEST_BENCH_WHERE",
            "inside the e2e test host (nested KVM under qemu TCG)",
        );
        let exe = std::env::current_exe()
            .map_err(|e| libguest_tests::testhost::TestHostError(format!("current_exe: {e}")))?;
        host.run(&exe, &[])
    })();
    match result {
        Ok(outcome) => {
            if outcome.exit_code != Some(0) {
                eprintln!("launch bench failed inside the test host");
                std::process::exit(1);
            }
        }
        Err(e) => {
            eprintln!("launch bench: {e}");
            std::process::exit(1);
        }
    }
}

fn measure_here() {
    let n = iterations(10);
    let place = std::env::var("LIBGUEST_BENCH_WHERE").unwrap_or_else(|_| "natively".into());
    let verbose = std::env::var_os("LIBGUEST_BENCH_VERBOSE").is_some();
    println!("launch benchmark, {n} launches each, {place}");

    let mut launch_exits = Vec::new();
    let ours = measure(n, || {
        let mut g = Guest::new().map_err(|e| e.to_string())?;
        g.set_verbose(verbose).map_err(|e| e.to_string())?;
        if let Some(secs) = std::env::var("LIBGUEST_BENCH_TIMEOUT")
            .ok()
            .and_then(|s| s.parse().ok())
        {
            g.set_launch_timeout(Duration::from_secs(secs));
        }
        g.launch().map_err(|e| e.to_string())?;
        let took = g.launch_duration().ok_or("no launch duration")?;
        launch_exits.extend(g.exit_stats());
        g.shutdown().map_err(|e| e.to_string())?;
        Ok(took)
    });
    report("libguest VMM:", &ours);
    // From the first instruction to guest-init's ready line, as KVM counts
    // them: a figure that carries over to hardware, unlike the wall time.
    if !launch_exits.is_empty() {
        let total = launch_exits
            .iter()
            .fold(libguest::ExitStats::default(), |sum, e| sum.plus(e));
        println!(
            "libguest VMM:                {}",
            libguest_benches::exits_per_op("launch", &total, launch_exits.len() as f64)
        );
    }

    let appliance = Appliance::locate(None).unwrap_or_else(|e| panic!("{e}"));
    let peer = measure(n, || qemu_launch(&appliance));
    report("qemu microvm (-accel kvm):", &peer);
    if !ours.0.is_empty() && !peer.0.is_empty() {
        println!(
            "ratio libguest / qemu:       {:.2} (median over median; lower is faster)",
            summarize(&ours.0).median_ms / summarize(&peer.0).median_ms
        );
    }
    if ours.0.len() < n {
        std::process::exit(1);
    }
}

/// Runs `launch` n times; keeps the durations and the failures.
fn measure(
    n: usize,
    mut launch: impl FnMut() -> Result<Duration, String>,
) -> (Vec<Duration>, Vec<String>) {
    let mut ok = Vec::with_capacity(n);
    let mut failed = Vec::new();
    for _ in 0..n {
        match launch() {
            Ok(d) => ok.push(d),
            Err(e) => failed.push(e),
        }
    }
    (ok, failed)
}

fn report(name: &str, (ok, failed): &(Vec<Duration>, Vec<String>)) {
    if !ok.is_empty() {
        let s = summarize(ok);
        println!(
            "{name:<28} appliance ready in {:.0} ms (median; min {:.0}, max {:.0}, n={})",
            s.median_ms, s.min_ms, s.max_ms, s.n
        );
    }
    if let Some(first) = failed.first() {
        println!(
            "{name:<28} {} launches failed; first: {first}",
            failed.len()
        );
    }
}

/// Boots the same kernel and initramfs under qemu microvm with KVM and
/// times it from spawn until guest-init's ready line, then powers it off.
fn qemu_launch(appliance: &Appliance) -> Result<Duration, String> {
    let start = Instant::now();
    let mut child = Command::new(QEMU)
        .args(microvm_args(
            &["-accel", "kvm", "-cpu", "host", "-L", QEMU_DATA],
            512,
            &appliance.kernel,
            &appliance.initramfs,
            &kernel_cmdline(false, None),
        ))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start {QEMU}: {e}"))?;
    let stdout = child.stdout.take().ok_or("no stdout")?;
    // A guest that never gets ready must not hang the benchmark. The
    // watchdog is joined before wait(), so it can only signal an unreaped pid.
    let pid = child.id() as libc::pid_t;
    let (done, done_rx) = std::sync::mpsc::channel::<()>();
    let watchdog = std::thread::spawn(move || {
        if let Err(std::sync::mpsc::RecvTimeoutError::Timeout) = done_rx.recv_timeout(QEMU_TIMEOUT)
        {
            // SAFETY: kill(2) takes no pointers; `pid` is our child, not yet reaped.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
    });
    let mut ready = None;
    let mut seen = String::new();
    for line in BufReader::new(stdout).lines() {
        let Ok(line) = line else { break };
        if line.trim_end_matches('\r') == libguest::READY_LINE {
            ready = Some(start.elapsed());
            // Only launch time is measured. microvm has no i8042, so the
            // appliance's reboot=k power-off would not end qemu: stop it here.
            let _ = child.kill();
        }
        seen.push_str(&line);
        seen.push('\n');
    }
    let _ = done.send(());
    let _ = watchdog.join();
    let _ = child.wait();
    ready.ok_or_else(|| {
        let mut err = String::new();
        if let Some(mut e) = child.stderr.take() {
            use std::io::Read;
            let _ = e.read_to_string(&mut err);
        }
        format!("guest-init never became ready: {err} {seen}")
    })
}

fn which(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")?
        .to_str()?
        .split(':')
        .map(|d| Path::new(d).join(name))
        .find(|p| p.is_file())
}
