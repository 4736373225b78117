//! Boots the test host under qemu TCG with a program, its shared libraries
//! and data files in its initramfs, and brings back the program's output and
//! exit status over the serial console.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use appliance::cpio::CpioWriter;

/// Printed by testhost-init after the program exits.
pub const EXIT_MARKER: &str = "LIBGUEST-TESTHOST-EXIT:";

/// Said in the error of a run whose test host stopped running altogether
/// (its heartbeat on a virtio-serial port stopped well before the
/// timeout), as opposed to a program that hung in a live test host.
pub const WEDGED_PHRASE: &str = "LIBGUEST-TESTHOST-WEDGED";

/// The test host's init writes a line on its second serial port this often
/// (testhost_init.rs); a heartbeat older than [`HEARTBEAT_STALE`] at the
/// timeout means the emulated machine itself stopped.
pub const HEARTBEAT_EVERY: Duration = Duration::from_secs(10);
const HEARTBEAT_STALE: Duration = Duration::from_secs(90);
/// The virtio-serial port the heartbeat is written to.
pub const HEARTBEAT_PORT: &str = "org.libguest.testhost.heartbeat";
/// Where files go inside the test host.
pub const GUEST_DIR: &str = "/e2e";
pub const QEMU: &str = "qemu-system-x86_64";

#[derive(Debug)]
pub struct Outcome {
    /// The program's exit code; None if the test host died first.
    pub exit_code: Option<i32>,
    /// Everything the test host printed on its console.
    pub output: String,
}

#[derive(Debug)]
pub struct TestHostError(pub String);

impl std::fmt::Display for TestHostError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "test host: {}", self.0)
    }
}

impl std::error::Error for TestHostError {}

type Result<T> = std::result::Result<T, TestHostError>;

/// How a boot of the test host went wrong.
enum Boot {
    /// The emulated host reset itself (qemu -no-reboot exited cleanly)
    /// before the program reported: worth another try.
    Reset(String),
    Failed(String),
}

const BOOT_ATTEMPTS: u32 = 3;

fn err(msg: impl Into<String>) -> TestHostError {
    TestHostError(msg.into())
}

pub struct TestHost {
    kernel: PathBuf,
    /// (path inside the test host, file on this machine, mode)
    files: Vec<(String, PathBuf, u32)>,
    env: Vec<(String, String)>,
    mem_mib: u32,
    timeout: Duration,
    echo: bool,
    /// Whether a boot that ends in a silent reset is retried.
    retry_resets: bool,
    /// The test-host kernel's console loglevel.
    loglevel: u8,
    /// Disk images on this machine attached as virtio-blk devices, in
    /// order: /dev/vda, /dev/vdb...
    disks: Vec<Disk>,
    /// Stripped copies of programs, kept until the test host is gone.
    stripped: Vec<tempfile::TempPath>,
}

struct Disk {
    image: PathBuf,
    read_only: bool,
}

/// Disks a test host can have: qemu microvm's virtio-mmio slots.
const MAX_DISKS: usize = 8;

/// The serial number of the test host's disk `index`, which the e2e
/// harness checks inside to know /dev/vdX is the disk it asked for.
pub fn disk_serial(index: usize) -> String {
    format!("libguest-e2e-{index}")
}

impl TestHost {
    /// Finds (or builds) the test-host kernel and checks qemu is installed.
    /// `testhost_init` is the built `testhost-init` binary: a test or bench
    /// target gets it from `env!("CARGO_BIN_EXE_testhost-init")`.
    pub fn new(testhost_init: &Path) -> Result<TestHost> {
        if Command::new(QEMU).arg("--version").output().is_err() {
            return Err(err(format!(
                "{QEMU} not found: apt-get install qemu-system-x86 (the e2e harness needs it where /dev/kvm cannot run Linux)"
            )));
        }
        let kernel = appliance::build_kernel("testhost").map_err(|e| err(e.to_string()))?;
        let timeout = std::env::var("LIBGUEST_TESTHOST_TIMEOUT")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(900);
        let mut host = TestHost {
            kernel,
            files: Vec::new(),
            env: vec![
                (crate::INSIDE_ENV.into(), "1".into()),
                ("RUST_BACKTRACE".into(), "1".into()),
                ("LIBGUEST_CACHE_DIR".into(), "/tmp/libguest-cache".into()),
                ("HOME".into(), "/root".into()),
                (
                    "PATH".into(),
                    "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".into(),
                ),
            ],
            mem_mib: 3072,
            timeout: Duration::from_secs(timeout),
            echo: true,
            retry_resets: true,
            loglevel: 1,
            disks: Vec::new(),
            stripped: Vec::new(),
        };
        host.add_program(testhost_init, "/init")?;
        Ok(host)
    }

