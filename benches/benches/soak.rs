//! Soak: many 16 MiB `upload`s and `download`s through one appliance per
//! (backend, load) cell, every transfer checked, every appliance death
//! recorded with its exit reason and console tail (issue 10, item 11).
//!
//! Cells: our VMM and its peer, qemu microvm `-accel kvm`, on the same KVM
//! (inside the e2e test host where /dev/kvm cannot run Linux), each idle
//! and with a CPU hog (one spinning thread per CPU of the host the
//! appliance runs on). The two backends of a load run side by side,
//! iteration by iteration, so that they share the test host's moments. An
//! appliance that dies is relaunched and the cell goes on; the death
//! counts, it is never retried away. A test host that resets (the emulated
//! machine around both backends) is counted against the backend that was
//! running, and a new test host resumes the run where it stopped.
//!
//!     cargo bench -p libguest-benches --bench soak
//!
//! LIBGUEST_SOAK_ITERS: iterations per cell, each one upload + one download
//! (default 100); LIBGUEST_SOAK_BACKENDS=kvm or peer for one backend;
//! LIBGUEST_SOAK_LOADS=idle or hog for one load; LIBGUEST_SOAK_BUDGET_S:
//! wall-clock budget of the whole run (default 2400 s), shared by the
//! loads, after which a cell stops and says so; LIBGUEST_SOAK_CALL_TIMEOUT_S: the
//! per-call timeout (default 60 s) that turns a hang into a counted death;
//! LIBGUEST_SOAK_BOOT_S: the most one test host works before the next one
//! resumes the run (default 600 s); LIBGUEST_SOAK_PEER_IRQCHIP=on|split|off:
//! the peer's `kernel-irqchip` (microvm's default is split; `on` gives it
//! our VMM's full in-kernel irqchip); LIBGUEST_SOAK_CHURN=1: a thread that
//! maps and unmaps memory in this process all along (see `Churn`).
//! LIBGUEST_VMM_GUARD=1 turns on the
//! VMM's guest-write guard in this release build (debug builds always
//! check), so a device write outside its chain is caught and counted.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use libguest::{Backend, Error, Guest};
use libguest_benches::soak::record::{at_line, last_at, IterRecord, Transfer};
use libguest_benches::soak::{classify, report, tail, Cell, Death, DeathKind, TAIL_LINES};
use libguest_tests::images::partitioned_ext4;
use libguest_tests::testhost::{self, TestHost};
use libguest_tests::Mode;
use sha2::{Digest, Sha256};

const FILE_BYTES: usize = 16 << 20;
const DEFAULT_ITERS: usize = 100;
// Measured 2026-12-03 in the test host: about 4.6 s per iteration on our
// VMM and 2.8 s on the peer, idle, about twice that with the hog.
const DEFAULT_BUDGET_S: u64 = 2400;
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

/// Boots at most this many test hosts in one run: one that resets is
/// replaced and the run resumes where it stopped.
const MAX_BOOTS: u32 = 8;

