//! Running the `libguest` binary for the CLI e2e tests: plain runs with
//! captured output, and a pseudo-terminal for the shell. Some checks loop-
//! mount images on the host and run the CLI as another user: the tests run
//! as root, as scripts/test.sh does.

use std::io::{Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use crate::images::partitioned_ext4;

/// The CLI binary to run, where it is not beside the test binary.
pub const BIN_ENV: &str = "LIBGUEST_CLI_BIN";

pub const UUID: &str = "4c475354-0000-4000-8000-00000000c11e";

/// target/<profile>/libguest beside this test's target/<profile>/deps/.
/// `cargo test -p libguest-tests` does not build the CLI crate, so the
/// binary is built here (a no-op when it is fresh).
/// `LIBGUEST_CLI_BIN` names it instead (inside the e2e test host).
pub fn bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        if let Some(bin) = std::env::var_os(BIN_ENV) {
            return PathBuf::from(bin);
        }
        let exe = std::env::current_exe().expect("test executable");
        let profile_dir = exe
            .parent()
            .and_then(Path::parent)
            .expect("target/<profile>/deps/<test>");
        if let Some(cargo) = std::env::var_os("CARGO") {
            let mut build = Command::new(cargo);
            build.args(["build", "-q", "-p", "libguest-cli", "--bin", "libguest"]);
            if profile_dir.ends_with("release") {
                build.arg("--release");
            }
            let status = build.status().expect("run cargo build");
            assert!(status.success(), "cargo build -p libguest-cli failed");
        }
        let bin = profile_dir.join("libguest");
        assert!(
            bin.exists(),
            "{} is missing: cargo build -p libguest-cli",
            bin.display()
        );
        bin
    })
}

/// The options every launching run gets: the backend and the kernel.
pub fn launch_options() -> String {
    let backend = std::env::var("LIBGUEST_CLI_BACKEND").unwrap_or_else(|_| "tcg".into());
    launch_options_for(&backend)
}

