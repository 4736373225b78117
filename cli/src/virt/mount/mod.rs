//! `libguest mount` and `libguest unmount` (also as `guestmount` and
//! `guestunmount`): a guest's filesystems mounted on the host through
//! FUSE, with guestmount's and guestunmount's options.
//!
//! The mounting process forks before anything starts a thread (the VMM's
//! vCPUs, the FUSE loop); the parent returns once the mount is ready, as
//! guestmount's does. Unmounting ends the FUSE loop, the appliance is
//! shut down (sync, power off, images flushed), and only then does the
//! process exit, which is what `libguest unmount` waits for.

mod fs;
mod nodes;

use std::ffi::OsString;
use std::io::{Read, Write};
use std::os::fd::{FromRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use clap::Parser;
use fuser::{Config as FuseConfig, MountOption, SessionACL};

use super::common::{parse, Drives, Exit, Mounts, Open, ToolResult};
use crate::error::{CliError, Result};

/// guestmount: mount a guest filesystem on the host using FUSE.
#[derive(Parser, Debug)]
#[command(
    about = "Mount a guest filesystem on the host using FUSE and libguest",
    version
)]
pub struct MountArgs {
    #[command(flatten)]
    pub drives: Drives,
    #[command(flatten)]
    pub mounts: Mounts,
    /// Inspect the disks and mount the operating system's filesystems.
    #[arg(short = 'i', long = "inspector")]
    pub inspector: bool,
    /// Read-only: filesystems mounted read-only, and the images never
    /// written (a journal replays into a throwaway overlay, as guestmount's).
    #[arg(short = 'r', long = "ro")]
    pub ro: bool,
    /// Read-write (the default; for guestmount's command lines).
    #[arg(short = 'w', long = "rw", conflicts_with = "ro")]
    pub rw: bool,
    /// A FUSE mount option (allow_other, allow_root, default_permissions,
    /// auto_unmount, …; repeatable, or comma-separated).
    #[arg(short = 'o', long = "option", value_name = "OPTION")]
    pub options: Vec<String>,
    /// Stay in the foreground instead of returning once mounted.
    #[arg(long = "no-fork")]
    pub no_fork: bool,
    /// Write the mounting process's PID to FILE once mounted.
    #[arg(long = "pid-file", value_name = "FILE")]
    pub pid_file: Option<PathBuf>,
    /// Write one byte to this file descriptor once mounted, then close it.
    #[arg(long = "fd", value_name = "FD")]
    pub fd: Option<i32>,
    /// Seconds that listed attributes and link targets stay cached.
    #[arg(
        long = "dir-cache-timeout",
        value_name = "SECONDS",
        default_value_t = 60
    )]
    pub dir_cache_timeout: u64,
    /// The host directory to mount on (existing and empty).
    #[arg(value_name = "MOUNTPOINT")]
    pub mountpoint: PathBuf,
}

/// What the options mean for FUSE.
struct Plan {
    options: Vec<MountOption>,
    acl: SessionACL,
    /// fusermount3 runs (unprivileged mount, or auto_unmount).
    needs_fusermount: bool,
}

fn plan(a: &MountArgs, root: bool) -> Result<Plan> {
    let mut options = vec![
        MountOption::Subtype("libguest".into()),
        // The guest's owners and modes hold on the host too.
        MountOption::DefaultPermissions,
        if a.ro {
            MountOption::RO
        } else {
            MountOption::RW
        },
    ];
    let mut acl = SessionACL::Owner;
    // As root, a killed mounting process takes its mount with it
    // (fusermount3's watchdog); others ask with -o auto_unmount.
    let mut auto_unmount = root;
    for opt in a.options.iter().flat_map(|o| o.split(',')) {
        match opt {
            "" => {}
            "allow_other" => acl = SessionACL::All,
            "allow_root" => acl = SessionACL::RootAndOwner,
            "auto_unmount" => auto_unmount = true,
            "default_permissions" | "ro" | "rw" => {}
            "nodev" => options.push(MountOption::NoDev),
            "nosuid" => options.push(MountOption::NoSuid),
            "noexec" => options.push(MountOption::NoExec),
            "noatime" => options.push(MountOption::NoAtime),
            o if o.starts_with("fsname=") || o.starts_with("subtype=") => {
                return Err(CliError::msg(format!(
                    "-o {o}: libguest mount names the mount itself (libguest unmount finds it by that name)"
                )))
            }
            o => options.push(MountOption::CUSTOM(o.to_string())),
        }
    }
    if auto_unmount {
        options.push(MountOption::AutoUnmount);
        if matches!(acl, SessionACL::Owner) {
            acl = SessionACL::RootAndOwner;
        }
    }
    Ok(Plan {
        options,
        acl,
        needs_fusermount: auto_unmount || !root,
    })
}