fn in_test_host() {
    let budget = Duration::from_secs(env_u64("LIBGUEST_SOAK_BUDGET_S", DEFAULT_BUDGET_S));
    let iters = env_u64("LIBGUEST_SOAK_ITERS", DEFAULT_ITERS as u64) as usize;
    let init = Path::new(env!("CARGO_BIN_EXE_bench-testhost-init"));
    let started = Instant::now();
    let mut cells = plan()
        .into_iter()
        .map(|(backend, load)| new_cell(backend, load))
        .collect::<Vec<_>>();
    let mut boots = 0;
    let mut never_ran = 0;
    let mut ended = "every cell ran its iterations".to_string();
    while cells.iter().any(|c| c.iterations < iters) {
        let Some(left) = budget.checked_sub(started.elapsed()) else {
            ended = format!("the budget ({} s) ran out", budget.as_secs());
            break;
        };
        // One boot works at most BOOT_S, then the next resumes: a test host
        // that wedges (seen once: its vCPU spinning, nothing on the console,
        // no call timeout firing inside) costs one boot's timeout, not the
        // whole run's.
        let left = left.min(Duration::from_secs(env_u64("LIBGUEST_SOAK_BOOT_S", 600)));
        if boots == MAX_BOOTS {
            ended = format!("{MAX_BOOTS} test hosts booted");
            break;
        }
        boots += 1;
        let resume = cells
            .iter()
            .map(|c| format!("{}-{}:{}", c.key, load_name(c.load), c.iterations))
            .collect::<Vec<_>>()
            .join(",");
        // The budget, the launches and a cell's last calls (read by
        // TestHost::new).
        std::env::set_var(
            "LIBGUEST_TESTHOST_TIMEOUT",
            (left.as_secs() + 240).to_string(),
        );
        let result = TestHost::new(init).and_then(|mut host| {
            // A reset is counted here and resumed, never retried from the
            // start; an oops of the test-host kernel reaches the console.
            host.set_retry_resets(false);
            host.set_kernel_loglevel(4);
            host.add_appliance_kernel(&libguest_tests::appliance_kernel())?;
            libguest_benches::add_qemu(&mut host)?;
            if let Some(path) = testhost::which("mke2fs") {
                host.add_program(&path, &path.to_string_lossy())?;
            }
            for (k, v) in std::env::vars() {
                if k.starts_with("LIBGUEST_SOAK_") || k == "RUST_LOG" || k == "LIBGUEST_VMM_GUARD" {
                    host.set_env(&k, &v);
                }
            }
            host.set_env("LIBGUEST_SOAK_BUDGET_S", &left.as_secs().max(1).to_string());
            host.set_env(RESUME_ENV, &resume);
            let exe =
                std::env::current_exe().map_err(|e| testhost::TestHostError(e.to_string()))?;
            host.run(&exe, &[])
        });
        let outcome = match result {
            Ok(o) => o,
            Err(e) => {
                eprintln!("soak bench: {e}");
                std::process::exit(1);
            }
        };
        let mut counted = 0;
        for r in outcome.output.lines().filter_map(IterRecord::parse) {
            if let Some(c) = cells
                .iter_mut()
                .find(|c| c.key == r.backend && c.load == r.load)
            {
                c.apply(&r);
                counted += 1;
            }
        }
        println!(
            "soak: test host {boots}: {counted} iterations counted, exit {:?}, {:.0} s into the run",
            outcome.exit_code,
            started.elapsed().as_secs_f64()
        );
        for line in outcome.output.lines().filter(|l| l.contains("soak:")) {
            println!("  | {line}");
        }
        match outcome.exit_code {
            Some(0) => {}
            _ if counted == 0 && outcome.output.contains(libguest_tests::NEVER_RAN_PHRASE) => {
                // This test host's nested KVM never ran a guest: replaced,
                // as the e2e harness does, and not counted as a reset.
                never_ran += 1;
                if never_ran == 3 {
                    ended = "three test hosts in a row never ran a guest".into();
                    break;
                }
            }
            code => {
                // The test host died (or its program failed) under one
                // backend's iteration: the last SOAK-AT line says whose.
                never_ran = 0;
                let at = last_at(&outcome.output);
                let cell = at.as_ref().and_then(|(key, load)| {
                    cells.iter_mut().find(|c| &c.key == key && c.load == *load)
                });
                let tail = tail(&outcome.output, 6);
                match cell {
                    Some(c) => {
                        c.host_resets += 1;
                        println!(
                            "soak: test host {boots} ended (exit {code:?}) during {} / {}; its console ended:\n{tail}",
                            c.backend,
                            load_name(c.load)
                        );
                    }
                    None => {
                        println!("soak: test host {boots} ended (exit {code:?}) before any iteration; its console ended:\n{tail}");
                    }
                }
            }
        }
    }
    for c in &mut cells {
        // The cells ran interleaved: each one's wall is the whole run's.
        c.wall = started.elapsed();
    }
    println!(
        "\nSoak, our VMM and qemu -accel kvm interleaved inside the e2e test host (nested KVM under qemu TCG), {boots} test-host boots, {:.0} s; stopped because {ended}:\n{}",
        started.elapsed().as_secs_f64(),
        report(&cells, FILE_BYTES as u64, PEER)
    );
}

/// `ours-idle:12,peer-idle:11,...`: the next iteration of each cell, for a
/// test host that resumes a run.
const RESUME_ENV: &str = "LIBGUEST_SOAK_RESUME";

fn load_name(load: bool) -> &'static str {
    if load {
        "hog"
    } else {
        "idle"
    }
}