    /// Whether a boot that ends in a silent reset of the emulated host is
    /// booted again (default true). Without retries such a boot returns an
    /// [`Outcome`] with no exit code and the console up to the reset: for
    /// a bench that counts resets and resumes.
    pub fn set_retry_resets(&mut self, retry: bool) {
        self.retry_resets = retry;
    }

    /// The test-host kernel's `loglevel=` (default 1: only emergencies
    /// reach the console; 7 shows every oops).
    pub fn set_kernel_loglevel(&mut self, level: u8) {
        self.loglevel = level.min(8);
    }

    pub fn set_env(&mut self, key: &str, value: &str) {
        self.env.retain(|(k, _)| k != key);
        self.env.push((key.into(), value.into()));
    }

    /// Whether console lines are printed as they arrive (default true;
    /// LIBGUEST_TESTHOST_ECHO=1 keeps them on, to watch a stuck run).
    pub fn set_echo(&mut self, echo: bool) {
        self.echo = echo || std::env::var_os("LIBGUEST_TESTHOST_ECHO").is_some_and(|v| v == "1");
    }

    /// Puts the appliance kernel at /e2e/vmlinux and points libguest at it.
    pub fn add_appliance_kernel(&mut self, kernel: &Path) -> Result<()> {
        let dest = format!("{GUEST_DIR}/vmlinux");
        self.add_file(kernel, &dest, 0o644);
        self.set_env("LIBGUEST_KERNEL", &dest);
        Ok(())
    }

    /// Attaches a raw disk image of this machine as the test host's next
    /// virtio-blk disk and returns its device there (/dev/vda first), for
    /// images too big for the initramfs or that only this machine can
    /// build. `read_only` makes qemu open the image read-only, so nothing
    /// inside can change it.
    pub fn add_disk(&mut self, image: &Path, read_only: bool) -> Result<String> {
        let index = self.disks.len();
        if index >= MAX_DISKS {
            return Err(err(format!(
                "at most {MAX_DISKS} disks in the test host (qemu microvm has 8 virtio-mmio slots)"
            )));
        }
        // Absolute, so qemu cannot read `name:` in a relative path as a
        // protocol; UTF-8, for its -drive option syntax.
        let image = image
            .canonicalize()
            .map_err(|e| err(format!("disk image {}: {e}", image.display())))?;
        if !image.is_file() || image.to_str().is_none() {
            return Err(err(format!(
                "disk image {} must be a file with a UTF-8 path",
                image.display()
            )));
        }
        self.disks.push(Disk { image, read_only });
        Ok(format!("/dev/vd{}", char::from(b'a' + index as u8)))
    }

    pub fn add_file(&mut self, host: &Path, guest: &str, mode: u32) {
        self.files.push((guest.into(), host.into(), mode));
    }

    /// Adds an executable and the shared libraries `ldd` says it needs, at
    /// their own paths.
    pub fn add_program(&mut self, host: &Path, guest: &str) -> Result<()> {
        self.add_file(host, guest, 0o755);
        for lib in shared_libraries(host)? {
            let guest_path = lib.to_string_lossy().into_owned();
            if !self.files.iter().any(|(g, _, _)| *g == guest_path) {
                self.add_file(&lib, &guest_path, 0o755);
            }
        }
        Ok(())
    }

    /// As [`TestHost::add_program`], without the program's debug info (a
    /// debug build of the CLI is 60 MB, most of it debug info, and every
    /// byte of the initramfs is unpacked by an emulated CPU).
    pub fn add_program_stripped(&mut self, host: &Path, guest: &str) -> Result<()> {
        self.files.retain(|(g, _, _)| g != guest);
        self.add_program(host, guest)?;
        let stripped = strip_debug(host)?;
        if let Some((_, file, _)) = self.files.iter_mut().find(|(g, _, _)| g == guest) {
            *file = stripped.to_path_buf();
        }
        self.stripped.push(stripped);
        Ok(())
    }

