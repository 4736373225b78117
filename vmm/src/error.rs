use std::path::PathBuf;

/// Errors of the VMM layer. Each says what failed and, where it can, what
/// the user can do about it.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// /dev/kvm is absent: KVM is not loaded or not offered to this
    /// machine. Load kvm_intel/kvm_amd or enable nested virtualization.
    #[error("/dev/kvm does not exist: this machine has no KVM (load kvm_intel or kvm_amd, or enable nested virtualization for this VM)")]
    KvmMissing,
    /// /dev/kvm exists but opening it failed (usually EACCES); holds the
    /// OS error. Join the `kvm` group or run as root.
    #[error("/dev/kvm is not accessible to this user: add the user to the 'kvm' group or run as root ({0})")]
    KvmPermission(std::io::Error),
    /// /dev/kvm is backed by a module that cannot run an ordinary Linux
    /// guest (see [`crate::KvmStatus::CannotRunLinux`]); use a host with
    /// hardware virtualization.
    #[error("/dev/kvm is provided by {module}, which runs only PVM-built guests and emulates everything else, so the Linux appliance cannot boot on it; run on a host with hardware virtualization (kvm_intel or kvm_amd loaded, or nested virtualization enabled for this VM)")]
    KvmCannotRunLinux {
        /// The kernel module behind /dev/kvm, e.g. `kvm_pvm`.
        module: String,
    },
    /// The host's KVM lacks something the VMM needs (named, e.g.
    /// `KVM_CAP_IRQFD`, or the boot MSRs it refused): the host kernel's KVM
    /// is too old or restricted.
    #[error("KVM lacks a required capability: {0}")]
    KvmCapability(&'static str),
    /// A KVM ioctl failed while creating or running the VM.
    #[error("KVM ioctl {op} failed: {source}")]
    Kvm {
        /// The ioctl, e.g. `KVM_CREATE_VM`.
        op: &'static str,
        /// What KVM returned.
        #[source]
        source: kvm_ioctls::Error,
    },
    /// Mapping guest RAM failed (mmap refused, e.g. out of memory or an
    /// address-space limit); lower the memory size or free host memory.
    #[error("cannot allocate {mib} MiB of guest memory: {reason}")]
    GuestMemory {
        /// The requested guest memory in MiB.
        mib: u64,
        /// Why the mapping failed.
        reason: String,
    },
    /// [`crate::VmConfig::mem_mib`] is outside the supported range.
    #[error("guest memory size {mib} MiB is out of range ({min}..={max} MiB)")]
    MemorySize {
        /// The configured size in MiB.
        mib: u64,
        /// Smallest accepted size in MiB (64).
        min: u64,
        /// Largest accepted size in MiB (65536).
        max: u64,
    },
    /// [`crate::VmConfig::vcpus`] is 0 or above 16; holds the configured
    /// count.
    #[error("vCPU count {0} is out of range (1..=16)")]
    VcpuCount(u8),
    /// Opening or stat-ing a boot image file failed: the kernel, or (with
    /// the same message) the initramfs file.
    #[error("cannot open kernel {path}: {source}")]
    KernelOpen {
        /// The file that could not be opened.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The kernel is not a loadable ELF vmlinux (a bzImage, a truncated
    /// file, segments outside guest RAM).
    #[error("cannot load kernel {path}: {reason} (libguest boots an uncompressed ELF vmlinux with a PVH note, built by kernel-config/build-kernel.sh)")]
    KernelLoad {
        /// The kernel file (or the name given for in-memory bytes).
        path: PathBuf,
        /// The ELF loader's error.
        reason: String,
    },
    /// The kernel loaded but has no PVH entry note, so it cannot be booted
    /// by this VMM.
    #[error("kernel {path} has no PVH entry point: build it with CONFIG_PVH=y (kernel-config/appliance.config does)")]
    KernelNoPvh {
        /// The kernel file (or the name given for in-memory bytes).
        path: PathBuf,
    },
    /// The initramfs does not fit between the kernel's end and the top of
    /// low RAM (below 3 GiB); give the guest more memory.
    #[error("initramfs of {size} bytes does not fit in guest memory above the kernel; raise the memory size")]
    InitramfsTooLarge {
        /// The initramfs size in bytes.
        size: u64,
    },
    /// The kernel command line is too long (see
    /// [`crate::layout::CMDLINE_MAX_SIZE`], which includes the
    /// `virtio_mmio.device=` entries the VMM appends) or has invalid
    /// characters; holds the loader's reason.
    #[error("kernel command line is invalid: {0}")]
    Cmdline(String),
    /// Writing the boot structures (GDT, MP table, PVH start info) or the
    /// initramfs into guest memory failed; holds which and why. Means a
    /// VMM bug or an unreadable initramfs file, not a user setting.
    #[error("cannot write boot data into guest memory: {0}")]
    BootData(String),
    /// [`crate::VmConfig::console_file`] could not be opened or created.
    #[error("cannot open console log file {path}: {source}")]
    ConsoleFile {
        /// The console file path.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// A virtio device could not be set up: more than one
    /// [`crate::Device::Channel`] was given, or the transport refused the
    /// device; holds the reason.
    #[error("virtio device set-up failed: {0}")]
    Device(String),
    /// Spawning a vCPU or interrupt thread failed (e.g. a thread limit);
    /// holds the OS error.
    #[error("cannot start vCPU thread: {0}")]
    Thread(std::io::Error),
    /// A host system call the VMM needs failed (creating an eventfd,
    /// installing the vCPU kick signal handler).
    #[error("system call {op} failed: {source}")]
    Sys {
        /// The call, e.g. `eventfd`.
        op: &'static str,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
}

/// A result with the VMM's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    pub(crate) fn kvm(op: &'static str) -> impl FnOnce(kvm_ioctls::Error) -> Error {
        move |source| Error::Kvm { op, source }
    }
}