/// The checks that give a one-line error before anything boots.
fn preflight(a: &MountArgs, plan: &Plan) -> Result<()> {
    if !a.inspector && a.mounts.mounts.is_empty() {
        return Err(CliError::msg(
            "say what to mount: -i (inspect the disks and mount the OS) or -m DEV[:MOUNTPOINT[:OPTIONS]]",
        ));
    }
    let mp = &a.mountpoint;
    let entries = match std::fs::read_dir(mp) {
        Ok(entries) => entries,
        Err(e) if e.raw_os_error() == Some(libc::ENOTDIR) => {
            return Err(CliError::msg(format!(
                "{}: not a directory; give an empty directory to mount on",
                mp.display()
            )))
        }
        Err(e) => {
            return Err(CliError::msg(format!(
                "{}: {e}; give an existing empty directory to mount on (mkdir it first)",
                mp.display()
            )))
        }
    };
    if entries.count() > 0 {
        return Err(CliError::msg(format!(
            "{}: the directory is not empty; mount on an empty directory, so nothing in it is hidden",
            mp.display()
        )));
    }
    if !Path::new("/dev/fuse").exists() {
        return Err(CliError::msg(
            "/dev/fuse is missing: load the FUSE module (modprobe fuse) or run where FUSE is available",
        ));
    }
    if plan.needs_fusermount && which("fusermount3").is_none() {
        return Err(CliError::msg(
            "fusermount3 is not installed: install the fuse3 package (apt install fuse3)",
        ));
    }
    Ok(())
}

fn which(program: &str) -> Option<PathBuf> {
    // Without PATH, where execvp looks (and fuser's spawn with it).
    let path = std::env::var_os("PATH").unwrap_or_else(|| "/usr/local/bin:/usr/bin:/bin".into());
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|p| p.is_file())
}

pub fn mount(name: &'static str, args: Vec<OsString>) -> ToolResult {
    let (a, m): (MountArgs, _) = parse(name, args)?;
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    let plan = plan(&a, root)?;
    preflight(&a, &plan)?;
    if a.no_fork {
        return serve(&a, &m, plan, None);
    }
    let (read_end, write_end) = pipe()?;
    // SAFETY: this process has started no thread yet (the mount tools run
    // before the CLI's SIGINT thread), so the child may run anything.
    match unsafe { libc::fork() } {
        -1 => Err(CliError::msg(format!("fork: {}", std::io::Error::last_os_error())).into()),
        0 => {
            drop(read_end);
            // SAFETY: setsid has no preconditions; the child leaves the
            // caller's session so the terminal's signals do not reach it.
            unsafe { libc::setsid() };
            let mut ready = std::fs::File::from(write_end);
            if let Err(e) = serve(&a, &m, plan, Some(&mut ready)) {
                if let Exit::Cli(e) = &e {
                    let _ = write!(ready, "{}", e.parts().0);
                }
                std::process::exit(1);
            }
            std::process::exit(0);
        }
        _child => {
            drop(write_end);
            wait_ready(read_end)
        }
    }
}

fn pipe() -> Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0; 2];
    // SAFETY: `fds` has room for the two descriptors pipe2 writes.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(CliError::msg(format!(
            "pipe: {}",
            std::io::Error::last_os_error()
        )));
    }
    // SAFETY: pipe2 returned two new descriptors that nothing else owns.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

