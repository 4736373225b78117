//! One-shot CLI latency on a real Debian 12 disk: wall time from shell
//! command to output of `cat /etc/os-release` after inspection, in one run:
//!
//! 1. libguest on the qemu TCG backend, on this host;
//! 2. libguestfs's `virt-cat` (direct backend, TCG), on this host;
//! 3. on KVM: libguest on our own VMM, the same CLI on qemu `-accel kvm`,
//!    and virt-cat (direct backend, KVM): on the e2e test host's nested KVM
//!    where /dev/kvm cannot run Linux, with the image attached read-only as
//!    its /dev/vda and libguestfs's appliance (built by the runs in 2) as a
//!    fixed appliance whose root is /dev/vdb; natively elsewhere.
//!
//! All outputs must be identical.
//!
//!     cargo bench -p libguest-benches --bench os_release
//!
//! LIBGUEST_BENCH_ITERS sets the libguest runs per place (default 5; on KVM
//! one more, uncounted, first builds the appliance's initramfs where its
//! cache is empty, as in a fresh test host); LIBGUEST_BENCH_PLACES=tcg or
//! kvm measures one place only (default `tcg,kvm`); virt-cat runs 3 times per place after one uncounted
//! warm-up (its first run builds the supermin appliance, or probes qemu). virt-cat comes from the Debian
//! package libguestfs-tools, installed here with apt-get when missing and
//! running as root.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use libguest_benches::summarize;
use libguest_tests::images::debian_image;
use libguest_tests::testhost::{TestHost, TestHostError};
use libguest_tests::Mode;

const VIRT_CAT_ITERS: usize = 3;
/// Inside the test host: the CLI, the disk, and libguestfs's appliance root.
const CLI_ENV: &str = "LIBGUEST_BENCH_CLI";
const DISK_ENV: &str = "LIBGUEST_BENCH_DISK";
const GUESTFS_ROOT_ENV: &str = "LIBGUEST_BENCH_GUESTFS_ROOT";
/// Where the outer run puts libguestfs's appliance kernel and initrd.
const GUESTFS_DIR: &str = "/e2e/guestfs";
/// How the inner run reports to the outer one over the console.
const SAMPLE_TAG: &str = "OS_RELEASE_SAMPLE";
const TEXT_TAG: &str = "OS_RELEASE_TEXT";
/// Between tag, label and value (labels have blanks; a tty may expand tabs).
const REPORT_SEPARATOR: char = '|';

/// One measured command: its label, wall times and output.
struct Measured {
    label: String,
    samples: Vec<Duration>,
    text: String,
}

const OURS: &str = "libguest --backend kvm (our VMM)";
const QEMU_KVM: &str = "libguest --backend tcg, LIBGUEST_QEMU_ACCEL=kvm (qemu microvm peer)";
const VIRT_CAT_KVM: &str = "virt-cat (libguestfs, direct backend, KVM)";

