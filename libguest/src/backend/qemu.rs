//! The TCG fallback: the same kernel, initramfs and guest-visible devices
//! as [`super::kvm`] (virtio-scsi over virtio-mmio with one target per
//! drive, a virtio-console port named [`super::CHANNEL_PORT`], a 16550
//! console), run by `qemu-system-x86_64 -M microvm -accel tcg` as a child
//! process. Slow, but it needs nothing from the host's KVM.

mod args;
mod channel;
mod json;
mod process;
#[cfg(test)]
mod tests;

use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use vmm::{ConsoleFile, ConsoleLog, ConsoleRecorder, ExitReason};

use super::{Appliance, ChannelIo, Kill, LaunchSpec};
use crate::error::{Error, Result};
use appliance::BootImage;
use channel::SocketChannel;
use process::Process;

/// Console bytes kept in memory, as for the KVM backend.
const CONSOLE_CAPACITY: usize = 256 * 1024;
/// How long qemu gets to exit on SIGTERM (closing its images) before SIGKILL.
const STOP_GRACE: Duration = Duration::from_secs(3);

pub(crate) struct QemuAppliance {
    console: ConsoleRecorder,
    channel: Arc<SocketChannel>,
    /// qemu's stdin: the guest's serial input.
    stdin: UnixStream,
    process: Process,
    /// qemu's TMPDIR (it should write nothing there: overlays and scratch
    /// disks are descriptors); removed once the guest runs, or when the
    /// appliance goes.
    _dir: tempfile::TempDir,
}

/// Starts qemu and returns at once; the caller waits for guest-init's ready
/// line on the console.
pub(crate) fn launch(spec: &LaunchSpec<'_>) -> Result<QemuAppliance> {
    let qemu = args::find_qemu(std::env::var_os("LIBGUEST_QEMU"), std::env::var_os("PATH"))?;
    launch_with(spec, qemu)
}

fn io_error(what: &str) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |source| Error::QemuIo {
        what: what.into(),
        source,
    }
}

fn launch_with(spec: &LaunchSpec<'_>, qemu: PathBuf) -> Result<QemuAppliance> {
    let dir = tempfile::Builder::new()
        .prefix("libguest-qemu-")
        .tempdir()
        .map_err(io_error("creating a temporary directory"))?;
    let resolved = args::resolve_drives(spec.drives)?;
    let console_file =
        match &spec.console_file {
            Some(path) => Some(ConsoleFile::open(path, spec.console_file_limit).map_err(
                |source| vmm::Error::ConsoleFile {
                    path: path.clone(),
                    source,
                },
            )?),
            None => None,
        };
    let console = ConsoleRecorder::new(CONSOLE_CAPACITY, console_file);
    let (ours, theirs) = UnixStream::pair().map_err(io_error("creating the channel socket"))?;
    let (stdin, qemu_stdin) =
        UnixStream::pair().map_err(io_error("creating the console socket"))?;
    let mut theirs = OwnedFd::from(theirs);
    if std::os::fd::AsRawFd::as_raw_fd(&theirs) < 3 {
        // A caller without stdio: 0-2 are about to become qemu's stdio.
        // try_clone returns a descriptor >= 3.
        theirs = theirs
            .try_clone()
            .map_err(io_error("duplicating the channel socket"))?;
    }
    // qemu reads the kernel and initramfs by name: it gets sealed
    // in-memory copies of the checked bytes, as /proc/self/fd/N of
    // descriptors it inherits, so the names it opens lead nowhere else.
    // (A private copy on disk would cost a write and a cleanup; the
    // memfd is freed when qemu exits.)
    let kernel_fd = boot_fd(&spec.kernel)?;
    let initramfs_fd = boot_fd(&spec.initramfs)?;
    let (kernel, initramfs) = (proc_fd_path(&kernel_fd), proc_fd_path(&initramfs_fd));
    let argv = args::command_line(&args::Machine {
        kernel: &kernel,
        initramfs: &initramfs,
        cmdline: &spec.cmdline,
        mem_mib: spec.mem_mib,
        vcpus: spec.vcpus,
        drives: &resolved.drives,
        channel_fd: std::os::fd::AsRawFd::as_raw_fd(&theirs),
    });
    tracing::debug!(qemu = %qemu.display(), ?argv, "starting qemu");
    let mut cmd = Command::new(&qemu);
    cmd.args(&argv)
        .env("TMPDIR", dir.path())
        .stdin(Stdio::from(OwnedFd::from(qemu_stdin)))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // Out of the terminal's process group: a Ctrl-C meant for the
        // caller must not kill the appliance under it.
        .process_group(0);
    // qemu opens the drives' files through these (see args::QemuNode), and
    // the kernel and initramfs through /proc/self/fd/N of the memfds.
    let mut inherited = resolved.fds;
    inherited.extend([kernel_fd, initramfs_fd]);
    args::inherit_fds(&mut cmd, inherited);
    // Once qemu holds every image open, the names can go: nothing is left
    // behind even if this process is killed later.
    let tmp = dir.path().to_path_buf();
    let forget_files = Box::new(move || {
        let _ = std::fs::remove_dir_all(tmp);
    });
    let process = process::spawn(cmd, theirs, console.clone(), forget_files)?;
    let channel = Arc::new(SocketChannel::new(ours));
    let on_exit = channel.clone();
    console.on_exit(Box::new(move || on_exit.close()));
    Ok(QemuAppliance {
        console,
        channel,
        stdin,
        process,
        _dir: dir,
    })
}