/// The parent: the child writes one `\0` once mounted (and keeps the
/// pipe open while it serves), or its error and exits.
fn wait_ready(read_end: OwnedFd) -> ToolResult {
    let mut pipe = std::fs::File::from(read_end);
    let mut first = [0u8; 1];
    match pipe.read(&mut first) {
        Ok(1) if first[0] == 0 => Ok(()),
        Ok(1) => {
            let mut said = first.to_vec();
            let _ = pipe.read_to_end(&mut said);
            Err(CliError::msg(String::from_utf8_lossy(&said).into_owned()).into())
        }
        _ => Err(CliError::msg("the mounting process ended before the mount was ready").into()),
    }
}

/// Launches, mounts, says so, and serves FUSE until unmounted; then
/// shuts the appliance down.
fn serve(
    a: &MountArgs,
    m: &clap::ArgMatches,
    plan: Plan,
    ready: Option<&mut std::fs::File>,
) -> ToolResult {
    let signals = block_stop_signals();
    let open = if a.ro {
        Open::MountedRo
    } else {
        Open::MountedRw
    };
    let session = a.drives.session(m, &a.mounts.mounts, open)?;
    let guest = session.into_guest()?;
    let timeout = Duration::from_secs(a.dir_cache_timeout);
    let verbose = a.drives.appliance.verbose;
    let (fs, state) = fs::GuestFs::new(guest, a.ro, verbose, timeout);
    // The serving process's PID in the source: `libguest unmount` waits
    // for it to exit.
    let mut mount_options = plan.options;
    mount_options.push(MountOption::FSName(format!(
        "libguest-{}",
        std::process::id()
    )));
    let mut config = FuseConfig::default();
    config.mount_options = mount_options;
    config.acl = plan.acl;
    let mut session = match fuser::Session::new(fs, &a.mountpoint, &config) {
        Ok(s) => s,
        Err(e) => {
            let _ = state.shutdown();
            return Err(
                CliError::msg(format!("{}: FUSE mount: {e}", a.mountpoint.display())).into(),
            );
        }
    };
    let unmounter = session.unmount_callable();
    if let Some(signals) = signals {
        spawn_signal_thread(signals, unmounter);
    }
    announce(a, ready)?;
    let served = session.run();
    let closed = state.shutdown();
    served.map_err(|e| CliError::msg(format!("{}: FUSE: {e}", a.mountpoint.display())))?;
    closed?;
    Ok(())
}

/// --pid-file, --fd and the parent's pipe, once the mount is ready.
fn announce(a: &MountArgs, ready: Option<&mut std::fs::File>) -> Result<()> {
    if let Some(file) = &a.pid_file {
        std::fs::write(file, format!("{}\n", std::process::id()))
            .map_err(|e| CliError::msg(format!("--pid-file {}: {e}", file.display())))?;
    }
    if let Some(fd) = a.fd {
        // SAFETY: the caller handed this descriptor over with --fd; it is
        // written once and closed, as guestmount does.
        let mut f = unsafe { std::fs::File::from_raw_fd(fd) };
        let _ = f.write_all(&[0]);
    }
    if let Some(ready) = ready {
        let _ = ready.write_all(&[0]);
        quiet_stdio();
    }
    Ok(())
}

/// The daemon's standard streams go to /dev/null once it is detached.
fn quiet_stdio() {
    let Ok(null) = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/null")
    else {
        return;
    };
    use std::os::fd::AsRawFd;
    for fd in 0..3 {
        // SAFETY: dup2 onto the standard descriptors from an open file.
        unsafe { libc::dup2(null.as_raw_fd(), fd) };
    }
}

/// Blocks SIGINT, SIGTERM and SIGHUP in this thread and every thread
/// started after it, so one thread of ours takes them (an unmount, then
/// a clean shutdown) instead of the process dying with writes unsynced.
fn block_stop_signals() -> Option<libc::sigset_t> {
    // SAFETY: a zeroed sigset_t is valid storage for sigemptyset.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        for sig in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
            libc::sigaddset(&mut set, sig);
        }
        (libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut()) == 0).then_some(set)
    }
}

