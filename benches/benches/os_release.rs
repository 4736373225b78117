//! One-shot CLI latency on a real Debian 12 disk: wall time from shell
//! command to output of `cat /etc/os-release` after inspection, for
//! libguest and for libguestfs's `virt-cat`, both on qemu TCG, in the same
//! run. The two outputs must be identical.
//!
//!     cargo bench -p libguest-benches --bench os_release
//!
//! LIBGUEST_BENCH_ITERS sets the libguest runs (default 5); virt-cat runs 3
//! times after one uncounted warm-up (its first run builds the supermin
//! appliance). virt-cat comes from the Debian package libguestfs-tools,
//! installed here with apt-get when missing and running as root.
//!
//! Not measured: libguest with our own VMM inside the e2e test host. The
//! test host has no way to attach a disk (only files in its initramfs,
//! in 3 GiB of memory), and the 1 GiB Debian image does not fit there.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use libguest_benches::summarize;
use libguest_tests::images::debian_image;

const VIRT_CAT_ITERS: usize = 3;

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let image = debian_image();
    let libguest = build_libguest(&root);

    // 1. libguest, qemu TCG fallback, on this host.
    let iters = libguest_benches::iterations(5);
    let (ours, our_text) = time_runs(iters, || {
        let mut cmd = Command::new(&libguest);
        cmd.args(["--backend", "tcg", "--ro", "-a"])
            .arg(&image)
            .args(["-i", "cat", "/etc/os-release"]);
        cmd
    });

    // 2. libguestfs virt-cat, TCG.
    let Some(virt_cat) = find_virt_cat() else {
        eprintln!(
            "os_release bench: virt-cat not found and could not be installed; \
             run `apt-get install -y libguestfs-tools` as root"
        );
        std::process::exit(1);
    };
    let virt_cat_cmd = || {
        let mut cmd = Command::new(&virt_cat);
        cmd.env("LIBGUESTFS_BACKEND", "direct")
            .env("LIBGUESTFS_BACKEND_SETTINGS", "force_tcg")
            .arg("-a")
            .arg(&image)
            .arg("/etc/os-release");
        cmd
    };
    // Warm-up (builds the supermin appliance on the first run), not counted.
    let warm = Instant::now();
    let (_, warm_text) = time_runs(1, virt_cat_cmd);
    let warm = warm.elapsed();
    let (theirs, their_text) = time_runs(VIRT_CAT_ITERS, virt_cat_cmd);
    assert_eq!(
        warm_text, their_text,
        "virt-cat output changed between runs"
    );
    assert_eq!(
        our_text, their_text,
        "libguest and virt-cat print different /etc/os-release"
    );

    let o = summarize(&ours);
    let t = summarize(&theirs);
    println!(
        "cat /etc/os-release after inspection, {} (Debian 12 minbase, 1 GiB raw, read-only)",
        image.display()
    );
    println!(
        "  libguest --backend tcg --ro -a IMG -i cat /etc/os-release (qemu TCG, this host): \
         median {:.0} ms, min {:.0} ms ({} runs)",
        o.median_ms, o.min_ms, o.n
    );
    println!(
        "  virt-cat -a IMG /etc/os-release (libguestfs {}, direct backend, force_tcg): \
         median {:.0} ms, min {:.0} ms ({} runs; warm-up {:.0} ms not counted)",
        libguestfs_version(&virt_cat),
        t.median_ms,
        t.min_ms,
        t.n,
        warm.as_secs_f64() * 1000.0
    );
    println!(
        "  ratio virt-cat / libguest (TCG vs TCG): median {:.2}, min {:.2} (higher: libguest faster)",
        t.median_ms / o.median_ms,
        t.min_ms / o.min_ms
    );
    println!("  outputs identical ({} bytes)", our_text.len());
    println!(
        "  not measured: libguest's own VMM in the e2e test host (TestHost cannot attach a disk; \
         the 1 GiB image does not fit its initramfs)"
    );
}

/// Builds the release CLI (a no-op when it is up to date) and returns it.
fn build_libguest(root: &Path) -> PathBuf {
    let status = Command::new(env!("CARGO"))
        .current_dir(root)
        .args(["build", "--release", "-p", "libguest", "--bin", "libguest"])
        .status()
        .expect("run cargo build");
    assert!(status.success(), "cargo build --release libguest failed");
    let bin = root.join("target/release/libguest");
    assert!(bin.is_file(), "no {}", bin.display());
    bin
}

/// Runs the command `n` times, checks each succeeds with the same stdout,
/// and returns the wall times and that stdout.
fn time_runs(n: usize, make: impl Fn() -> Command) -> (Vec<Duration>, String) {
    let mut samples = Vec::with_capacity(n);
    let mut text: Option<String> = None;
    for _ in 0..n {
        let mut cmd = make();
        let t = Instant::now();
        let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
        samples.push(t.elapsed());
        let stdout = check(&cmd, &out);
        match &text {
            Some(prev) => assert_eq!(*prev, stdout, "{cmd:?}: output changed between runs"),
            None => text = Some(stdout),
        }
    }
    (samples, text.unwrap_or_default())
}

fn check(cmd: &Command, out: &Output) -> String {
    assert!(
        out.status.success(),
        "{cmd:?}: {}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn find_virt_cat() -> Option<PathBuf> {
    if let Some(p) = libguest_tests::testhost::which("virt-cat") {
        return Some(p);
    }
    if unsafe { libc::geteuid() } != 0 {
        return None;
    }
    eprintln!("os_release bench: virt-cat missing; apt-get install -y libguestfs-tools");
    let status = Command::new("apt-get")
        .args(["install", "-y", "libguestfs-tools"])
        .env("DEBIAN_FRONTEND", "noninteractive")
        .status()
        .ok()?;
    if !status.success() {
        return None;
    }
    libguest_tests::testhost::which("virt-cat")
}

fn libguestfs_version(virt_cat: &Path) -> String {
    Command::new(virt_cat)
        .arg("--version")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .and_then(|s| s.split_whitespace().last().map(str::to_string))
        .unwrap_or_else(|| "?".into())
}
