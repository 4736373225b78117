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

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use libguest::appliance::{kernel_cmdline, Appliance};
use libguest::Guest;
use libguest_benches::{iterations, summarize};
use libguest_tests::testhost::{TestHost, QEMU};
use libguest_tests::Mode;

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
        for var in ["LIBGUEST_BENCH_ITERS", "LIBGUEST_BENCH_VERBOSE"] {
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
    println!("launch benchmark, {n} launches each, {place}");

    let mut ours = Vec::with_capacity(n);
    for _ in 0..n {
        let mut g = Guest::new().expect("Guest::new");
        g.set_verbose(std::env::var_os("LIBGUEST_BENCH_VERBOSE").is_some());
        g.launch().unwrap_or_else(|e| panic!("launch: {e}"));
        ours.push(g.launch_duration().expect("launch duration"));
        g.shutdown().unwrap_or_else(|e| panic!("shutdown: {e}"));
    }
    let ours = summarize(&ours);
    println!(
        "libguest VMM:                appliance ready in {:.0} ms (median; min {:.0}, max {:.0}, n={})",
        ours.median_ms, ours.min_ms, ours.max_ms, ours.n
    );

    let appliance = Appliance::locate(None).unwrap_or_else(|e| panic!("{e}"));
    let mut peer = Vec::with_capacity(n);
    for _ in 0..n {
        match qemu_launch(&appliance) {
            Ok(d) => peer.push(d),
            Err(e) => {
                println!("qemu microvm -accel kvm:     not measured ({e})");
                return;
            }
        }
    }
    let peer = summarize(&peer);
    println!(
        "qemu microvm (-accel kvm):   appliance ready in {:.0} ms (median; min {:.0}, max {:.0}, n={})",
        peer.median_ms, peer.min_ms, peer.max_ms, peer.n
    );
    println!(
        "ratio libguest / qemu:       {:.2} (lower is faster)",
        ours.median_ms / peer.median_ms
    );
}

/// Boots the same kernel and initramfs under qemu microvm with KVM and
/// times it from spawn until guest-init's ready line, then powers it off.
fn qemu_launch(appliance: &Appliance) -> Result<Duration, String> {
    let start = Instant::now();
    let mut child = Command::new(QEMU)
        .args([
            "-M",
            "microvm,acpi=off",
            "-accel",
            "kvm",
            "-cpu",
            "host",
            "-m",
            "512",
        ])
        .args([
            "-nodefaults",
            "-no-user-config",
            "-display",
            "none",
            "-serial",
            "stdio",
        ])
        .args(["-no-reboot", "-L", QEMU_DATA, "-kernel"])
        .arg(&appliance.kernel)
        .arg("-initrd")
        .arg(&appliance.initramfs)
        .arg("-append")
        .arg(kernel_cmdline(false, None))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start {QEMU}: {e}"))?;
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let mut ready = None;
    let mut seen = String::new();
    for line in BufReader::new(stdout).lines() {
        let Ok(line) = line else { break };
        if line.trim_end_matches('\r') == libguest::READY_LINE {
            ready = Some(start.elapsed());
            if let Some(stdin) = child.stdin.as_mut() {
                let _ = stdin.write_all(b"poweroff\n");
                let _ = stdin.flush();
            }
        }
        seen.push_str(&line);
        seen.push('\n');
    }
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
