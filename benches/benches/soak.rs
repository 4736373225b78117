//! Soak: many 16 MiB `upload`s and `download`s through one appliance per
//! (backend, load) cell, every transfer checked, every appliance death
//! recorded with its exit reason and console tail (issue 10, item 11).
//!
//! Cells: our VMM and its peer, qemu microvm `-accel kvm`, on the same KVM
//! (inside one e2e test host where /dev/kvm cannot run Linux), each idle
//! and with a CPU hog (one spinning thread per CPU of the host the
//! appliance runs on). An appliance that dies is relaunched and the cell
//! goes on; the death counts, it is never retried away.
//!
//!     cargo bench -p libguest-benches --bench soak
//!
//! LIBGUEST_SOAK_ITERS: iterations per cell, each one upload + one download
//! (default 60); LIBGUEST_SOAK_BACKENDS=kvm or peer for one backend;
//! LIBGUEST_SOAK_LOADS=idle or hog for one load; LIBGUEST_SOAK_BUDGET_S:
//! wall-clock budget of all cells together (default 780 s), shared equally,
//! after which a cell stops and says so; LIBGUEST_SOAK_CALL_TIMEOUT_S: the
//! per-call timeout (default 60 s) that turns a hang into a counted death.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use libguest::{Backend, Error, Guest};
use libguest_benches::soak::{classify, report, tail, Cell, Death, TAIL_LINES};
use libguest_tests::images::partitioned_ext4;
use libguest_tests::testhost::{self, TestHost};
use libguest_tests::Mode;
use sha2::{Digest, Sha256};

const FILE_BYTES: usize = 16 << 20;
const DEFAULT_ITERS: usize = 60;
// Measured 2026-12-03 in the test host: about 4.6 s per iteration on our
// VMM and 2.8 s on the peer, idle, so the 780 s budget (195 s a cell)
// usually ends a cell first, at about 40-60 iterations.
const DEFAULT_BUDGET_S: u64 = 780;
/// Launch failures in a row after which a cell gives up.
const MAX_LAUNCH_FAILURES: u32 = 3;
/// Set once any appliance ran in this process (this test host's KVM works).
static LAUNCHED_ONCE: AtomicBool = AtomicBool::new(false);
const OURS: &str = "our VMM";
const PEER: &str = "qemu -accel kvm";