    /// Runs `program args` inside the test host and returns its exit code
    /// and the console output.
    pub fn run(&mut self, program: &Path, args: &[&str]) -> Result<Outcome> {
        let dest = format!("{GUEST_DIR}/{}", file_name(program));
        // A retried run has it already.
        if !self.files.iter().any(|(g, _, _)| *g == dest) {
            self.add_program_stripped(program, &dest)?;
        }
        let mut argv = vec![dest];
        argv.extend(args.iter().map(|s| s.to_string()));
        let initramfs = self.initramfs(&argv)?;
        // The test host is an emulated machine running nested KVM; on rare
        // occasions its kernel resets with nothing on the console (seen
        // about once in thirty boots). That is the emulator's failure, not
        // the test's, so such a boot is retried; a test that fails, hangs or
        // exits non-zero is never retried.
        let mut attempt = 1;
        loop {
            match self.boot(initramfs.path()) {
                Err(Boot::Reset(msg)) if !self.retry_resets => {
                    return Ok(Outcome {
                        exit_code: None,
                        output: msg,
                    })
                }
                Err(Boot::Reset(msg)) if attempt < BOOT_ATTEMPTS => {
                    eprintln!("test host: attempt {attempt} ended in a reset of the emulated host; retrying\n{msg}");
                    attempt += 1;
                }
                Err(Boot::Reset(msg)) | Err(Boot::Failed(msg)) => return Err(err(msg)),
                Ok(outcome) => return Ok(outcome),
            }
        }
    }

    fn initramfs(&self, argv: &[String]) -> Result<tempfile::NamedTempFile> {
        let tmp = tempfile::Builder::new()
            .prefix("libguest-testhost-")
            .suffix(".cpio")
            .tempfile()
            .map_err(|e| err(format!("temporary initramfs: {e}")))?;
        let out = std::io::BufWriter::new(tmp.as_file());
        let mut w = CpioWriter::new(out);
        let io = |e: std::io::Error| err(format!("writing the test-host initramfs: {e}"));
        let mut dirs = BTreeSet::new();
        for d in [
            "dev",
            "proc",
            "sys",
            "tmp",
            "root",
            GUEST_DIR.trim_start_matches('/'),
        ] {
            dirs.insert(d.to_string());
        }
        for (guest, _, _) in &self.files {
            let mut p = Path::new(guest.trim_start_matches('/')).parent();
            while let Some(dir) = p.filter(|d| !d.as_os_str().is_empty()) {
                dirs.insert(dir.to_string_lossy().into_owned());
                p = dir.parent();
            }
        }
        // BTreeSet order puts parents before children.
        for d in &dirs {
            w.dir(d, 0o755).map_err(io)?;
        }
        w.char_device("dev/console", 0o600, 5, 1).map_err(io)?;
        for (guest, host, mode) in &self.files {
            let data =
                std::fs::read(host).map_err(|e| err(format!("reading {}: {e}", host.display())))?;
            w.file(guest.trim_start_matches('/'), *mode, &data)
                .map_err(io)?;
        }
        let nul_join = |items: Vec<String>| items.join("\0").into_bytes();
        w.file("e2e/argv", 0o644, &nul_join(argv.to_vec()))
            .map_err(io)?;
        let env = self.env.iter().map(|(k, v)| format!("{k}={v}")).collect();
        w.file("e2e/env", 0o644, &nul_join(env)).map_err(io)?;
        let mut out = w.finish().map_err(io)?;
        out.flush().map_err(io)?;
        drop(out);
        Ok(tmp)
    }

    fn boot(&self, initramfs: &Path) -> std::result::Result<Outcome, Boot> {
        self.boot_once(initramfs).map_err(|e| Boot::Failed(e.0))?
    }