/// A sealed in-memory copy of `image` at a descriptor above stdio (a
/// caller without stdio would see 0-2 become qemu's stdio).
fn boot_fd(image: &BootImage) -> Result<OwnedFd> {
    let copy = |source| Error::QemuIo {
        what: format!("copying {} for qemu", image.name.display()),
        source,
    };
    let fd = image.sealed_memfd().map_err(copy)?;
    if fd.as_raw_fd() < 3 {
        // try_clone returns a descriptor >= 3.
        return fd.try_clone().map_err(copy);
    }
    Ok(fd)
}

fn proc_fd_path(fd: &OwnedFd) -> PathBuf {
    PathBuf::from(format!("/proc/self/fd/{}", fd.as_raw_fd()))
}

impl QemuAppliance {
    /// Types `bytes` on the guest's serial console (guest-init's console
    /// control loop reads it).
    #[allow(dead_code, reason = "for Guest's console commands; tests use it now")]
    pub(crate) fn send_console_input(&self, bytes: &[u8]) -> std::io::Result<()> {
        channel::send_all(&self.stdin, bytes, None)
    }

    #[cfg(test)]
    fn pid(&self) -> libc::pid_t {
        self.process.pid()
    }
}

impl Appliance for QemuAppliance {
    fn console(&self) -> ConsoleLog {
        self.console.log()
    }

    fn channel(&self) -> Arc<dyn ChannelIo> {
        self.channel.clone()
    }

    fn kill_switch(&self) -> Arc<dyn Kill> {
        Arc::new(QemuKill {
            process: self.process.killer(),
            channel: self.channel.clone(),
        })
    }

    fn exit_count(&self) -> Option<u64> {
        None
    }

    fn exit_stats(&self) -> Option<vmm::ExitStats> {
        None
    }

    fn stop(&mut self) -> ExitReason {
        self.channel.close();
        let log = self.console.log();
        if self.process.is_watched() && log.exit_reason().is_none() {
            self.process.set_stopping();
            self.process.signal(libc::SIGTERM);
            if log.wait_exit(Instant::now() + STOP_GRACE).is_none() {
                self.process.signal(libc::SIGKILL);
            }
        }
        self.process.join();
        log.exit_reason().unwrap_or(ExitReason::Stopped)
    }

    fn name(&self) -> &'static str {
        "tcg"
    }

    fn process_id(&self) -> u32 {
        // A pid from fork is positive.
        self.process.pid().unsigned_abs()
    }
}

struct QemuKill {
    process: process::Killer,
    channel: Arc<SocketChannel>,
}

impl Kill for QemuKill {
    fn kill(&self) {
        self.channel.close();
        self.process.kill();
    }
}

impl Drop for QemuAppliance {
    fn drop(&mut self) {
        if self.process.is_watched() {
            self.stop();
        }
    }
}