fn env_u64(key: &str, default: u64) -> u64 {
    std::env::var(key)
        .ok()
        .and_then(|s| s.parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or(default)
}

fn main() {
    match (
        std::env::var_os(libguest_tests::INSIDE_ENV).is_some(),
        libguest_tests::mode(),
    ) {
        (false, Mode::TestHost) => in_test_host(),
        _ => soak(
            "on the KVM of the machine it runs on (nested KVM under qemu TCG in the e2e test host)",
        ),
    }
}

fn in_test_host() {
    let budget = env_u64("LIBGUEST_SOAK_BUDGET_S", DEFAULT_BUDGET_S);
    if std::env::var_os("LIBGUEST_TESTHOST_TIMEOUT").is_none() {
        // The budget, the launches and a cell's last calls.
        std::env::set_var("LIBGUEST_TESTHOST_TIMEOUT", (budget + 300).to_string());
    }
    let init = Path::new(env!("CARGO_BIN_EXE_bench-testhost-init"));
    let started = Instant::now();
    // A test host whose nested KVM never runs a guest is replaced, as the
    // e2e harness does (at most three tries). Deaths of the appliance
    // inside are the soak's result and are never retried.
    for attempt in 1..=3 {
        let result = TestHost::new(init).and_then(|mut host| {
            host.add_appliance_kernel(&libguest_tests::appliance_kernel())?;
            libguest_benches::add_qemu(&mut host)?;
            if let Some(path) = testhost::which("mke2fs") {
                host.add_program(&path, &path.to_string_lossy())?;
            }
            for (k, v) in std::env::vars() {
                if k.starts_with("LIBGUEST_SOAK_") || k == "RUST_LOG" {
                    host.set_env(&k, &v);
                }
            }
            let exe =
                std::env::current_exe().map_err(|e| testhost::TestHostError(e.to_string()))?;
            host.run(&exe, &[])
        });
        match result {
            Ok(o) if o.exit_code == Some(0) => {
                println!(
                    "soak: test host wall {:.0} s (boot included)",
                    started.elapsed().as_secs_f64()
                );
                return;
            }
            Ok(o) if attempt < 3 && o.output.contains(libguest_tests::NEVER_RAN_PHRASE) => {
                eprintln!("soak bench: the test host's KVM never ran the appliance; booting a new test host");
            }
            Ok(_) => std::process::exit(1),
            Err(e) => {
                eprintln!("soak bench: {e}");
                std::process::exit(1);
            }
        }
    }
}

fn soak(place: &str) {
    let iters = env_u64("LIBGUEST_SOAK_ITERS", DEFAULT_ITERS as u64) as usize;
    let budget = Duration::from_secs(env_u64("LIBGUEST_SOAK_BUDGET_S", DEFAULT_BUDGET_S));
    let call_timeout = Duration::from_secs(env_u64("LIBGUEST_SOAK_CALL_TIMEOUT_S", 60));
    let backends = std::env::var("LIBGUEST_SOAK_BACKENDS").unwrap_or_else(|_| "kvm,peer".into());
    let loads = std::env::var("LIBGUEST_SOAK_LOADS").unwrap_or_else(|_| "idle,hog".into());
    let mut plan = Vec::new();
    for load in [false, true] {
        if !loads.contains(if load { "hog" } else { "idle" }) {
            continue;
        }
        if backends.contains("kvm") {
            plan.push((OURS, load));
        }
        if backends.contains("peer") {
            plan.push((PEER, load));
        }
    }
    let share = budget / plan.len().max(1) as u32;
    let dir = tempfile::tempdir().expect("temp dir");
    println!(
        "soak: write guard {} (debug assertions {})",
        if cfg!(debug_assertions) {
            "on"
        } else {
            "off: build with CARGO_PROFILE_BENCH_DEBUG_ASSERTIONS=true to check device writes"
        },
        cfg!(debug_assertions)
    );
    println!(
        "soak: {iters} iterations per cell (16 MiB upload + download each), {} cells, budget {} s, {place}",
        plan.len(),
        budget.as_secs()
    );
    let mut cells = Vec::new();
    for (i, &(backend, load)) in plan.iter().enumerate() {
        let image = dir.path().join(format!("soak{i}.img"));
        let uuid = format!("4c475354-0000-4000-8000-0000000050a{i}");
        partitioned_ext4(&image, 96, "soak", &uuid);
        let hog = load.then(Hog::start);
        let cell = run_cell(backend, load, &image, iters, share, call_timeout, i as u64);
        drop(hog);
        std::fs::remove_file(&image).expect("remove image");
        println!(
            "soak: {backend} / {}: {} iterations, {} deaths, {:.0} s",
            if load { "CPU hog" } else { "idle" },
            cell.iterations,
            cell.deaths.len(),
            cell.wall.as_secs_f64()
        );
        cells.push(cell);
    }
    println!(
        "\nSoak, {place}:\n{}",
        report(&cells, FILE_BYTES as u64, PEER)
    );
}

/// One spinning thread per CPU until dropped.
struct Hog {
    stop: Arc<AtomicBool>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl Hog {
    fn start() -> Hog {
        let stop = Arc::new(AtomicBool::new(false));
        let n = std::thread::available_parallelism().map_or(2, |n| n.get());
        let threads = (0..n)
            .map(|_| {
                let stop = stop.clone();
                std::thread::spawn(move || {
                    let mut x = 1u64;
                    while !stop.load(Ordering::Relaxed) {
                        for _ in 0..10_000 {
                            x = std::hint::black_box(
                                x.wrapping_mul(6364136223846793005).wrapping_add(1),
                            );
                        }
                    }
                })
            })
            .collect();
        Hog { stop, threads }
    }
}

impl Drop for Hog {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

fn launch(
    backend: &str,
    image: &Path,
    call_timeout: Duration,
) -> Result<Guest, Box<(Error, String)>> {
    let mut g = Guest::new().map_err(|e| Box::new((e, String::new())))?;
    let chosen = if backend == OURS {
        Backend::Kvm
    } else {
        std::env::set_var("LIBGUEST_QEMU_ACCEL", "kvm");
        Backend::Tcg
    };
    let tail_of = |g: &Guest| tail(&g.console_log(), TAIL_LINES);
    g.set_backend(chosen)
        .map_err(|e| Box::new((e, String::new())))?;
    g.add_drive(image)
        .map_err(|e| Box::new((e, String::new())))?;
    g.set_call_timeout(Some(call_timeout));
    if let Err(e) = g.launch() {
        let t = tail_of(&g);
        return Err(Box::new((e, t)));
    }
    if let Err(e) = g.mount("/dev/sda1", "/") {
        let t = tail_of(&g);
        return Err(Box::new((e, t)));
    }
    Ok(g)
}

fn hex(d: &[u8]) -> String {
    d.iter().map(|b| format!("{b:02x}")).collect()
}

/// What went wrong in one step of an iteration.
enum Step {
    /// The call failed (the appliance may or may not still answer).
    Failed(Error),
    /// The call succeeded but the content differs.
    Corrupt(String),
}

#[allow(clippy::too_many_arguments)]
fn run_cell(
    backend: &str,
    load: bool,
    image: &Path,
    iters: usize,
    budget: Duration,
    call_timeout: Duration,
    seed: u64,
) -> Cell {
    let started = Instant::now();
    let mut cell = Cell {
        backend: backend.into(),
        load,
        ..Cell::default()
    };
    let guard_at_start = vmm::guard_violations();
    let mut guest: Option<Guest> = None;
    let mut launch_failures = 0;
    let mut down = Vec::with_capacity(FILE_BYTES);
    for i in 0..iters {
        if started.elapsed() > budget {
            cell.cut_short = Some(format!(
                "the cell's share of the budget ({} s) ran out after {i} of {iters} iterations",
                budget.as_secs()
            ));
            break;
        }
        let g = match guest.as_mut() {
            Some(g) => g,
            None => {
                cell.launches += 1;
                match launch(backend, image, call_timeout) {
                    Ok(g) => {
                        LAUNCHED_ONCE.store(true, Ordering::SeqCst);
                        launch_failures = 0;
                        guest.insert(g)
                    }
                    Err(b)
                        if !LAUNCHED_ONCE.load(Ordering::SeqCst)
                            && b.0.to_string().contains(libguest_tests::NEVER_RAN_PHRASE) =>
                    {
                        // This test host's nested KVM runs nothing: not an
                        // appliance death. Exit non-zero so that the bench
                        // outside boots another test host.
                        eprintln!("soak: {backend}: first launch in this test host: {}", b.0);
                        std::process::exit(1);
                    }
                    Err(b) => {
                        let (e, console_tail) = *b;
                        cell.deaths.push(Death {
                            iteration: i,
                            during: "launch",
                            kind: classify(
                                &e,
                                &console_tail,
                                vmm::guard_violations() > guard_at_start,
                            ),
                            error: e.to_string(),
                            console_tail,
                        });
                        cell.up_failed += 1;
                        cell.down_failed += 1;
                        launch_failures += 1;
                        if launch_failures >= MAX_LAUNCH_FAILURES {
                            cell.cut_short =
                                Some(format!("{launch_failures} launches failed in a row"));
                            cell.iterations = i + 1;
                            break;
                        }
                        continue;
                    }
                }
            }
        };
        cell.iterations = i + 1;
        let data = libguest_tests::pattern(0, FILE_BYTES, (seed << 32) | i as u64);
        let want = hex(&Sha256::digest(&data));
        let remote = format!("/soak{}.bin", i % 2);

        let t = Instant::now();
        let up = g
            .upload(&mut &data[..], &remote)
            .map_err(Step::Failed)
            .and_then(|()| {
                let elapsed = t.elapsed();
                let got = g.checksum("sha256", &remote).map_err(Step::Failed)?;
                match got == want {
                    true => Ok(elapsed),
                    false => Err(Step::Corrupt(format!(
                        "guest sha256 {got}, uploaded {want}"
                    ))),
                }
            });
        let up_err = match up {
            Ok(elapsed) => {
                cell.up_ok += 1;
                cell.up_times.push(elapsed);
                None
            }
            Err(step) => {
                cell.up_failed += 1;
                Some(("upload", step))
            }
        };
        let down_err = match up_err {
            Some(e) => {
                cell.down_failed += 1; // nothing sound to download
                Some(e)
            }
            None => {
                down.clear();
                let t = Instant::now();
                match g.download(&remote, &mut down) {
                    Ok(()) => {
                        let elapsed = t.elapsed();
                        let got = hex(&Sha256::digest(&down));
                        if got == want && down.len() == FILE_BYTES {
                            cell.down_ok += 1;
                            cell.down_times.push(elapsed);
                            None
                        } else {
                            cell.down_failed += 1;
                            Some((
                                "download",
                                Step::Corrupt(format!(
                                    "downloaded {} bytes, sha256 {got}; uploaded {want}",
                                    down.len()
                                )),
                            ))
                        }
                    }
                    Err(e) => {
                        cell.down_failed += 1;
                        Some(("download", Step::Failed(e)))
                    }
                }
            }
        };
        // One line per iteration: if the whole test host resets (its
        // console then stops), the last line says where.
        println!(
            "soak: {backend} / {} iteration {i}: up {:.0} ms, down {:.0} ms, {}",
            if load { "hog" } else { "idle" },
            cell.up_times
                .last()
                .map_or(f64::NAN, |d| d.as_secs_f64() * 1e3),
            cell.down_times
                .last()
                .map_or(f64::NAN, |d| d.as_secs_f64() * 1e3),
            if down_err.is_some() { "FAILED" } else { "ok" }
        );
        let Some((during, step)) = down_err else {
            if i % 8 == 7 {
                if let Err(e) = g.sync() {
                    record_failure(
                        &mut cell,
                        &mut guest,
                        i,
                        "sync",
                        Step::Failed(e),
                        guard_at_start,
                    );
                }
            }
            continue;
        };
        record_failure(&mut cell, &mut guest, i, during, step, guard_at_start);
    }
    if let Some(mut g) = guest.take() {
        if let Err(e) = g.shutdown() {
            eprintln!("soak: {backend}: shutdown: {e}");
        }
    }
    cell.wall = started.elapsed();
    cell.guard_violations = vmm::guard_violations() - guard_at_start;
    cell
}

/// A failed step: a corrupt transfer is counted and the appliance kept;
/// a failed call whose appliance no longer answers is a death, and the
/// appliance is dropped so that the next iteration launches another.
fn record_failure(
    cell: &mut Cell,
    guest: &mut Option<Guest>,
    iteration: usize,
    during: &'static str,
    step: Step,
    guard_before: u64,
) {
    let e = match step {
        Step::Corrupt(what) => {
            cell.corrupt += 1;
            eprintln!(
                "soak: {} iteration {iteration}: {during} corrupt: {what}",
                cell.backend
            );
            return;
        }
        Step::Failed(e) => e,
    };
    let Some(g) = guest.as_mut() else { return };
    if g.ping_daemon().is_ok() {
        eprintln!(
            "soak: {} iteration {iteration}: {during} failed, appliance alive: {e}",
            cell.backend
        );
        return;
    }
    let console_tail = match &e {
        Error::GuestDied { console_tail, .. } | Error::KernelPanic { console_tail } => {
            tail(console_tail, TAIL_LINES)
        }
        _ => tail(&g.console_log(), TAIL_LINES),
    };
    let kind = classify(&e, &console_tail, vmm::guard_violations() > guard_before);
    eprintln!(
        "soak: {} iteration {iteration}: appliance died during {during}: {}: {e}",
        cell.backend,
        kind.label()
    );
    cell.deaths.push(Death {
        iteration,
        during,
        kind,
        error: e.to_string(),
        console_tail,
    });
    if let Some(mut g) = guest.take() {
        let _ = g.shutdown();
    }
}