    /// Ok(Err(..)) is a boot that ended without the program's exit status.
    fn boot_once(&self, initramfs: &Path) -> Result<std::result::Result<Outcome, Boot>> {
        // One test host at a time: each uses every core (MTTCG), and two at
        // once on a 2-core machine slow both past the appliance's timeouts.
        let _serial = machine_lock()?;
        let heartbeat = tempfile::NamedTempFile::new()
            .map_err(|e| err(format!("temporary heartbeat file: {e}")))?;
        // A virtio-serial port named `heartbeat` (the test-host kernel has
        // one 8250 UART, the console).
        let mut heartbeat_arg = std::ffi::OsString::from("file,id=heartbeat,path=");
        heartbeat_arg.push(heartbeat.path());
        let mut child = Command::new("timeout")
            .args(["--kill-after=10", &self.timeout.as_secs().to_string(), QEMU])
            .args(microvm_args(
                &["-accel", "tcg", "-cpu", "max", "-smp", "2"],
                self.mem_mib,
                &self.kernel,
                initramfs,
                // tsc=reliable: without it the clocksource watchdog
                // drops TCG's TSC for 4 ms jiffies, and every timing
                // taken in the test host is rounded to 4 ms.
                &format!(
                    "console=ttyS0 reboot=t panic=-1 loglevel={} 8250.nr_uarts=1 tsc=reliable",
                    self.loglevel
                ),
            ))
            .args(self.disk_args()?)
            // After the disks, which keep their vdX names.
            .arg("-chardev")
            .arg(&heartbeat_arg)
            .args([
                "-device",
                "virtio-serial-device",
                "-device",
                &format!("virtserialport,chardev=heartbeat,name={HEARTBEAT_PORT}"),
            ])
            .args(gdb_stub_args())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| err(format!("starting {QEMU}: {e}")))?;
        let stdout = child.stdout.take().ok_or_else(|| err("no qemu stdout"))?;
        let mut output = String::new();
        let mut exit_code = None;
        for line in BufReader::new(stdout).split(b'\n') {
            let line = line.map_err(|e| err(format!("reading the test host console: {e}")))?;
            let line = String::from_utf8_lossy(&line)
                .trim_end_matches('\r')
                .to_string();
            if let Some(code) = line.strip_prefix(EXIT_MARKER) {
                exit_code = code.trim().parse().ok();
            }
            if self.echo {
                println!("[testhost] {line}");
            }
            output.push_str(&line);
            output.push('\n');
        }
        let status = child
            .wait()
            .map_err(|e| err(format!("waiting for qemu: {e}")))?;
        let mut stderr = String::new();
        if let Some(mut e) = child.stderr.take() {
            use std::io::Read;
            let _ = e.read_to_string(&mut stderr);
        }
        if exit_code.is_none() {
            let timed_out = matches!(status.code(), Some(124) | Some(137));
            let why = if timed_out {
                let last = heartbeat_age(heartbeat.path());
                let state = match last {
                    Some(age) if age > HEARTBEAT_STALE => format!(
                        "{WEDGED_PHRASE}: the emulated machine stopped, its last heartbeat {} s before the end",
                        age.as_secs()
                    ),
                    Some(age) => format!(
                        "the test host was alive (heartbeat {} s before the end): the program hung",
                        age.as_secs()
                    ),
                    None => "no heartbeat from the test host".to_owned(),
                };
                format!("timed out after {} s; {state}", self.timeout.as_secs())
            } else {
                format!("qemu exited with {status}")
            };
            let msg = format!(
                "the test host ended before the program reported its exit status ({why}); qemu stderr: {stderr}\nconsole:\n{output}"
            );
            return Ok(Err(if timed_out || !status.success() {
                Boot::Failed(msg)
            } else {
                Boot::Reset(msg)
            }));
        }
        Ok(Ok(Outcome { exit_code, output }))
    }
}

impl TestHost {
    /// qemu arguments attaching the disks: microvm puts each
    /// virtio-blk-device on a virtio-mmio transport and names it on the
    /// kernel command line.
    fn disk_args(&self) -> Result<Vec<std::ffi::OsString>> {
        let mut args = Vec::new();
        for (i, disk) in self.disks.iter().enumerate() {
            let path = disk
                .image
                .to_str()
                .ok_or_else(|| err(format!("{} is not UTF-8", disk.image.display())))?
                // qemu's option syntax: a comma in a value is doubled.
                .replace(',', ",,");
            let read_only = if disk.read_only { "on" } else { "off" };
            args.push("-drive".into());
            args.push(
                format!("file={path},if=none,id=disk{i},format=raw,readonly={read_only}").into(),
            );
            args.push("-device".into());
            args.push(format!("virtio-blk-device,drive=disk{i},serial={}", disk_serial(i)).into());
        }
        Ok(args)
    }
}

/// How long before now the heartbeat file was last written; None when the
/// test host never wrote it.
fn heartbeat_age(path: &Path) -> Option<Duration> {
    let meta = std::fs::metadata(path).ok()?;
    if meta.len() == 0 {
        return None;
    }
    meta.modified().ok()?.elapsed().ok()
}

