//! The Python binding against libguestfs's, in one run, on the same
//! Debian 12 disk, both appliances on qemu TCG on this host (libguestfs's
//! direct backend with force_tcg; ours with LIBGUEST_BACKEND=tcg): the
//! same script (`benches/python/calls.py`) through `libguest.guestfs`
//! and through `guestfs`, each round a new process: launch, inspect_os,
//! inspect_list_applications2, per-call is_file and statns, read_file,
//! find, close. Both must return the same things.
//!
//!     scripts/python-test.sh    # once: makes target/python-venv
//!     cargo bench -p libguest-benches --bench python   # installs the release build there
//!
//! LIBGUEST_BENCH_ITERS sets the rounds (default 3) after one uncounted
//! warm-up each; LIBGUEST_BENCH_CALLS the small calls per round (default
//! 200). libguestfs's binding is Debian's python3-guestfs, for
//! /usr/bin/python3.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use libguest_tests::images::debian_image;

struct Binding {
    label: &'static str,
    python: String,
    module: &'static str,
    env: Vec<(&'static str, &'static str)>,
}

/// One round's output: the phase times (ms) and what it read.
struct Round {
    times: BTreeMap<String, f64>,
    checks: String,
}

fn round(b: &Binding, script: &Path, image: &str, calls: usize) -> Round {
    let out = Command::new(&b.python)
        .arg(script)
        .args([b.module, image, &calls.to_string()])
        .envs(b.env.iter().copied())
        .current_dir("/")
        .output()
        .unwrap_or_else(|e| panic!("{}: {e}", b.python));
    assert!(
        out.status.success(),
        "{}: {}",
        b.label,
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let json = text.trim();
    // {"times": {"launch": 1.0, ...}, "apps": 88, ...}: flat enough to
    // read without a JSON crate in the benches.
    let (times_part, rest) = json
        .strip_prefix("{\"times\": {")
        .and_then(|s| s.split_once("}, "))
        .unwrap_or_else(|| panic!("{}: unexpected output {json}", b.label));
    let times = times_part
        .split(", \"")
        .map(|kv| {
            let (k, v) = kv.rsplit_once(": ").expect("key: value");
            (
                k.trim_matches('"').to_string(),
                v.parse::<f64>().expect("ms"),
            )
        })
        .collect();
    Round {
        times,
        checks: rest.trim_end_matches('}').to_string(),
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let script = root.join("benches/python/calls.py");
    let venv_python = root.join("target/python-venv/bin/python");
    let installed = Command::new(&venv_python)
        .args(["-c", "import libguest"])
        .status()
        .is_ok_and(|s| s.success());
    if !installed {
        eprintln!("python bench: run scripts/python-test.sh first (it makes target/python-venv)");
        std::process::exit(1);
    }
    // The figures are the release build's, as `pip install ./python`
    // makes it (the tests install a dev build).
    let venv_bin = root.join("target/python-venv/bin");
    let path = format!(
        "{}:{}",
        venv_bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let status = Command::new(venv_bin.join("pip"))
        .args([
            "install",
            "-q",
            "--no-build-isolation",
            "--force-reinstall",
            "--no-deps",
        ])
        .arg(root.join("python"))
        .env("PATH", path)
        .status()
        .expect("run pip");
    assert!(status.success(), "pip install ./python failed");
    let has_guestfs = Command::new("/usr/bin/python3")
        .args(["-c", "import guestfs"])
        .status()
        .is_ok_and(|s| s.success());
    if !has_guestfs {
        eprintln!(
            "python bench: libguestfs's binding is missing: apt-get install -y python3-guestfs"
        );
        std::process::exit(1);
    }
    let image = debian_image().display().to_string();
    let iters = libguest_benches::iterations(3);
    let calls: usize = std::env::var("LIBGUEST_BENCH_CALLS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(200);
    let bindings = [
        Binding {
            label: "libguest.guestfs (TCG)",
            python: venv_python.display().to_string(),
            module: "libguest.guestfs",
            env: vec![("LIBGUEST_BACKEND", "tcg")],
        },
        Binding {
            label: "guestfs (libguestfs, TCG)",
            python: "/usr/bin/python3".into(),
            module: "guestfs",
            env: vec![
                ("LIBGUESTFS_BACKEND", "direct"),
                ("LIBGUESTFS_BACKEND_SETTINGS", "force_tcg"),
            ],
        },
    ];
    println!("python bench: {image} read-only, {iters} rounds per binding after a warm-up, {calls} small calls per round");
    let mut results = Vec::new();
    for b in &bindings {
        round(b, &script, &image, calls);
        let rounds: Vec<Round> = (0..iters)
            .map(|_| round(b, &script, &image, calls))
            .collect();
        results.push(rounds);
    }
    println!(
        "| phase (median ms) | {} | {} | ratio libguestfs / libguest |",
        bindings[0].label, bindings[1].label
    );
    println!("|---|---|---|---|");
    let phases: Vec<String> = results[0][0].times.keys().cloned().collect();
    for phase in &phases {
        let pick = |rounds: &[Round]| median(rounds.iter().map(|r| r.times[phase]).collect());
        let (ours, peer) = (pick(&results[0]), pick(&results[1]));
        // Per-call rows in µs: a host-only call takes well under 1 ms.
        let (scale, unit) = if phase.contains("per call") {
            (1000.0, " µs")
        } else {
            (1.0, "")
        };
        println!(
            "| {phase}{unit} | {:.2} | {:.2} | {:.2}x |",
            ours * scale,
            peer * scale,
            peer / ours
        );
    }
    let (ours, peer) = (&results[0][0].checks, &results[1][0].checks);
    println!("returned: {ours} vs {peer}");
    if ours != peer {
        eprintln!("python bench: the two bindings returned different things");
        std::process::exit(1);
    }
}