fn spawn_signal_thread(set: libc::sigset_t, mut unmounter: fuser::SessionUnmounter) {
    let _ = std::thread::Builder::new()
        .name("libguest-mount-signals".into())
        .spawn(move || {
            let mut signal = 0;
            // SAFETY: `set` is an initialised signal set; `signal` is an out-pointer.
            if unsafe { libc::sigwait(&set, &mut signal) } == 0 {
                let _ = unmounter.unmount();
            }
        });
}

/// guestunmount: unmount a filesystem mounted by `libguest mount`.
#[derive(Parser, Debug)]
#[command(about = "Unmount a filesystem mounted by libguest mount", version)]
pub struct UnmountArgs {
    /// Say nothing when the mountpoint is busy or not mounted.
    #[arg(short = 'q', long = "quiet")]
    pub quiet: bool,
    /// Tries while the mountpoint is busy (one a second after the first).
    #[arg(long = "retry", value_name = "N", default_value_t = 5)]
    pub retry: u32,
    /// Try once.
    #[arg(long = "no-retry")]
    pub no_retry: bool,
    /// The mountpoint.
    #[arg(value_name = "MOUNTPOINT")]
    pub mountpoint: PathBuf,
}

/// How long `unmount` waits for the mounting process to shut its
/// appliance down after the FUSE mount is gone.
const SHUTDOWN_WAIT: Duration = Duration::from_secs(120);

/// Exit codes as guestunmount's: 2 when nothing is mounted there.
pub fn unmount(name: &'static str, args: Vec<OsString>) -> ToolResult {
    let (a, _): (UnmountArgs, _) = parse(name, args)?;
    let mp = std::fs::canonicalize(&a.mountpoint).unwrap_or_else(|_| a.mountpoint.clone());
    let Some(source) = fuse_source(&mp) else {
        if !a.quiet {
            errln!("{name}: {}: not mounted", mp.display());
        }
        return Err(Exit::Code(2));
    };
    let tries = if a.no_retry { 1 } else { a.retry.max(1) };
    let mut last = String::new();
    for attempt in 0..tries {
        if attempt > 0 {
            std::thread::sleep(Duration::from_secs(1));
        }
        match umount(&mp) {
            Ok(()) => {
                wait_for_owner(&source)?;
                return Ok(());
            }
            Err(e) => last = e,
        }
    }
    if a.quiet {
        return Err(Exit::Code(1));
    }
    Err(CliError::msg(format!(
        "{}: {last} (close the files and shells that use it, then try again)",
        mp.display()
    ))
    .into())
}

/// The `libguest-PID` source of a FUSE mount on `mp`, from mountinfo.
fn fuse_source(mp: &Path) -> Option<String> {
    let info = std::fs::read_to_string("/proc/self/mountinfo").ok()?;
    let want = mp.to_str()?;
    info.lines().rev().find_map(|line| {
        let (left, right) = line.split_once(" - ")?;
        let mountpoint = left.split(' ').nth(4)?;
        let mut right = right.split(' ');
        let fstype = right.next()?;
        let source = right.next()?;
        (unescape_mountinfo(mountpoint) == want && fstype.starts_with("fuse"))
            .then(|| source.to_string())
    })
}