/// The cells asked for: (backend, load).
fn plan() -> Vec<(&'static str, bool)> {
    let backends = std::env::var("LIBGUEST_SOAK_BACKENDS").unwrap_or_else(|_| "kvm,peer".into());
    let loads = std::env::var("LIBGUEST_SOAK_LOADS").unwrap_or_else(|_| "idle,hog".into());
    let mut plan = Vec::new();
    for load in [false, true] {
        if !loads.contains(load_name(load)) {
            continue;
        }
        if backends.contains("kvm") {
            plan.push((OURS, load));
        }
        if backends.contains("peer") {
            plan.push((PEER, load));
        }
    }
    plan
}

fn new_cell(backend: &str, load: bool) -> Cell {
    Cell {
        backend: backend.into(),
        key: if backend == OURS { "ours" } else { "peer" }.into(),
        load,
        ..Cell::default()
    }
}

/// The next iteration of (key, load) according to [`RESUME_ENV`].
fn resume_at(key: &str, load: bool) -> usize {
    let want = format!("{key}-{}", load_name(load));
    std::env::var(RESUME_ENV)
        .unwrap_or_default()
        .split(',')
        .filter_map(|e| e.split_once(':'))
        .find(|(k, _)| *k == want)
        .and_then(|(_, n)| n.parse().ok())
        .unwrap_or(0)
}

/// Both backends of a load side by side: iteration i runs on one, then
/// the other (alternating which goes first), so that they share the same
/// moments of the test host's life, and a reset of the test host falls on
/// one of them by chance alone.
fn soak(place: &str) {
    let iters = env_u64("LIBGUEST_SOAK_ITERS", DEFAULT_ITERS as u64) as usize;
    let budget = Duration::from_secs(env_u64("LIBGUEST_SOAK_BUDGET_S", DEFAULT_BUDGET_S));
    let call_timeout = Duration::from_secs(env_u64("LIBGUEST_SOAK_CALL_TIMEOUT_S", 60));
    let plan = plan();
    let loads: Vec<bool> = [false, true]
        .into_iter()
        .filter(|l| plan.iter().any(|p| p.1 == *l))
        .collect();
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
    let started = Instant::now();
    let mut cells = Vec::new();
    for (n, &load) in loads.iter().enumerate() {
        // The budget left, shared by the loads still to run.
        let phase_end =
            started + budget.saturating_sub(started.elapsed()) / (loads.len() - n) as u32;
        let mut runners: Vec<Runner> = plan
            .iter()
            .enumerate()
            .filter(|(_, p)| p.1 == load)
            .map(|(i, &(backend, load))| {
                let image = dir.path().join(format!("soak{i}.img"));
                let uuid = format!("4c475354-0000-4000-8000-0000000050a{i}");
                partitioned_ext4(&image, 96, "soak", &uuid);
                let cell = new_cell(backend, load);
                Runner {
                    next: resume_at(&cell.key, load),
                    cell,
                    image,
                    guest: None,
                    launch_failures: 0,
                    described: false,
                    seed: i as u64,
                    down: Vec::with_capacity(FILE_BYTES),
                }
            })
            .collect();
        let hog = load.then(Hog::start);
        let _churn = std::env::var_os("LIBGUEST_SOAK_CHURN").map(|_| Churn::start());
        let phase_started = Instant::now();
        let first = runners.iter().map(|r| r.next).min().unwrap_or(iters);
        'phase: for i in first..iters {
            let order: Vec<usize> = if i % 2 == 0 {
                (0..runners.len()).collect()
            } else {
                (0..runners.len()).rev().collect()
            };
            for k in order {
                if Instant::now() > phase_end {
                    for r in &mut runners {
                        r.cell.cut_short = Some(format!(
                            "the phase's share of the budget ran out at iteration {i} of {iters}"
                        ));
                    }
                    break 'phase;
                }
                let r = &mut runners[k];
                if r.next > i || r.cell.cut_short.is_some() {
                    continue;
                }
                println!("{}", at_line(&r.cell.key, load, i));
                let record = r.iterate(i, call_timeout);
                println!("{}", record.line());
                r.cell.apply(&record);
                r.next = i + 1;
            }
        }
        drop(hog);
        for mut r in runners {
            if let Some(mut g) = r.guest.take() {
                if let Err(e) = g.shutdown() {
                    eprintln!("soak: {}: shutdown: {e}", r.cell.backend);
                }
            }
            std::fs::remove_file(&r.image).expect("remove image");
            r.cell.wall = phase_started.elapsed();
            println!(
                "soak: {} / {}: {} iterations, {} deaths, {:.0} s",
                r.cell.backend,
                load_name(load),
                r.cell.iterations,
                r.cell.death_kinds.len(),
                r.cell.wall.as_secs_f64()
            );
            cells.push(r.cell);
        }
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
        if let Ok(mode) = std::env::var("LIBGUEST_SOAK_PEER_IRQCHIP") {
            std::env::set_var("LIBGUEST_QEMU_KERNEL_IRQCHIP", mode);
        }
        Backend::Tcg
    };
    let tail_of = |g: &Guest| tail(&g.console_log(), TAIL_LINES);
    g.set_backend(chosen)
        .map_err(|e| Box::new((e, String::new())))?;
    g.add_drive(image)
        .map_err(|e| Box::new((e, String::new())))?;
    g.set_call_timeout(Some(call_timeout));
    // Every kernel message reaches the console tail of a death (quiet
    // hides an oops's details).
    g.set_append(Some("loglevel=7".into()))
        .map_err(|e| Box::new((e, String::new())))?;
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

