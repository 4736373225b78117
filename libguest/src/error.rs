use std::path::PathBuf;

/// Errors of the public API. Each says what went wrong and what to do.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("no appliance kernel found (searched {searched}); build it with `kernel-config/build-kernel.sh appliance` or `libguest build-kernel` (Debian: apt-get install linux-source-6.12 build-essential bc flex bison libelf-dev libssl-dev cpio), or set LIBGUEST_KERNEL to a vmlinux built from kernel-config/appliance.config")]
    KernelNotFound { searched: String },
    #[error("building the appliance kernel failed: {0}")]
    KernelBuild(String),
    #[error("appliance {what}: {source}")]
    Appliance {
        what: String,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Vmm(#[from] vmm::Error),
    #[error("the appliance kernel panicked during boot; last console lines:\n{console_tail}")]
    KernelPanic { console_tail: String },
    #[error("the appliance stopped unexpectedly ({reason}); last console lines:\n{console_tail}")]
    GuestDied {
        reason: String,
        console_tail: String,
    },
    #[error("the appliance did not become ready within {seconds} s (raise it with set_launch_timeout); last console lines:\n{console_tail}")]
    LaunchTimeout { seconds: u64, console_tail: String },
    #[error("the appliance did not power off within {seconds} s and was stopped; last console lines:\n{console_tail}")]
    ShutdownTimeout { seconds: u64, console_tail: String },
    #[error("{call}: {reason}")]
    State {
        call: &'static str,
        reason: &'static str,
    },
    #[error("debug command failed: {0}")]
    Debug(String),
    #[error("drive {path}: {reason}")]
    Drive { path: PathBuf, reason: String },

    // Failed API calls: the guest's errno class, the call and the daemon's
    // message (which names the path or device).
    #[error("{call}: {message}")]
    NotFound { call: &'static str, message: String },
    #[error("{call}: {message}")]
    PermissionDenied { call: &'static str, message: String },
    #[error("{call}: {message} (the drive or mount is read-only: add it without --ro / mount it read-write)")]
    ReadOnly { call: &'static str, message: String },
    #[error("{call}: {message}")]
    AlreadyExists { call: &'static str, message: String },
    #[error("{call}: {message}")]
    NotADirectory { call: &'static str, message: String },
    #[error("{call}: {message}")]
    IsADirectory { call: &'static str, message: String },
    #[error("{call}: {message}")]
    DirectoryNotEmpty { call: &'static str, message: String },
    #[error("{call}: {message} (the guest filesystem is full)")]
    NoSpace { call: &'static str, message: String },
    #[error("{call}: {message}")]
    InvalidArgument { call: &'static str, message: String },
    #[error("{call}: {message}")]
    NotMounted { call: &'static str, message: String },
    #[error("{call}: cancelled")]
    Cancelled { call: &'static str },
    #[error("{call}: {message}")]
    TooLarge { call: &'static str, message: String },
    /// Any other failure in the appliance; `errno` is 0 when not a
    /// system call's.
    #[error("{call}: {message}")]
    Guest {
        call: &'static str,
        errno: i32,
        message: String,
    },
    #[error("{call}: {what}: {source}")]
    HostIo {
        call: &'static str,
        what: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{call}: {source}")]
    Transfer {
        call: &'static str,
        #[source]
        source: crate::transfer::TransferError,
    },
    #[error("{call}: protocol error on the appliance channel: {message}; the handle is closed")]
    Protocol { call: &'static str, message: String },
    /// The qemu TCG backend could not start qemu.
    #[error("qemu TCG backend: {reason}")]
    Qemu { reason: String },
}

pub type Result<T> = std::result::Result<T, Error>;