fn main() {
    if std::env::var_os(libguest_tests::INSIDE_ENV).is_some() {
        inside_test_host();
        return;
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let image = debian_image();
    let libguest = libguest_benches::release_cli(&root);
    let iters = libguest_benches::iterations(5);
    let Some(virt_cat) = find_virt_cat() else {
        eprintln!(
            "os_release bench: virt-cat not found and could not be installed; \
             run `apt-get install -y libguestfs-tools` as root"
        );
        std::process::exit(1);
    };
    let places = std::env::var("LIBGUEST_BENCH_PLACES").unwrap_or_else(|_| "tcg,kvm".into());
    let places: Vec<&str> = places.split(',').map(str::trim).collect();
    if let Some(bad) = places.iter().find(|p| !["tcg", "kvm"].contains(p)) {
        eprintln!("os_release bench: LIBGUEST_BENCH_PLACES: unknown place {bad:?} (tcg, kvm)");
        std::process::exit(2);
    }
    println!(
        "cat /etc/os-release after inspection, {} (Debian 12 minbase, 1 GiB raw, read-only)",
        image.display()
    );
    let mut texts = Vec::new();
    if places.contains(&"tcg") {
        texts.extend(on_tcg(&libguest, &virt_cat, &image, iters));
    }
    if places.contains(&"kvm") {
        texts.extend(on_kvm_anywhere(&libguest, &virt_cat, &image, iters));
    }
    assert!(
        texts
            .first()
            .is_some_and(|t| t.contains("VERSION_ID=\"12\"")),
        "no Debian 12 os-release measured: {texts:#?}"
    );
    assert!(
        // guestfish's `cat` (and so libguest's) ends with a newline of
        // its own that virt-cat does not print.
        texts.windows(2).all(|w| w[0].trim_end() == w[1].trim_end()),
        "the commands print different /etc/os-release: {texts:#?}"
    );
    println!(
        "  outputs identical ({} bytes)",
        texts.first().map_or(0, String::len)
    );
}

/// Steps 1 and 2: libguest's TCG fallback and virt-cat on TCG, on this
/// host. Returns their outputs.
fn on_tcg(libguest: &Path, virt_cat: &Path, image: &Path, iters: usize) -> Vec<String> {
    let (ours, our_text) = time_runs(iters, || {
        let mut cmd = Command::new(libguest);
        cmd.args(["--backend", "tcg", "--ro", "-a"])
            .arg(image)
            .args(["-i", "cat", "/etc/os-release"]);
        cmd
    });
    let virt_cat_cmd = || virt_cat_tcg(virt_cat, image);
    // Warm-up (builds the supermin appliance on the first run), not counted.
    let warm = Instant::now();
    let (_, warm_text) = time_runs(1, virt_cat_cmd);
    let warm = warm.elapsed();
    let (theirs, their_text) = time_runs(VIRT_CAT_ITERS, virt_cat_cmd);
    let o = summarize(&ours);
    let t = summarize(&theirs);
    println!("on qemu TCG, this host:");
    println!(
        "  libguest --backend tcg --ro -a IMG -i cat /etc/os-release: \
         median {:.0} ms, min {:.0} ms ({} runs)",
        o.median_ms, o.min_ms, o.n
    );
    println!(
        "  virt-cat -a IMG /etc/os-release (libguestfs {}, direct backend, force_tcg): \
         median {:.0} ms, min {:.0} ms ({} runs; warm-up {:.0} ms not counted)",
        libguestfs_version(virt_cat),
        t.median_ms,
        t.min_ms,
        t.n,
        warm.as_secs_f64() * 1000.0
    );
    println!(
        "  ratio virt-cat / libguest: median {:.2}, min {:.2} (higher: libguest faster)",
        t.median_ms / o.median_ms,
        t.min_ms / o.min_ms
    );
    vec![our_text, warm_text, their_text]
}

/// `virt-cat -a IMAGE /etc/os-release` on libguestfs's direct backend, TCG.
fn virt_cat_tcg(virt_cat: &Path, image: &Path) -> Command {
    let mut cmd = Command::new(virt_cat);
    cmd.env("LIBGUESTFS_BACKEND", "direct")
        .env("LIBGUESTFS_BACKEND_SETTINGS", "force_tcg")
        .arg("-a")
        .arg(image)
        .arg("/etc/os-release");
    cmd
}

/// Step 3: our VMM, the qemu -accel kvm peer and virt-cat on KVM,
/// natively or in the test host. Returns their outputs.
fn on_kvm_anywhere(libguest: &Path, virt_cat: &Path, image: &Path, iters: usize) -> Vec<String> {
    let (place, kvm) = match libguest_tests::mode() {
        Mode::Native => (
            "this host's KVM",
            on_kvm(libguest, virt_cat, &image.to_string_lossy(), iters, |_| {}),
        ),
        Mode::TestHost => (
            "the e2e test host's nested KVM (under qemu TCG), image as its /dev/vda",
            in_test_host(image, libguest, virt_cat, iters),
        ),
    };
    println!("on {place}:");
    for m in &kvm {
        let s = summarize(&m.samples);
        println!(
            "  {}: median {:.0} ms, min {:.0} ms ({} runs)",
            m.label, s.median_ms, s.min_ms, s.n
        );
    }
    let median = |label: &str| {
        kvm.iter()
            .find(|m| m.label == label)
            .map(|m| summarize(&m.samples).median_ms)
    };
    if let (Some(ours), Some(qemu), Some(virt_cat)) =
        (median(OURS), median(QEMU_KVM), median(VIRT_CAT_KVM))
    {
        println!(
            "  ratio to our VMM (higher: our VMM faster): virt-cat median {:.2}, \
             qemu microvm median {:.2}",
            virt_cat / ours,
            qemu / ours
        );
    }
    kvm.into_iter().map(|m| m.text).collect()
}

/// On KVM: libguest's CLI on our VMM, then on qemu -accel kvm with the same
/// appliance, then virt-cat (after one uncounted warm-up that probes qemu).
/// `done` sees each command's figures as soon as they are taken.
fn on_kvm(
    cli: &Path,
    virt_cat: &Path,
    disk: &str,
    iters: usize,
    done: impl Fn(&Measured),
) -> Vec<Measured> {
    let libguest = |backend: &'static str, accel: Option<&'static str>| {
        move || {
            let mut cmd = Command::new(cli);
            if let Some(accel) = accel {
                cmd.env("LIBGUEST_QEMU_ACCEL", accel);
            }
            cmd.args(["--backend", backend, "--ro", "-a", disk]).args([
                "-i",
                "cat",
                "/etc/os-release",
            ]);
            cmd
        }
    };
    let virt_cat_cmd = || {
        let mut cmd = Command::new(virt_cat);
        cmd.env("LIBGUESTFS_BACKEND", "direct")
            .args(["-a", disk, "/etc/os-release"]);
        cmd
    };
    let measured = |label: &str, (samples, text): (Vec<Duration>, String)| {
        let m = Measured {
            label: label.to_string(),
            samples,
            text,
        };
        done(&m);
        m
    };
    // Uncounted: builds the appliance initramfs where the cache is empty
    // (always, in a fresh test host).
    time_runs(1, libguest("kvm", None));
    let ours = measured(OURS, time_runs(iters, libguest("kvm", None)));
    let qemu = measured(QEMU_KVM, time_runs(iters, libguest("tcg", Some("kvm"))));
    // Uncounted, with libguestfs's debug output shown if it fails.
    time_runs(1, || {
        let mut cmd = virt_cat_cmd();
        cmd.env("LIBGUESTFS_DEBUG", "1");
        cmd
    });
    let theirs = measured(VIRT_CAT_KVM, time_runs(VIRT_CAT_ITERS, virt_cat_cmd));
    vec![ours, qemu, theirs]
}

/// The inner half, run by the test host: times the commands on /dev/vda
/// and reports each sample and output as tagged console lines.
fn inside_test_host() {
    let env = |key: &str| {
        std::env::var(key).unwrap_or_else(|_| {
            eprintln!("os_release bench: {key} must be set in the test host");
            std::process::exit(2);
        })
    };
    let (cli, disk, guestfs_root) = (env(CLI_ENV), env(DISK_ENV), env(GUESTFS_ROOT_ENV));
    // libguestfs's appliance as a fixed appliance: its kernel and initrd
    // from the initramfs, its 4 GiB root filesystem as a disk.
    let fixed = Path::new("/tmp/guestfs-fixed");
    // qemu puts the snapshot=on overlay of the appliance's root in /var/tmp.
    let setup = std::fs::create_dir_all("/var/tmp")
        .and_then(|()| std::fs::create_dir_all(fixed))
        .and_then(|()| std::fs::write(fixed.join("README.fixed"), ""))
        .and_then(|()| {
            std::os::unix::fs::symlink(format!("{GUESTFS_DIR}/kernel"), fixed.join("kernel"))
        })
        .and_then(|()| {
            std::os::unix::fs::symlink(format!("{GUESTFS_DIR}/initrd"), fixed.join("initrd"))
        })
        .and_then(|()| std::os::unix::fs::symlink(&guestfs_root, fixed.join("root")));
    if let Err(e) = setup {
        eprintln!(
            "os_release bench: fixed appliance in {}: {e}",
            fixed.display()
        );
        std::process::exit(1);
    }
    std::env::set_var("LIBGUESTFS_PATH", fixed);
    // Its cache (qemu's probed features) in the test host's tmpfs /tmp.
    std::env::set_var("LIBGUESTFS_CACHEDIR", "/tmp");
    let cli = PathBuf::from(cli);
    let virt_cat = libguest_tests::testhost::which("virt-cat").unwrap_or_else(|| {
        eprintln!("os_release bench: no virt-cat in the test host");
        std::process::exit(1);
    });
    let iters = libguest_benches::iterations(5);
    // Reported as taken: a test host that dies later keeps what it had.
    on_kvm(&cli, &virt_cat, &disk, iters, |m| {
        for s in &m.samples {
            println!(
                "{SAMPLE_TAG}{REPORT_SEPARATOR}{}{REPORT_SEPARATOR}{}",
                m.label,
                s.as_nanos()
            );
        }
        let hex: String = m.text.bytes().map(|b| format!("{b:02x}")).collect();
        println!(
            "{TEXT_TAG}{REPORT_SEPARATOR}{}{REPORT_SEPARATOR}{hex}",
            m.label
        );
    });
}

/// The outer half: boots the test host with the image and libguestfs's
/// appliance root as read-only disks, the release CLI, virt-cat and qemu,
/// and collects what the inner half reports.
fn in_test_host(image: &Path, cli: &Path, virt_cat: &Path, iters: usize) -> Vec<Measured> {
    let init = Path::new(env!("CARGO_BIN_EXE_bench-testhost-init"));
    let appliance = guestfs_appliance(virt_cat, image);
    // A test host whose nested KVM never runs a guest is replaced, as the
    // e2e harness does (at most three tries).
    let mut attempt = 1;
    loop {
        let result = TestHost::new(init).and_then(|mut host| {
            host.add_appliance_kernel(&libguest_tests::appliance_kernel())?;
            libguest_benches::add_qemu(&mut host)?;
            // What virt-cat runs besides qemu: qemu-img (the image's
            // format, the overlay), and sh, dmesg, grep and rm (libguestfs's
            // probes and clean-up).
            libguest_benches::add_programs(
                &mut host,
                &[
                    ("qemu-img", "qemu-utils"),
                    ("sh", "dash"),
                    ("dmesg", "util-linux"),
                    ("grep", "grep"),
                    ("rm", "coreutils"),
                ],
            )?;
            host.add_program(virt_cat, &virt_cat.to_string_lossy())?;
            for file in ["kernel", "initrd"] {
                host.add_file(
                    &appliance.join(file),
                    &format!("{GUESTFS_DIR}/{file}"),
                    0o644,
                );
            }
            let disk = host.add_disk(image, true)?;
            let guestfs_root = host.add_disk(&appliance.join("root"), true)?;
            let cli_inside = "/e2e/libguest";
            host.add_program_stripped(cli, cli_inside)?;
            host.set_env(CLI_ENV, cli_inside);
            host.set_env(DISK_ENV, &disk);
            host.set_env(GUESTFS_ROOT_ENV, &guestfs_root);
            host.set_env("LIBGUEST_BENCH_ITERS", &iters.to_string());
            host.set_echo(false);
            let exe = std::env::current_exe().map_err(|e| TestHostError(e.to_string()))?;
            host.run(&exe, &[])
        });
        match result {
            Ok(o) if o.exit_code == Some(0) => return parse_inner_report(&o.output),
            Ok(o) if attempt < 3 && o.output.contains(libguest_tests::NEVER_RAN_PHRASE) => {
                eprintln!(
                    "os_release bench: the test host's KVM never ran the appliance; booting a new test host"
                );
                attempt += 1;
            }
            Ok(o) => panic!(
                "os_release bench in the test host failed (exit {:?}):\n{}",
                o.exit_code, o.output
            ),
            Err(e) => panic!("os_release bench: {e}"),
        }
    }
}

/// The supermin appliance libguestfs built for this user (kernel, initrd,
/// root), as the virt-cat runs on this host left it (one more run builds
/// it if they did not run).
fn guestfs_appliance(virt_cat: &Path, image: &Path) -> PathBuf {
    // SAFETY: geteuid(2) has no preconditions and cannot fail.
    let uid = unsafe { libc::geteuid() };
    let tmp = std::env::var("LIBGUESTFS_CACHEDIR")
        .or_else(|_| std::env::var("TMPDIR"))
        .unwrap_or_else(|_| "/var/tmp".into());
    let dir = Path::new(&tmp).join(format!(".guestfs-{uid}/appliance.d"));
    if !dir.join("root").is_file() {
        time_runs(1, || virt_cat_tcg(virt_cat, image));
    }
    for file in ["kernel", "initrd", "root"] {
        assert!(
            dir.join(file).is_file(),
            "libguestfs's appliance has no {} (virt-cat built none?)",
            dir.join(file).display()
        );
    }
    dir
}

/// The measurements, in the order first seen, from the inner half's lines.
fn parse_inner_report(output: &str) -> Vec<Measured> {
    let mut report: Vec<Measured> = Vec::new();
    for line in output.lines() {
        let mut fields = line.split(REPORT_SEPARATOR);
        let (Some(tag), Some(label), Some(value)) = (fields.next(), fields.next(), fields.next())
        else {
            continue;
        };
        if tag != SAMPLE_TAG && tag != TEXT_TAG {
            continue;
        }
        let i = match report.iter().position(|m| m.label == label) {
            Some(i) => i,
            None => {
                report.push(Measured {
                    label: label.to_string(),
                    samples: Vec::new(),
                    text: String::new(),
                });
                report.len() - 1
            }
        };
        if tag == SAMPLE_TAG {
            let nanos: u64 = value.trim().parse().expect("sample in ns");
            report[i].samples.push(Duration::from_nanos(nanos));
        } else {
            let value = value.trim();
            let bytes: Vec<u8> = (0..value.len() / 2)
                .map(|k| u8::from_str_radix(&value[2 * k..2 * k + 2], 16).expect("hex"))
                .collect();
            report[i].text = String::from_utf8_lossy(&bytes).into_owned();
        }
    }
    assert!(
        report.len() == 3 && report.iter().all(|m| !m.samples.is_empty()),
        "the test host reported no samples:\n{output}"
    );
    report
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
    // SAFETY: geteuid(2) has no preconditions and cannot fail.
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