/// Arguments for a headless qemu microvm booting `kernel` with `initrd`,
/// its serial console on stdio, exiting instead of rebooting. `machine`
/// adds the accelerator, CPU model and the like.
pub fn microvm_args(
    machine: &[&str],
    mem_mib: u32,
    kernel: &Path,
    initrd: &Path,
    append: &str,
) -> Vec<std::ffi::OsString> {
    let mut args: Vec<std::ffi::OsString> =
        ["-M", "microvm,acpi=off"].iter().map(Into::into).collect();
    args.extend(machine.iter().map(Into::into));
    let mem = mem_mib.to_string();
    for a in [
        "-m",
        &mem,
        "-nodefaults",
        "-no-user-config",
        "-display",
        "none",
    ] {
        args.push(a.into());
    }
    for a in ["-serial", "stdio", "-no-reboot", "-kernel"] {
        args.push(a.into());
    }
    args.push(kernel.into());
    args.push("-initrd".into());
    args.push(initrd.into());
    args.push("-append".into());
    args.push(append.into());
    args
}

/// A process-wide and machine-wide lock held while a test host runs.
fn machine_lock() -> Result<std::fs::File> {
    use std::os::fd::AsRawFd;
    let path = std::env::temp_dir().join("libguest-testhost.lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| err(format!("lock file {}: {e}", path.display())))?;
    // SAFETY: flock(2) on a file descriptor this function owns; the lock is
    // released when the returned File is dropped.
    if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) } != 0 {
        return Err(err(format!(
            "locking {}: {}",
            path.display(),
            std::io::Error::last_os_error()
        )));
    }
    Ok(file)
}

/// Finds a program on PATH.
pub fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "program".into())
}

/// Debug info makes test binaries several times larger, and every byte of
/// the initramfs is unpacked by an emulated CPU. Strip it into a copy.
fn strip_debug(program: &Path) -> Result<tempfile::TempPath> {
    let tmp = tempfile::NamedTempFile::new()
        .map_err(|e| err(format!("temporary file: {e}")))?
        .into_temp_path();
    let ok = Command::new("objcopy")
        .arg("--strip-debug")
        .arg(program)
        .arg(&tmp)
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !ok {
        std::fs::copy(program, &tmp)
            .map_err(|e| err(format!("copying {}: {e}", program.display())))?;
    }
    Ok(tmp)
}

/// The shared libraries of a dynamically linked program (none for a static one).
pub fn shared_libraries(program: &Path) -> Result<Vec<PathBuf>> {
    let out = Command::new("ldd")
        .arg(program)
        .output()
        .map_err(|e| err(format!("running ldd: {e}")))?;
    Ok(parse_ldd(&String::from_utf8_lossy(&out.stdout)))
}

fn parse_ldd(text: &str) -> Vec<PathBuf> {
    text.lines()
        .filter_map(|line| {
            let line = line.trim();
            let path = match line.split_once("=>") {
                Some((_, rest)) => rest.trim(),
                None => line,
            };
            let path = path.split(" (").next()?.trim();
            path.starts_with('/').then(|| PathBuf::from(path))
        })
        .collect()
}

/// LIBGUEST_TESTHOST_GDB=PORT starts the test host's qemu with its gdb stub
/// on 127.0.0.1:PORT, so a wedged or hung run can be inspected from outside
/// (`gdb vmlinux -ex 'target remote :PORT'`, then `info threads`, `bt`):
/// the registers are those of whatever each emulated CPU runs, the test
/// host or a nested guest.
fn gdb_stub_args() -> Vec<String> {
    match std::env::var("LIBGUEST_TESTHOST_GDB") {
        Ok(port) if port.parse::<u16>().is_ok() => {
            vec!["-gdb".into(), format!("tcp:127.0.0.1:{port}")]
        }
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ldd_output_is_parsed() {
        let text = "\tlinux-vdso.so.1 (0x00007ffd)\n\tlibgcc_s.so.1 => /lib/x86_64-linux-gnu/libgcc_s.so.1 (0x1)\n\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x2)\n\t/lib64/ld-linux-x86-64.so.2 (0x3)\n\tnot a dynamic executable\n";
        assert_eq!(
            parse_ldd(text),
            vec![
                PathBuf::from("/lib/x86_64-linux-gnu/libgcc_s.so.1"),
                PathBuf::from("/lib/x86_64-linux-gnu/libc.so.6"),
                PathBuf::from("/lib64/ld-linux-x86-64.so.2"),
            ]
        );
    }
}
