//! Shared helpers for the benchmarks: sample statistics and printing, and
//! what a test host needs to run qemu as a peer.

use std::path::{Path, PathBuf};
use std::time::Duration;

use libguest_tests::testhost::{self, TestHost, TestHostError};

pub mod soak;

/// Puts qemu-system-x86_64 and the firmware its microvm and pc machines
/// load into the test host, for the qemu -accel kvm peers measured beside
/// our VMM there.
pub fn add_qemu(host: &mut TestHost) -> Result<(), TestHostError> {
    add_programs(host, &[(testhost::QEMU, "qemu-system-x86")])?;
    for (dir, file) in [
        ("/usr/share/qemu", "qboot.rom"),
        ("/usr/share/qemu", "bios-microvm.bin"),
        ("/usr/share/qemu", "linuxboot_dma.bin"),
        ("/usr/share/qemu", "pvh.bin"),
        ("/usr/share/qemu", "kvmvapic.bin"),
        ("/usr/share/seabios", "bios-256k.bin"),
    ] {
        let p = Path::new(dir).join(file);
        if p.exists() {
            host.add_file(&p, &p.to_string_lossy(), 0o644);
        }
    }
    Ok(())
}

/// Puts programs of this machine into the test host at their own paths;
/// `(program, Debian package)`.
pub fn add_programs(host: &mut TestHost, programs: &[(&str, &str)]) -> Result<(), TestHostError> {
    for (program, package) in programs {
        let path = testhost::which(program).ok_or_else(|| {
            TestHostError(format!("{program} not found: apt-get install {package}"))
        })?;
        host.add_program(&path, &path.to_string_lossy())?;
    }
    Ok(())
}

/// Median, minimum and maximum of a sample, in milliseconds.
pub struct Summary {
    pub median_ms: f64,
    pub min_ms: f64,
    pub max_ms: f64,
    pub n: usize,
}

pub fn summarize(samples: &[Duration]) -> Summary {
    let mut ms: Vec<f64> = samples.iter().map(|d| d.as_secs_f64() * 1000.0).collect();
    ms.sort_by(f64::total_cmp);
    let n = ms.len();
    let median_ms = match n {
        0 => f64::NAN,
        _ if n % 2 == 1 => ms[n / 2],
        _ => (ms[n / 2 - 1] + ms[n / 2]) / 2.0,
    };
    Summary {
        median_ms,
        min_ms: ms.first().copied().unwrap_or(f64::NAN),
        max_ms: ms.last().copied().unwrap_or(f64::NAN),
        n,
    }
}

/// Iterations per measurement: LIBGUEST_BENCH_ITERS, default `default`.
pub fn iterations(default: usize) -> usize {
    std::env::var("LIBGUEST_BENCH_ITERS")
        .ok()
        .and_then(|s| s.parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or(default)
}

/// Builds the release CLI of the workspace `root` (a no-op when it is up
/// to date) and returns its path.
pub fn release_cli(root: &Path) -> PathBuf {
    let status = std::process::Command::new(env!("CARGO"))
        .current_dir(root)
        .args([
            "build",
            "--release",
            "-p",
            "libguest-cli",
            "--bin",
            "libguest",
        ])
        .status()
        .expect("run cargo build");
    assert!(
        status.success(),
        "cargo build --release -p libguest-cli failed"
    );
    let bin = root.join("target/release/libguest");
    assert!(bin.is_file(), "no {}", bin.display());
    bin
}

/// One operation's VM exits, averaged over `ops` operations, by kind,
/// with the hardware estimate that goes with them: on hardware KVM each
/// exit costs about a microsecond (a round trip through the hypervisor),
/// so exits × 1 µs is what they add there. Labelled an estimate: the
/// guest's and the VMM's own instructions are not in it.
pub fn exits_per_op(what: &str, delta: &libguest::ExitStats, ops: f64) -> String {
    let fields = delta.fields();
    let per = |v: u64| v as f64 / ops.max(1.0);
    let kinds: Vec<String> = fields[1..]
        .iter()
        .filter(|(_, v)| *v != 0)
        .map(|(name, v)| format!("{name} {:.2}", per(*v)))
        .collect();
    format!(
        "VM exits per {what}: {:.2} ({}); hardware estimate {:.1} µs of exits (exits × 1 µs, an estimate)",
        per(fields[0].1),
        if kinds.is_empty() { "none by kind".to_string() } else { kinds.join(", ") },
        per(fields[0].1)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_even_and_odd_samples() {
        let d = |ms| Duration::from_millis(ms);
        assert_eq!(summarize(&[d(3), d(1), d(2)]).median_ms, 2.0);
        let s = summarize(&[d(4), d(1), d(2), d(3)]);
        assert_eq!((s.median_ms, s.min_ms, s.max_ms, s.n), (2.5, 1.0, 4.0, 4));
    }

    #[test]
    fn exits_per_op_averages_every_kind() {
        let d = libguest::ExitStats {
            exits: 40,
            mmio_exits: 20,
            halt_exits: 10,
            ..Default::default()
        };
        assert_eq!(
            super::exits_per_op("round trip", &d, 10.0),
            "VM exits per round trip: 4.00 (mmio_exits 2.00, halt_exits 1.00); \
             hardware estimate 4.0 µs of exits (exits × 1 µs, an estimate)"
        );
    }
}
