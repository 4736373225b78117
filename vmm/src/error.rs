use std::path::PathBuf;

/// Errors of the VMM layer. Each says what failed and, where it can, what
/// the user can do about it.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("/dev/kvm does not exist: this machine has no KVM (load kvm_intel or kvm_amd, or enable nested virtualization for this VM)")]
    KvmMissing,
    #[error("/dev/kvm is not accessible to this user: add the user to the 'kvm' group or run as root ({0})")]
    KvmPermission(std::io::Error),
    #[error("/dev/kvm is provided by {module}, which runs only PVM-built guests and emulates everything else, so the Linux appliance cannot boot on it; run on a host with hardware virtualization (kvm_intel or kvm_amd loaded, or nested virtualization enabled for this VM)")]
    KvmCannotRunLinux { module: String },
    #[error("KVM lacks a required capability: {0}")]
    KvmCapability(&'static str),
    #[error("KVM ioctl {op} failed: {source}")]
    Kvm {
        op: &'static str,
        #[source]
        source: kvm_ioctls::Error,
    },
    #[error("cannot allocate {mib} MiB of guest memory: {reason}")]
    GuestMemory { mib: u64, reason: String },
    #[error("guest memory size {mib} MiB is out of range ({min}..={max} MiB)")]
    MemorySize { mib: u64, min: u64, max: u64 },
    #[error("vCPU count {0} is out of range (1..=16)")]
    VcpuCount(u8),
    #[error("cannot open kernel {path}: {source}")]
    KernelOpen {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot load kernel {path}: {reason} (libguest boots an uncompressed ELF vmlinux with a PVH note, built by kernel-config/build-kernel.sh)")]
    KernelLoad { path: PathBuf, reason: String },
    #[error("kernel {path} has no PVH entry point: build it with CONFIG_PVH=y (kernel-config/appliance.config does)")]
    KernelNoPvh { path: PathBuf },
    #[error("initramfs of {size} bytes does not fit in guest memory above the kernel; raise the memory size")]
    InitramfsTooLarge { size: u64 },
    #[error("kernel command line is invalid: {0}")]
    Cmdline(String),
    #[error("cannot write boot data into guest memory: {0}")]
    BootData(String),
    #[error("cannot open console log file {path}: {source}")]
    ConsoleFile {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("virtio device set-up failed: {0}")]
    Device(String),
    #[error("cannot start vCPU thread: {0}")]
    Thread(std::io::Error),
    #[error("system call {op} failed: {source}")]
    Sys {
        op: &'static str,
        #[source]
        source: std::io::Error,
    },
}

pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    pub(crate) fn kvm(op: &'static str) -> impl FnOnce(kvm_ioctls::Error) -> Error {
        move |source| Error::Kvm { op, source }
    }
}
