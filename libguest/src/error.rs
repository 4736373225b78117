//! libguest's public error: one variant per thing that went wrong, each
//! saying what to do, with the lower layer's error as a typed source.

use std::path::PathBuf;
use std::time::Duration;

use disk::DiskError;

pub use appliance::ApplianceError;

/// Errors of the public API. Each says what went wrong and what to do.
///
/// New variants may be added: match with a `_` arm.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The appliance (kernel, initramfs, tools layer or the cache they
    /// live in) cannot be had.
    #[error(transparent)]
    Appliance(#[from] ApplianceError),
    /// A call flagged `needs_tools` could not load the tools layer.
    #[error("{call}: tools layer: {source}")]
    Tools {
        /// The call that failed.
        call: &'static str,
        /// Why the layer could not be built or read.
        #[source]
        source: ApplianceError,
    },
    /// No key given for an encrypted device opened it.
    #[error("could not find key to open LUKS encrypted {device} (give the right one with --key {device}:key:PASSPHRASE, or Guest::add_key): {source}")]
    Decrypt {
        /// The encrypted device.
        device: String,
        /// Why the last key tried failed.
        #[source]
        source: Box<Error>,
    },
    /// `LIBGUEST_BACKEND` names no backend.
    #[error("new: LIBGUEST_BACKEND: {source}")]
    BackendVar {
        /// The name it gave.
        #[source]
        source: crate::backend::UnknownBackend,
    },
    /// The VMM could not create or run the appliance's VM.
    #[error(transparent)]
    Vmm(#[from] vmm::Error),
    /// The appliance kernel panicked (during boot or later).
    #[error("the appliance kernel panicked during boot; last console lines:\n{console_tail}")]
    KernelPanic {
        /// The last lines of the appliance console.
        console_tail: String,
    },
    /// The appliance stopped without being asked to.
    #[error("the appliance stopped unexpectedly ({reason}); last console lines:\n{console_tail}")]
    GuestDied {
        /// How it stopped: a reboot, a triple fault, a crash of the VMM.
        reason: String,
        /// The last lines of the appliance console.
        console_tail: String,
    },
    /// guest-init did not report ready within the launch timeout.
    #[error("the appliance did not become ready within {seconds} s (raise it with set_launch_timeout); last console lines:\n{console_tail}")]
    LaunchTimeout {
        /// The timeout.
        seconds: u64,
        /// The last lines of the appliance console.
        console_tail: String,
    },
    /// The appliance did not power off in time and was stopped by force.
    #[error("the appliance did not power off within {seconds} s and was stopped (writes it had not synced may be lost; raise the limit with Guest::set_shutdown_timeout); last console lines:\n{console_tail}")]
    ShutdownTimeout {
        /// The timeout of each shutdown step.
        seconds: u64,
        /// The last lines of the appliance console.
        console_tail: String,
    },
    /// A [`crate::KillHandle`] stopped the appliance.
    #[error("{call}: the appliance was killed through its KillHandle; the handle is closed (writes the guest had not synced are lost)")]
    Killed {
        /// The call that failed.
        call: &'static str,
    },
    /// The call did not answer within its timeout (`setting` names where
    /// it was set). It was cancelled; if the daemon did not answer that
    /// either within a grace period, the appliance was stopped.
    #[error("{call}: no reply within {timeout:?} ({setting}); {}", timeout_outcome(*appliance_stopped))]
    CallTimeout {
        /// The call that failed.
        call: &'static str,
        /// The timeout that ran out.
        timeout: Duration,
        /// The setter of that timeout.
        setting: &'static str,
        /// Whether the appliance was stopped (the handle is then closed).
        appliance_stopped: bool,
    },
    /// The handle is in the wrong state for the call: configured after
    /// launch, called before launch or after shutdown.
    #[error("{call}: {reason}")]
    State {
        /// The call that failed.
        call: &'static str,
        /// What is wrong and what to call first.
        reason: &'static str,
    },
    /// A drive could not be opened, checked again or flushed.
    #[error("drive {path}: {source}{}", drive_hint(source))]
    Drive {
        /// The image as added (or a description of a scratch disk).
        path: PathBuf,
        /// The disk layer's reason.
        #[source]
        source: DiskError,
    },

    // Failed API calls: the guest's errno class, the call and the daemon's
    // message (which names the path or device).
    /// ENOENT in the guest.
    #[error("{call}: {message}")]
    NotFound {
        /// The call that failed.
        call: &'static str,
        /// The daemon's message, naming the path or device.
        message: String,
    },
    /// EACCES or EPERM in the guest.
    #[error("{call}: {message}")]
    PermissionDenied {
        /// The call that failed.
        call: &'static str,
        /// The daemon's message, naming the path or device.
        message: String,
    },
    /// EROFS: the drive was added read-only or the filesystem is mounted so.
    #[error("{call}: {message} (the drive or mount is read-only: add it without --ro / mount it read-write)")]
    ReadOnly {
        /// The call that failed.
        call: &'static str,
        /// The daemon's message, naming the path or device.
        message: String,
    },
    /// EEXIST in the guest.
    #[error("{call}: {message}")]
    AlreadyExists {
        /// The call that failed.
        call: &'static str,
        /// The daemon's message, naming the path or device.
        message: String,
    },
    /// ENOTDIR in the guest.
    #[error("{call}: {message}")]
    NotADirectory {
        /// The call that failed.
        call: &'static str,
        /// The daemon's message, naming the path or device.
        message: String,
    },
    /// EISDIR in the guest.
    #[error("{call}: {message}")]
    IsADirectory {
        /// The call that failed.
        call: &'static str,
        /// The daemon's message, naming the path or device.
        message: String,
    },
    /// ENOTEMPTY in the guest.
    #[error("{call}: {message}")]
    DirectoryNotEmpty {
        /// The call that failed.
        call: &'static str,
        /// The daemon's message, naming the path or device.
        message: String,
    },
    /// ENOSPC: the guest filesystem is full.
    #[error("{call}: {message} (the guest filesystem is full)")]
    NoSpace {
        /// The call that failed.
        call: &'static str,
        /// The daemon's message, naming the path or device.
        message: String,
    },
    /// An argument refused on the host or by the daemon (EINVAL).
    #[error("{call}: {message}")]
    InvalidArgument {
        /// The call that failed.
        call: &'static str,
        /// Which argument and why.
        message: String,
    },
    /// The call needs a mounted filesystem (`/` first).
    #[error("{call}: {message}")]
    NotMounted {
        /// The call that failed.
        call: &'static str,
        /// What to mount.
        message: String,
    },
    /// The call was cancelled through a [`crate::CancelHandle`].
    #[error("{call}: cancelled")]
    Cancelled {
        /// The call that failed.
        call: &'static str,
    },
    /// A request or reply over the message limit.
    #[error("{call}: {message}")]
    TooLarge {
        /// The call that failed.
        call: &'static str,
        /// The size, the limit and the call to use instead.
        message: String,
    },
    /// A guest program run by `command` or `sh` (and their `_lines`
    /// forms) exited with a non-zero status or was killed.
    #[error("{call}: {message}")]
    CommandFailed {
        /// The call that failed.
        call: &'static str,
        /// The exit status (128 + the signal number when killed).
        status: i32,
        /// The status, then the program's stderr and stdout (each cut
        /// to its last 64 KiB).
        message: String,
    },
    /// Any other failure in the appliance; `errno` is 0 when not a
    /// system call's.
    #[error("{call}: {message}")]
    Guest {
        /// The call that failed.
        call: &'static str,
        /// The guest's errno, or 0.
        errno: i32,
        /// The daemon's message.
        message: String,
    },
    /// A host file or stream of a streaming call failed.
    #[error("{call}: {what}: {source}")]
    HostIo {
        /// The call that failed.
        call: &'static str,
        /// The host file or step.
        what: String,
        /// The host's error.
        #[source]
        source: std::io::Error,
    },
    /// `copy_in`/`copy_out`: packing or unpacking the tar stream on the
    /// host failed or refused an entry.
    #[error("{call}: {source}")]
    Transfer {
        /// The call that failed.
        call: &'static str,
        /// The entry and the reason.
        #[source]
        source: crate::transfer::TransferError,
    },
    /// The appliance broke the channel protocol; the handle is closed.
    #[error("{call}: protocol error on the appliance channel: {message}; the handle is closed")]
    Protocol {
        /// The call that failed.
        call: &'static str,
        /// What was wrong with the reply.
        message: String,
    },
    /// The qemu TCG backend could not start qemu.
    #[error("qemu TCG backend: {reason}")]
    Qemu {
        /// Why, and what to install or set.
        reason: String,
    },
    /// The qemu TCG backend failed at a step on the host.
    #[error("qemu TCG backend: {what}: {source}")]
    QemuIo {
        /// The step.
        what: String,
        /// The host's error.
        #[source]
        source: std::io::Error,
    },
}

/// The result of libguest's calls.
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// The guest's errno for a failed call, as libguestfs's
    /// `guestfs_last_errno`: `None` when the failure was not a guest
    /// system call's (a host error, a dead appliance, a protocol error).
    pub fn errno(&self) -> Option<i32> {
        let errno = match self {
            Error::NotFound { .. } => libc::ENOENT,
            Error::PermissionDenied { .. } => libc::EACCES,
            Error::ReadOnly { .. } => libc::EROFS,
            Error::AlreadyExists { .. } => libc::EEXIST,
            Error::NotADirectory { .. } => libc::ENOTDIR,
            Error::IsADirectory { .. } => libc::EISDIR,
            Error::DirectoryNotEmpty { .. } => libc::ENOTEMPTY,
            Error::NoSpace { .. } => libc::ENOSPC,
            Error::InvalidArgument { .. } => libc::EINVAL,
            Error::Guest { errno, .. } if *errno != 0 => *errno,
            _ => return None,
        };
        Some(errno)
    }
}

/// How to say the disk layer's fix through libguest's own options, where
/// the fix is an option.
fn drive_hint(e: &DiskError) -> &'static str {
    match e {
        DiskError::ProbedBacking { .. } => {
            " (`--format qcow2` before `-a` on the command line, \
             `DriveOptions { format: Some(DriveFormat::Qcow2), .. }` in the API)"
        }
        _ => "",
    }
}

fn timeout_outcome(appliance_stopped: bool) -> &'static str {
    match appliance_stopped {
        false => "the call was cancelled; the handle is still usable",
        true => "the appliance did not answer the cancel either, so it was stopped and the handle is closed",
    }
}
