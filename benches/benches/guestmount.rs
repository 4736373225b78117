//! `libguest mount` against libguestfs's guestmount on the same Debian 12
//! disk, in one run, both on qemu TCG on this host (libguestfs's direct
//! backend with force_tcg; our `--backend tcg`): the time to mount
//! (`-i --ro`), `find MP | wc -l`, `ls -lR MP | wc -l` (attributes and
//! each file's ACL xattr), `tar c -C MP . | wc -c` and the unmount
//! (guestunmount returns once the FUSE mount is gone; `libguest unmount`
//! also waits for the appliance's shutdown). Both must list the same
//! number of names; tar's byte counts differ where guestmount gives hard
//! links distinct inodes (tar then stores each copy).
//!
//!     cargo bench -p libguest-benches --bench guestmount
//!
//! LIBGUEST_BENCH_ITERS sets the rounds per tool (default 3), after one
//! uncounted warm-up each (libguestfs's first run builds its supermin
//! appliance). guestmount comes from Debian's libguestfs-tools; runs as
//! root (FUSE mounts of the guest's root-owned tree).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use libguest_benches::summarize;
use libguest_tests::images::debian_image;

/// One round: the phases' wall times and what the readers counted.
struct Round {
    mount: Duration,
    find: Duration,
    ls: Duration,
    tar: Duration,
    unmount: Duration,
    names: u64,
    tar_bytes: u64,
}

/// Which of a round's times a table row shows.
type Phase = fn(&Round) -> Duration;

struct Tool {
    label: &'static str,
    mount: Vec<String>,
    unmount: Vec<String>,
    env: Vec<(&'static str, &'static str)>,
}

fn run(argv: &[String], env: &[(&str, &str)]) -> Duration {
    let start = Instant::now();
    let out = Command::new(&argv[0])
        .args(&argv[1..])
        .envs(env.iter().copied())
        .output()
        .unwrap_or_else(|e| panic!("{}: {e}", argv[0]));
    let took = start.elapsed();
    assert!(
        out.status.success(),
        "{argv:?} failed ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    took
}

/// A shell pipeline's time and the number `wc` printed.
fn counted(pipeline: &str) -> (Duration, u64) {
    let start = Instant::now();
    let out = Command::new("sh")
        .args(["-c", pipeline])
        .output()
        .expect("run sh");
    let took = start.elapsed();
    let text = String::from_utf8_lossy(&out.stdout);
    let n = text.trim().parse().unwrap_or_else(|_| {
        panic!(
            "{pipeline}: printed {text:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (took, n)
}

fn round(tool: &Tool, mp: &Path) -> Round {
    let mp_text = mp.display().to_string();
    let mut mount = tool.mount.clone();
    mount.push(mp_text.clone());
    let mount_time = run(&mount, &tool.env);
    let (find, names) = counted(&format!("find {mp_text} | wc -l"));
    // ls -l asks for each file's ACL (an extended attribute).
    let (ls, _) = counted(&format!("ls -lR {mp_text} 2>/dev/null | wc -l"));
    // tar warns (exit 1) on sockets it skips; the byte count is the figure.
    let (tar, tar_bytes) = counted(&format!("tar c -C {mp_text} . 2>/dev/null | wc -c"));
    let mut unmount = tool.unmount.clone();
    unmount.push(mp_text);
    let unmount_time = run(&unmount, &tool.env);
    Round {
        mount: mount_time,
        find,
        ls,
        tar,
        unmount: unmount_time,
        names,
        tar_bytes,
    }
}

fn which(program: &str) -> Option<PathBuf> {
    libguest_tests::testhost::which(program)
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let image = debian_image();
    let img = image.display().to_string();
    let libguest = libguest_benches::release_cli(&root).display().to_string();
    let (Some(guestmount), Some(guestunmount)) = (which("guestmount"), which("guestunmount"))
    else {
        eprintln!(
            "guestmount bench: guestmount not found; run `apt-get install -y libguestfs-tools` as root"
        );
        std::process::exit(1);
    };
    let iters = libguest_benches::iterations(3);
    let tools = [
        Tool {
            label: "libguest mount (--backend tcg)",
            mount: vec![
                libguest.clone(),
                "mount".into(),
                "--backend".into(),
                "tcg".into(),
                "--ro".into(),
                "-a".into(),
                img.clone(),
                "-i".into(),
            ],
            unmount: vec![libguest.clone(), "unmount".into()],
            env: vec![],
        },
        Tool {
            label: "guestmount (libguestfs, direct backend, TCG)",
            mount: vec![
                guestmount.display().to_string(),
                "--ro".into(),
                "-a".into(),
                img.clone(),
                "-i".into(),
            ],
            unmount: vec![guestunmount.display().to_string()],
            env: vec![
                ("LIBGUESTFS_BACKEND", "direct"),
                ("LIBGUESTFS_BACKEND_SETTINGS", "force_tcg"),
            ],
        },
    ];
    println!("guestmount bench: {img} read-only, -i, {iters} rounds per tool after a warm-up");
    let dir = tempfile::tempdir().expect("temp dir");
    let mut results = Vec::new();
    for tool in &tools {
        let mp = dir.path().join("mnt");
        std::fs::create_dir_all(&mp).expect("mountpoint");
        round(tool, &mp);
        let rounds: Vec<Round> = (0..iters).map(|_| round(tool, &mp)).collect();
        results.push(rounds);
    }
    let median = |rounds: &[Round], pick: Phase| {
        summarize(&rounds.iter().map(pick).collect::<Vec<_>>()).median_ms
    };
    let phases: [(&str, Phase); 5] = [
        ("mount -i --ro", |r| r.mount),
        ("find (wc -l)", |r| r.find),
        ("ls -lR (wc -l)", |r| r.ls),
        ("tar c . (wc -c)", |r| r.tar),
        ("unmount", |r| r.unmount),
    ];
    println!(
        "| phase (median ms) | {} | {} | ratio guestmount / libguest |",
        tools[0].label, tools[1].label
    );
    println!("|---|---|---|---|");
    for (name, pick) in phases {
        let ours = median(&results[0], pick);
        let peer = median(&results[1], pick);
        println!("| {name} | {ours:.0} | {peer:.0} | {:.2}x |", peer / ours);
    }
    let counts = |rounds: &[Round]| (rounds[0].names, rounds[0].tar_bytes);
    let (ours, peer) = (counts(&results[0]), counts(&results[1]));
    println!(
        "names: {} vs {}; tar bytes: {} vs {}",
        ours.0, peer.0, ours.1, peer.1
    );
    if ours.0 != peer.0 {
        eprintln!("guestmount bench: the two mounts list different numbers of names");
        std::process::exit(1);
    }
}