/// mountinfo writes space, tab, newline and backslash as `\ooo`.
fn unescape_mountinfo(field: &str) -> String {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let octal = bytes.get(i + 1..i + 4).and_then(|d| {
            std::str::from_utf8(d)
                .ok()
                .and_then(|d| u8::from_str_radix(d, 8).ok())
        });
        match (bytes[i], octal) {
            (b'\\', Some(b)) => {
                out.push(b);
                i += 4;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn umount(mp: &Path) -> std::result::Result<(), String> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        return rustix::mount::unmount(mp, rustix::mount::UnmountFlags::empty())
            .map_err(|e| e.to_string());
    }
    let out = std::process::Command::new("fusermount3")
        .arg("-u")
        .arg(mp)
        .output()
        .map_err(|e| format!("fusermount3: {e} (install the fuse3 package)"))?;
    match out.status.success() {
        true => Ok(()),
        false => Err(String::from_utf8_lossy(&out.stderr).trim().to_string()),
    }
}

/// Waits until the process that served the mount (its source names it,
/// when it was ours) has shut its appliance down and exited.
fn wait_for_owner(source: &str) -> Result<()> {
    let Some(pid) = source
        .strip_prefix("libguest-")
        .and_then(|p| p.parse::<u32>().ok())
    else {
        return Ok(());
    };
    let proc_dir = PathBuf::from(format!("/proc/{pid}"));
    // Only a libguest process: another program's mount named like ours
    // must not make us wait on an unrelated PID.
    let ours = std::fs::read_link("/proc/self/exe").ok();
    if ours.is_none() || std::fs::read_link(proc_dir.join("exe")).ok() != ours {
        return Ok(());
    }
    let started = Instant::now();
    while proc_dir.exists() && !is_zombie(&proc_dir) {
        if started.elapsed() > SHUTDOWN_WAIT {
            return Err(CliError::msg(format!(
                "unmounted, but process {pid} has not shut its appliance down after {} s; its writes may not all be in the image yet",
                SHUTDOWN_WAIT.as_secs()
            )));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(())
}

fn is_zombie(proc_dir: &Path) -> bool {
    std::fs::read_to_string(proc_dir.join("stat"))
        .ok()
        .and_then(|s| {
            s.rsplit_once(')')
                .map(|(_, rest)| rest.trim_start().starts_with('Z'))
        })
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mountinfo_fields_are_unescaped() {
        assert_eq!(unescape_mountinfo(r"/mnt/a\040b"), "/mnt/a b");
        assert_eq!(unescape_mountinfo(r"/x\134y"), r"/x\y");
        assert_eq!(unescape_mountinfo(r"/trailing\04"), r"/trailing\04");
    }

    fn args(line: &[&str]) -> MountArgs {
        let argv = std::iter::once("guestmount").chain(line.iter().copied());
        MountArgs::try_parse_from(argv).unwrap()
    }

    #[test]
    fn options_map_to_fuse_and_names_stay_ours() {
        let p = plan(
            &args(&["-a", "x", "-i", "--ro", "-o", "allow_other,noexec", "/mnt"]),
            true,
        )
        .unwrap();
        assert!(p.options.contains(&MountOption::RO));
        assert!(p.options.contains(&MountOption::NoExec));
        assert!(p.options.contains(&MountOption::AutoUnmount));
        assert!(matches!(p.acl, SessionACL::All));
        assert!(p.needs_fusermount);
        let p = plan(&args(&["-a", "x", "-i", "/mnt"]), false).unwrap();
        assert!(!p.options.contains(&MountOption::AutoUnmount));
        assert!(
            p.needs_fusermount,
            "unprivileged mounts go through fusermount3"
        );
        assert!(plan(&args(&["-a", "x", "-i", "-o", "fsname=x", "/mnt"]), true).is_err());
    }

    #[test]
    fn preflight_refuses_what_would_hide_or_fail() {
        let dir = tempfile::tempdir().unwrap();
        let mp = dir.path().to_str().unwrap().to_string();
        let p = plan(&args(&["-a", "x", "/m"]), true).unwrap();
        let e = preflight(&args(&["-a", "x", &mp]), &p).unwrap_err();
        assert!(e.to_string().contains("-i"), "{e}");
        std::fs::write(dir.path().join("f"), "").unwrap();
        let e = preflight(&args(&["-a", "x", "-i", &mp]), &p).unwrap_err();
        assert!(e.to_string().contains("not empty"), "{e}");
        let file = dir.path().join("f");
        let e = preflight(&args(&["-a", "x", "-i", file.to_str().unwrap()]), &p).unwrap_err();
        assert!(e.to_string().contains("not a directory"), "{e}");
    }
}