/// Prints the appliance's boot log and CPU flags once per cell, so that
/// the two backends' guests can be compared line by line (CPUID as the
/// guest sees it, clocksource, paravirt features).
fn describe(backend: &str, g: &mut Guest) {
    let flags = g.debug("proc", &["cpuinfo"]).map(|c| {
        c.lines()
            .find(|l| l.starts_with("flags"))
            .unwrap_or("flags: (none)")
            .to_string()
    });
    for (what, text) in [
        ("dmesg", g.debug("dmesg", &[])),
        ("cpu", flags),
        ("cpuid", g.debug("cpuid", &[])),
    ] {
        match text {
            Ok(text) => {
                for line in text.lines() {
                    println!("soak: {backend} {what} | {line}");
                }
            }
            Err(e) => println!("soak: {backend} {what}: {e}"),
        }
    }
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

/// One backend's appliance through a load phase.
struct Runner {
    cell: Cell,
    image: PathBuf,
    guest: Option<Guest>,
    /// The next iteration this runner has to run.
    next: usize,
    launch_failures: u32,
    /// Whether the appliance's kernel log and CPU flags were printed.
    described: bool,
    seed: u64,
    down: Vec<u8>,
}

impl Runner {
    /// Iteration `i`: launch if needed, upload a fresh pattern, check its
    /// sha256 in the guest, download it and check it here.
    fn iterate(&mut self, i: usize, call_timeout: Duration) -> IterRecord {
        let guard_before = vmm::guard_violations();
        let mut record = IterRecord::failed(self.cell.key.clone(), self.cell.load, i);
        let backend = self.cell.backend.clone();
        if self.guest.is_none() {
            record.launches = 1;
            match launch(&backend, &self.image, call_timeout) {
                Ok(mut g) => {
                    LAUNCHED_ONCE.store(true, Ordering::SeqCst);
                    self.launch_failures = 0;
                    if !self.described {
                        self.described = true;
                        describe(&backend, &mut g);
                    }
                    self.guest = Some(g);
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
                    let kind = classify(&e, &console_tail, vmm::guard_violations() > guard_before);
                    self.death(i, "launch", kind, e.to_string(), console_tail);
                    record.death = Some(kind);
                    self.launch_failures += 1;
                    if self.launch_failures >= MAX_LAUNCH_FAILURES {
                        self.cell.cut_short =
                            Some(format!("{} launches failed in a row", self.launch_failures));
                    }
                    record.guard = vmm::guard_violations() - guard_before;
                    return record;
                }
            }
        }
        let Some(g) = self.guest.as_mut() else {
            return record;
        };
        let data = libguest_tests::pattern(0, FILE_BYTES, (self.seed << 32) | i as u64);
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
        let failure = match up {
            Ok(elapsed) => {
                record.up = Transfer::Ok;
                record.up_time = Some(elapsed);
                self.down.clear();
                let t = Instant::now();
                match g.download(&remote, &mut self.down) {
                    Ok(()) => {
                        let elapsed = t.elapsed();
                        let got = hex(&Sha256::digest(&self.down));
                        if got == want && self.down.len() == FILE_BYTES {
                            record.down = Transfer::Ok;
                            record.down_time = Some(elapsed);
                            None
                        } else {
                            record.down = Transfer::Corrupt;
                            Some((
                                "download",
                                Step::Corrupt(format!(
                                    "downloaded {} bytes, sha256 {got}; uploaded {want}",
                                    self.down.len()
                                )),
                            ))
                        }
                    }
                    Err(e) => Some(("download", Step::Failed(e))),
                }
            }
            Err(step) => {
                // Nothing sound to download: the download counts as failed.
                if matches!(step, Step::Corrupt(_)) {
                    record.up = Transfer::Corrupt;
                }
                Some(("upload", step))
            }
        };
        let failure = match failure {
            None if i % 8 == 7 => g.sync().err().map(|e| ("sync", Step::Failed(e))),
            other => other,
        };
        if let Some((during, step)) = failure {
            record.death = self.failed(i, during, step, guard_before);
        }
        record.guard = vmm::guard_violations() - guard_before;
        record
    }

    /// A failed step: a corrupt transfer is reported and the appliance
    /// kept; a failed call whose appliance no longer answers is a death,
    /// and the appliance is dropped so that the next iteration launches
    /// another.
    fn failed(
        &mut self,
        iteration: usize,
        during: &'static str,
        step: Step,
        guard_before: u64,
    ) -> Option<DeathKind> {
        let e = match step {
            Step::Corrupt(what) => {
                eprintln!(
                    "soak: {} iteration {iteration}: {during} corrupt: {what}",
                    self.cell.backend
                );
                return None;
            }
            Step::Failed(e) => e,
        };
        let g = self.guest.as_mut()?;
        if g.ping_daemon().is_ok() {
            eprintln!(
                "soak: {} iteration {iteration}: {during} failed, appliance alive: {e}",
                self.cell.backend
            );
            return None;
        }
        let console_tail = match &e {
            Error::GuestDied { console_tail, .. } | Error::KernelPanic { console_tail } => {
                tail(console_tail, TAIL_LINES)
            }
            _ => tail(&g.console_log(), TAIL_LINES),
        };
        let kind = classify(&e, &console_tail, vmm::guard_violations() > guard_before);
        self.death(iteration, during, kind, e.to_string(), console_tail);
        if let Some(mut g) = self.guest.take() {
            let _ = g.shutdown();
        }
        Some(kind)
    }

    fn death(
        &mut self,
        iteration: usize,
        during: &'static str,
        kind: DeathKind,
        error: String,
        console_tail: String,
    ) {
        eprintln!(
            "soak: {} iteration {iteration}: appliance died during {during}: {}: {error}\n{}",
            self.cell.backend,
            kind.label(),
            console_tail
                .lines()
                .map(|l| format!("soak:   | {l}"))
                .collect::<Vec<_>>()
                .join("\n")
        );
        self.cell.deaths.push(Death {
            iteration,
            during,
            kind,
            error,
            console_tail,
        });
    }
}

/// LIBGUEST_SOAK_CHURN=1: a thread that maps, touches and unmaps 2 MiB
/// every millisecond in this process, whose mm our VMM's vCPU threads
/// share: a stress on the test host's emulated nested SVM (TLB shootdown
/// IPIs to the CPUs that run the guest) that the peer's own process never
/// sees.
struct Churn {
    stop: Arc<AtomicBool>,
}

impl Churn {
    fn start() -> Churn {
        let stop = Arc::new(AtomicBool::new(false));
        let s = stop.clone();
        std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                const LEN: usize = 2 << 20;
                // SAFETY: a fresh private anonymous mapping, touched and
                // unmapped here only.
                unsafe {
                    let p = libc::mmap(
                        std::ptr::null_mut(),
                        LEN,
                        libc::PROT_READ | libc::PROT_WRITE,
                        libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                        -1,
                        0,
                    );
                    if p != libc::MAP_FAILED {
                        for i in (0..LEN).step_by(4096) {
                            p.cast::<u8>().add(i).write_volatile(1);
                        }
                        libc::munmap(p, LEN);
                    }
                }
                std::thread::sleep(Duration::from_millis(1));
            }
        });
        Churn { stop }
    }
}

impl Drop for Churn {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}