/// The options for a launching run on `backend` (`kvm` or `tcg`).
pub fn launch_options_for(backend: &str) -> String {
    static KERNEL: OnceLock<PathBuf> = OnceLock::new();
    let kernel = KERNEL.get_or_init(crate::appliance_kernel);
    format!("--backend {backend} --kernel {}", kernel.display())
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `libguest` with a command line split on blanks (the temporary
/// paths put in it have none), optional standard input and environment.
pub fn run_with(line: &str, stdin: Option<&str>, env: &[(&str, &str)]) -> Run {
    run_command(Command::new(bin()), line, stdin, env)
}

/// Runs the prepared command `cmd` (the CLI, set up by the caller: a
/// namespace, a working directory) with a command line as [`run_with`].
pub fn run_prepared(cmd: Command, line: &str, env: &[(&str, &str)]) -> Run {
    run_command(cmd, line, None, env)
}

/// A run as another user (the tests run as root, which reads every file).
/// That user runs a copy of the CLI in `dir`, made world-readable, since
/// the checkout may sit where only root can reach it.
pub fn run_as(uid: u32, dir: &str, line: &str) -> Run {
    use std::os::unix::fs::PermissionsExt;
    // SAFETY: geteuid has no preconditions and cannot fail.
    let euid = unsafe { libc::geteuid() };
    assert_eq!(
        euid, 0,
        "running the CLI as uid {uid} needs root (euid {euid})"
    );
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    let copy = Path::new(dir).join("libguest-cli");
    std::fs::copy(bin(), &copy).unwrap();
    let mut cmd = Command::new(&copy);
    cmd.uid(uid).gid(uid).env("HOME", "/");
    run_command(cmd, line, None, &[])
}

fn run_command(mut cmd: Command, line: &str, stdin: Option<&str>, env: &[(&str, &str)]) -> Run {
    let mut child = cmd
        .args(line.split_whitespace())
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn libguest");
    let mut input = child.stdin.take().expect("stdin");
    let text = stdin.unwrap_or("").to_string();
    let writer = std::thread::spawn(move || {
        let _ = input.write_all(text.as_bytes());
    });
    let out = child.wait_with_output().expect("wait for libguest");
    let _ = writer.join();
    let run = Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    eprintln!(
        "$ libguest {line}\n[exit {}]\n--- stdout\n{}--- stderr\n{}",
        run.code, run.stdout, run.stderr
    );
    run
}

/// A run that does not boot.
pub fn libguest(line: &str) -> Run {
    run_with(line, None, &[])
}

/// A run that boots the appliance.
pub fn booted(line: &str) -> Run {
    run_with(&format!("{} {line}", launch_options()), None, &[])
}

/// A booting run in the directory `dir` (for relative file names).
pub fn booted_in(dir: &str, line: &str) -> Run {
    let mut cmd = Command::new(bin());
    cmd.current_dir(dir);
    run_command(cmd, &format!("{} {line}", launch_options()), None, &[])
}

pub fn ok(run: &Run) -> &str {
    assert_eq!(run.code, 0, "libguest failed: {}", run.stderr);
    &run.stdout
}

/// Failed with one line `libguest: …` on stderr containing each needle.
pub fn one_error(run: &Run, needles: &[&str]) {
    assert_ne!(run.code, 0, "expected a failure; stdout: {}", run.stdout);
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(
        lines.len(),
        1,
        "expected one line on stderr: {:?}",
        run.stderr
    );
    assert!(lines[0].starts_with("libguest: "), "{}", lines[0]);
    for needle in needles {
        assert!(
            lines[0].contains(needle),
            "{needle:?} not in {:?}",
            lines[0]
        );
    }
}

/// A temporary directory and its path as text (checked blank-free).
pub fn tempdir() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_str().unwrap().to_string();
    assert!(
        !path.contains(char::is_whitespace),
        "TMPDIR with blanks: {path}"
    );
    (dir, path)
}

pub fn image(dir: &str, name: &str) -> String {
    let path = format!("{dir}/{name}");
    partitioned_ext4(Path::new(&path), 64, "clilabel", UUID);
    path
}

pub fn host_tree(dir: &str) -> PathBuf {
    let tree = Path::new(dir).join("tree");
    std::fs::create_dir_all(tree.join("sub/deeper")).unwrap();
    std::fs::write(tree.join("a.txt"), "alpha\n").unwrap();
    std::fs::write(tree.join("sub/b.bin"), vec![7u8; 100_000]).unwrap();
    std::fs::write(tree.join("sub/deeper/c.txt"), "gamma\n").unwrap();
    std::os::unix::fs::symlink("a.txt", tree.join("link")).unwrap();
    tree
}

/// Runs a host tool and returns its trimmed standard output; panics
/// with its standard error when it cannot run or fails.
pub fn host_tool(cmd: &str, args: &[&str]) -> String {
    let out = Command::new(cmd)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{cmd}: {e} (install it: see scripts/setup.sh)"));
    assert!(
        out.status.success(),
        "{cmd} {args:?} failed ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// An image file loop-mounted read-only on the host, on a temporary
/// directory of its own; unmounted on drop, so a failed assertion
/// leaves no mount behind.
pub struct HostMount {
    dir: tempfile::TempDir,
}

impl HostMount {
    pub fn ro(image: &str) -> HostMount {
        let dir = tempfile::tempdir().expect("temp mountpoint");
        let target = dir.path().to_str().expect("utf-8 temp path");
        let out = Command::new("mount")
            .args(["-o", "loop,ro", image, target])
            .output()
            .unwrap_or_else(|e| panic!("mount: {e}"));
        // SAFETY: geteuid has no preconditions and cannot fail.
        let euid = unsafe { libc::geteuid() };
        assert!(
            out.status.success(),
            "mount -o loop,ro {image} {target} failed ({}): {}{}",
            out.status,
            String::from_utf8_lossy(&out.stderr),
            if euid == 0 {
                String::new()
            } else {
                format!("; this test mounts on the host and must run as root (euid {euid})")
            }
        );
        HostMount { dir }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for HostMount {
    fn drop(&mut self) {
        let ok = Command::new("umount")
            .arg(self.dir.path())
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            // Busy: detach it lazily so the directory can still go.
            let _ = Command::new("umount")
                .arg("-l")
                .arg(self.dir.path())
                .status();
        }
    }
}

pub fn pattern(len: u32) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}

/// A terminal for the shell: the master side, read into a buffer by a
/// thread.
pub struct Pty {
    master: std::fs::File,
    seen: Arc<Mutex<String>>,
}

impl Pty {
    pub fn spawn(line: &str, env: &[(&str, &str)]) -> (Pty, std::process::Child) {
        let (mut master, mut slave) = (0, 0);
        let size = libc::winsize {
            ws_row: 40,
            ws_col: 200,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        // SAFETY: out-pointers to two ints; no name buffer; a valid winsize.
        let rc = unsafe {
            libc::openpty(
                &mut master,
                &mut slave,
                std::ptr::null_mut(),
                std::ptr::null(),
                &size,
            )
        };
        assert_eq!(rc, 0, "openpty: {}", std::io::Error::last_os_error());
        // SAFETY: openpty returned two fresh descriptors that we now own.
        let (master, slave) =
            unsafe { (OwnedFd::from_raw_fd(master), OwnedFd::from_raw_fd(slave)) };
        let slave_fd = slave.as_raw_fd();
        let mut cmd = Command::new(bin());
        cmd.args(line.split_whitespace()).envs(env.iter().copied());
        cmd.stdin(slave.try_clone().unwrap())
            .stdout(slave.try_clone().unwrap())
            .stderr(slave);
        // SAFETY: only async-signal-safe calls between fork and exec.
        unsafe {
            cmd.pre_exec(move || {
                libc::setsid();
                libc::ioctl(slave_fd, libc::TIOCSCTTY, 0);
                Ok(())
            });
        }
        let child = cmd.spawn().expect("spawn libguest on a pty");
        // Our copies of the terminal's slave side go, so reads end at exit.
        drop(cmd);
        let master = std::fs::File::from(master);
        let seen = Arc::new(Mutex::new(String::new()));
        let (mut reader, sink) = (master.try_clone().unwrap(), seen.clone());
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            // EIO once the child closes the terminal.
            while let Ok(n @ 1..) = reader.read(&mut buf) {
                sink.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        (Pty { master, seen }, child)
    }

    /// Waits until `needle` appears after what earlier calls consumed.
    pub fn expect(&self, needle: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            {
                let mut seen = self.seen.lock().unwrap();
                if let Some(at) = seen.find(needle) {
                    let upto: String = seen.drain(..at + needle.len()).collect();
                    return upto;
                }
                assert!(
                    Instant::now() < deadline,
                    "{needle:?} never came; output:\n{seen}"
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn send(&mut self, line: &str) {
        self.master.write_all(line.as_bytes()).unwrap();
    }
}

pub fn wait_timeout(child: &mut std::process::Child, limit: Duration) -> std::process::ExitStatus {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("libguest did not exit");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}
