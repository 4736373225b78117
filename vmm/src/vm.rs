//! A running VM: memory, vCPU threads, devices and the shared exit state.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use kvm_bindings::{
    kvm_pit_config, kvm_userspace_memory_region, KVM_CAP_BINARY_STATS_FD, KVM_PIT_SPEAKER_DUMMY,
};
use kvm_ioctls::{Cap, IoEventAddress, Kvm, VmFd};
use vm_memory::{Address, GuestMemoryBackend, GuestMemoryMmap, GuestMemoryRegion};
use vmm_sys_util::eventfd::EventFd;
use vmm_sys_util::signal::Killable;

use crate::console::{ConsoleFile, ConsoleLog, DEFAULT_CONSOLE_FILE_LIMIT};
// The kill switch names the exit reason by its old path.
use crate::devices::resample::Resampler;
use crate::devices::virtio::console::{device::ConsoleDevice, port::ChannelHost as Channel};
use crate::devices::virtio::{mmio, scsi::ScsiDevice, Interrupt, VirtioDevice};
use crate::devices::{serial, MmioDevice, PortBus};
use crate::error::{Error, Result};
use crate::exit_stats::{self, ExitStats, VcpuStats};
use crate::host::KvmStatus;
use crate::kill::{lock_threads, KillSwitch};
use crate::layout;
pub(crate) use crate::run_state::ExitReason;
use crate::run_state::Shared;
use crate::vcpu::{install_kick_handler, kick_signal, VcpuThread};
use crate::{boot, cpu};

/// Least guest memory a VM is started with, in MiB.
pub const MIN_MEM_MIB: u64 = 64;
/// Most guest memory a VM is started with, in MiB.
pub const MAX_MEM_MIB: u64 = 64 * 1024;
/// Most vCPUs a VM is started with.
pub const MAX_VCPUS: u8 = 16;

/// What to boot and how.
#[derive(Debug, Clone)]
pub struct VmConfig {
    /// Uncompressed ELF vmlinux with a PVH note.
    pub kernel: PathBuf,
    /// The kernel's bytes, read (and checked) by the caller: booted
    /// instead of opening `kernel`, which then only names them in errors.
    /// A caller that verified a file hands over what it verified, so no
    /// one can swap the file between its check and this load.
    pub kernel_image: Option<Arc<[u8]>>,
    /// cpio archive handed to the kernel as its initramfs.
    pub initramfs: Option<PathBuf>,
    /// The initramfs as bytes, as `kernel_image` is for the kernel
    /// (`initramfs` then only names it).
    pub initramfs_image: Option<Arc<[u8]>>,
    /// Kernel command line; the VMM appends a `virtio_mmio.device=` entry
    /// per device. At most 4095 bytes in all.
    pub cmdline: String,
    /// Guest RAM in MiB, 64 to 65536 (default 512).
    pub mem_mib: u64,
    /// Number of vCPUs, 1 to 16 (default 1).
    pub vcpus: u8,
    /// How many bytes of console output the in-memory log keeps.
    pub console_capacity: usize,
    /// Also append console output to this file.
    pub console_file: Option<PathBuf>,
    /// The console file's cap in bytes (see [`ConsoleFile`]): past it the
    /// file keeps only its newest half. Default 16 MiB.
    pub console_file_limit: u64,
}

/// One drive of the virtio-scsi controller.
#[derive(Clone)]
pub struct ScsiDisk {
    /// What the guest reads and writes.
    pub backend: Arc<dyn disk::BlockBackend>,
    /// Whether the guest's UNMAP and WRITE SAME (UNMAP) reach the backend's
    /// `discard`. If not, they succeed and change nothing, as with qemu's
    /// `discard=ignore` (libguestfs's default, `discard:disable`): the disk
    /// still offers thin provisioning wherever the backend could discard,
    /// so fstrim and blkdiscard behave as they do under libguestfs.
    pub unmap: bool,
}

/// A virtio device handed to [`Vm::start`]; each gets the next
/// virtio-mmio slot, in the order given.
#[derive(Clone)]
pub enum Device {
    /// Disks served by one virtio-scsi controller: target i is
    /// /dev/sd(a+i).
    Scsi(Vec<ScsiDisk>),
    /// A virtio-console port of this name (the guest's
    /// `/dev/virtio-ports/<name>`) that carries the API channel; its host
    /// end is [`Vm::channel`]. At most one.
    Channel(String),
}

impl VmConfig {
    /// Boots `kernel` with `cmdline`, no initramfs, 512 MiB, one vCPU, a
    /// 256 KiB console log and no console file.
    pub fn new(kernel: PathBuf, cmdline: impl Into<String>) -> VmConfig {
        VmConfig {
            kernel,
            kernel_image: None,
            initramfs: None,
            initramfs_image: None,
            cmdline: cmdline.into(),
            mem_mib: 512,
            vcpus: 1,
            console_capacity: 256 * 1024,
            console_file: None,
            console_file_limit: DEFAULT_CONSOLE_FILE_LIMIT,
        }
    }
}

/// A running VM. Dropping it (or [`Vm::stop`]) stops the vCPUs and joins
/// their threads.
pub struct Vm {
    // Field order matters on drop: threads are joined in `Drop` before the
    // memory mapping (owned by `_memory`) goes away.
    /// Shared with [`KillSwitch`]es, which kick the threads; `stop` takes
    /// them out under the lock before joining, so a kick never reaches a
    /// joined thread.
    vcpus: Arc<Mutex<Vec<JoinHandle<()>>>>,
    stop: Arc<AtomicBool>,
    exits: Arc<AtomicU64>,
    shared: Arc<Shared>,
    serial: Arc<serial::SerialConsole>,
    resampler: Resampler,
    channel: Option<Channel>,
    /// Each vCPU's KVM statistics; empty where KVM has none.
    stats: Vec<VcpuStats>,
    _vm: VmFd,
    _memory: GuestMemoryMmap,
}

impl Vm {
    /// Creates the VM with `devices`, loads the kernel and starts the
    /// vCPUs.
    pub fn start(config: &VmConfig, devices: &[Device]) -> Result<Vm> {
        KvmStatus::probe().check()?;
        if !(MIN_MEM_MIB..=MAX_MEM_MIB).contains(&config.mem_mib) {
            return Err(Error::MemorySize {
                mib: config.mem_mib,
                min: MIN_MEM_MIB,
                max: MAX_MEM_MIB,
            });
        }
        if config.vcpus == 0 || config.vcpus > MAX_VCPUS {
            return Err(Error::VcpuCount(config.vcpus));
        }
        let kvm = Kvm::new().map_err(|e| match e.errno() {
            libc::ENOENT => Error::KvmMissing,
            _ => Error::KvmPermission(std::io::Error::from_raw_os_error(e.errno())),
        })?;
        for (cap, name) in [
            (Cap::Irqchip, "KVM_CAP_IRQCHIP"),
            (Cap::UserMemory, "KVM_CAP_USER_MEMORY"),
            (Cap::SetTssAddr, "KVM_CAP_SET_TSS_ADDR"),
            (Cap::Pit2, "KVM_CAP_PIT2"),
            (Cap::Irqfd, "KVM_CAP_IRQFD"),
            (Cap::Ioeventfd, "KVM_CAP_IOEVENTFD"),
        ] {
            if !kvm.check_extension(cap) {
                return Err(Error::KvmCapability(name));
            }
        }
        let vm = kvm.create_vm().map_err(Error::kvm("KVM_CREATE_VM"))?;
        vm.set_tss_address(layout::KVM_TSS_ADDR as usize)
            .map_err(Error::kvm("KVM_SET_TSS_ADDR"))?;
        vm.create_irq_chip()
            .map_err(Error::kvm("KVM_CREATE_IRQCHIP"))?;
        vm.create_pit2(kvm_pit_config {
            flags: KVM_PIT_SPEAKER_DUMMY,
            ..Default::default()
        })
        .map_err(Error::kvm("KVM_CREATE_PIT2"))?;

        let mem_bytes = config.mem_mib << 20;
        let memory = create_memory(&vm, mem_bytes)?;
        let mut cmdline = config.cmdline.clone();
        let mut mmio = Vec::new();
        let mut channel = None;
        for device in devices {
            let virtio: Box<dyn VirtioDevice> = match device {
                Device::Scsi(disks) => Box::new(ScsiDevice::new(disks.clone())),
                Device::Channel(_) if channel.is_some() => {
                    return Err(Error::Device(
                        "more than one API channel device was given; a VM has one".into(),
                    ))
                }
                Device::Channel(name) => {
                    let (console, host) = ConsoleDevice::new(name);
                    channel = Some(host);
                    Box::new(console)
                }
            };
            mmio.push(virtio_mmio_device(
                &vm,
                &memory,
                mmio.len(),
                virtio,
                &mut cmdline,
            )?);
        }
        let kernel = match &config.kernel_image {
            Some(bytes) => boot::Image::Bytes {
                name: &config.kernel,
                bytes,
            },
            None => boot::Image::File(&config.kernel),
        };
        let initramfs_name = config
            .initramfs
            .as_deref()
            .unwrap_or(Path::new("initramfs"));
        let initramfs = match (&config.initramfs_image, &config.initramfs) {
            (Some(bytes), _) => Some(boot::Image::Bytes {
                name: initramfs_name,
                bytes,
            }),
            (None, Some(path)) => Some(boot::Image::File(path)),
            (None, None) => None,
        };
        let entry = boot::load(&memory, mem_bytes, kernel, initramfs, &cmdline)?;
        boot::mptable::write(&memory, config.vcpus)?;
        cpu::write_gdt(&memory)?;

        let console_file = match &config.console_file {
            Some(path) => Some(ConsoleFile::open(path, config.console_file_limit).map_err(
                |source| Error::ConsoleFile {
                    path: path.clone(),
                    source,
                },
            )?),
            None => None,
        };
        let shared = Shared::new(config.console_capacity, console_file);
        if let Some(host) = channel.clone() {
            // A stopped guest answers nothing: wake whoever waits on it.
            shared.on_exit(Box::new(move || host.close()));
        }
        let serial_irq = EventFd::new(libc::EFD_NONBLOCK).map_err(|source| Error::Sys {
            op: "eventfd",
            source,
        })?;
        let serial_resample = EventFd::new(libc::EFD_NONBLOCK).map_err(|source| Error::Sys {
            op: "eventfd",
            source,
        })?;
        vm.register_irqfd_with_resample(&serial_irq, &serial_resample, serial::COM1_IRQ)
            .map_err(Error::kvm("KVM_IRQFD"))?;
        let serial = Arc::new(serial::SerialConsole::new(serial_irq, shared.clone()));
        let resampler = Resampler::spawn(serial_resample, serial.clone()).map_err(Error::Thread)?;
        let ports = Arc::new(PortBus {
            serial: serial.clone(),
            mmio,
        });

        let base_cpuid = cpu::supported_cpuid(&kvm)?;
        let mut fds = Vec::with_capacity(config.vcpus as usize);
        for id in 0..config.vcpus {
            let fd = vm
                .create_vcpu(u64::from(id))
                .map_err(Error::kvm("KVM_CREATE_VCPU"))?;
            cpu::configure(&fd, &base_cpuid, id, config.vcpus, entry.pvh_entry)?;
            fds.push(fd);
        }
        // Statistics only: a kernel without them (before 5.14) still runs.
        let stats = if kvm.check_extension_raw(KVM_CAP_BINARY_STATS_FD.into()) > 0 {
            fds.iter()
                .map(VcpuStats::open)
                .collect::<std::io::Result<Vec<_>>>()
                .unwrap_or_else(|e| {
                    tracing::debug!("KVM vCPU statistics unreadable: {e}");
                    Vec::new()
                })
        } else {
            Vec::new()
        };

        install_kick_handler().map_err(|source| Error::Sys {
            op: "sigaction",
            source,
        })?;
        let stop = Arc::new(AtomicBool::new(false));
        let exits = Arc::new(AtomicU64::new(0));
        let this = Vm {
            vcpus: Arc::new(Mutex::new(Vec::new())),
            stop: stop.clone(),
            exits: exits.clone(),
            shared: shared.clone(),
            serial,
            resampler,
            channel,
            stats,
            _vm: vm,
            _memory: memory.clone(),
        };
        for (id, fd) in fds.into_iter().enumerate() {
            let thread = VcpuThread {
                fd,
                memory: memory.clone(),
                id: id as u8,
                ports: ports.clone(),
                shared: shared.clone(),
                stop: stop.clone(),
                exits: exits.clone(),
                interrupted: 0,
            };
            let handle = std::thread::Builder::new()
                .name(format!("libguest-vcpu{id}"))
                .spawn(move || thread.run())
                .map_err(Error::Thread)?;
            lock_threads(&this.vcpus).push(handle);
        }
        Ok(this)
    }

    /// The console log; it stays readable after the VM stops.
    pub fn console(&self) -> ConsoleLog {
        ConsoleLog {
            shared: self.shared.clone(),
        }
    }

    /// The host end of the API channel, if the VM has one.
    pub fn channel(&self) -> Option<Channel> {
        self.channel.clone()
    }

    /// Types bytes into the guest's serial console, waiting for FIFO room.
    /// Returns false if the guest stopped or did not drain the FIFO in time.
    pub fn send_console_input(&self, mut bytes: &[u8], deadline: Instant) -> bool {
        while !bytes.is_empty() {
            if self.exit_reason().is_some() || Instant::now() >= deadline {
                return false;
            }
            let n = self.serial.enqueue_input(bytes);
            bytes = &bytes[n..];
            if n == 0 {
                std::thread::sleep(Duration::from_millis(1));
            }
        }
        true
    }

    /// Why the VM stopped, once it has (the console log says so too).
    fn exit_reason(&self) -> Option<ExitReason> {
        self.shared.lock().exit.clone()
    }

    /// How many times the vCPUs have exited to the VMM so far. A booting
    /// kernel exits within microseconds of its first instruction, so zero
    /// after seconds means the hypervisor never ran the guest.
    pub fn exit_count(&self) -> u64 {
        self.exits.load(Ordering::Relaxed)
    }

    /// The vCPUs' exits so far, by kind, as KVM counts them (all exits,
    /// also those KVM handles itself). `None` where KVM keeps no binary
    /// statistics (Linux before 5.14) or they could not be read.
    pub fn exit_stats(&self) -> Option<ExitStats> {
        if self.stats.is_empty() {
            return None;
        }
        exit_stats::sum(&self.stats)
            .map_err(|e| tracing::debug!("KVM vCPU statistics: {e}"))
            .ok()
    }

    /// A handle that stops this VM from any thread, without waiting for
    /// the owner (see [`KillSwitch`]).
    pub fn kill_switch(&self) -> KillSwitch {
        KillSwitch::new(
            self.stop.clone(),
            self.vcpus.clone(),
            self.shared.clone(),
            self.channel.clone(),
        )
    }

    /// Stops every vCPU (kicking them out of KVM_RUN) and joins the threads.
    /// Returns why the VM stopped: the guest's own reason if it had one.
    pub fn stop(&mut self) -> ExitReason {
        self.stop.store(true, Ordering::SeqCst);
        let handles = std::mem::take(&mut *lock_threads(&self.vcpus));
        for handle in handles {
            // A signal can land just before the thread enters KVM_RUN and be
            // lost, so keep kicking until the thread is gone.
            while !handle.is_finished() {
                let _ = handle.kill(kick_signal());
                std::thread::sleep(Duration::from_millis(1));
            }
            let _ = handle.join();
        }
        self.resampler.stop();
        self.shared.set_exit(ExitReason::Stopped);
        self.exit_reason().unwrap_or(ExitReason::Stopped)
    }
}

impl Drop for Vm {
    fn drop(&mut self) {
        self.stop();
    }
}

/// First GSI for virtio-mmio devices (the ISA IRQs below are taken or legacy).
const VIRTIO_GSI_BASE: u32 = 5;

/// Puts a virtio device behind the `slot`th MMIO window with its own GSI,
/// wires its queue notifications to ioeventfds and its interrupt to an
/// irqfd, and announces it to Linux on the command line.
fn virtio_mmio_device(
    vm: &VmFd,
    memory: &GuestMemoryMmap,
    slot: usize,
    device: Box<dyn VirtioDevice>,
    cmdline: &mut String,
) -> Result<MmioDevice> {
    let base = layout::DEVICE_MMIO_START + slot as u64 * mmio::MMIO_SIZE;
    let gsi = VIRTIO_GSI_BASE + slot as u32;
    let eventfd = || {
        EventFd::new(libc::EFD_NONBLOCK).map_err(|source| Error::Sys {
            op: "eventfd",
            source,
        })
    };
    let irq = eventfd()?;
    vm.register_irqfd(&irq, gsi)
        .map_err(Error::kvm("KVM_IRQFD"))?;
    let mut notifies = Vec::new();
    for queue in 0..device.queue_max_sizes().len() as u32 {
        let fd = eventfd()?;
        vm.register_ioevent(&fd, &IoEventAddress::Mmio(base + mmio::QUEUE_NOTIFY), queue)
            .map_err(Error::kvm("KVM_IOEVENTFD"))?;
        notifies.push(fd);
    }
    let transport = mmio::MmioTransport::new(
        device,
        memory.clone(),
        Arc::new(Interrupt::new(irq)),
        notifies,
    )
    .map_err(Error::Device)?;
    cmdline.push_str(&format!(" virtio_mmio.device=4K@{base:#x}:{gsi}"));
    Ok(MmioDevice {
        base,
        transport: std::sync::Mutex::new(transport),
    })
}

/// Allocates guest RAM and registers each range with KVM.
fn create_memory(vm: &VmFd, mem_bytes: u64) -> Result<GuestMemoryMmap> {
    let ranges: Vec<_> = layout::ram_ranges(mem_bytes)
        .into_iter()
        .map(|(start, len)| (start, len as usize))
        .collect();
    let memory = GuestMemoryMmap::from_ranges(&ranges).map_err(|e| Error::GuestMemory {
        mib: mem_bytes >> 20,
        reason: e.to_string(),
    })?;
    for (slot, region) in memory.iter().enumerate() {
        let host = region
            .get_host_address(vm_memory::MemoryRegionAddress(0))
            .map_err(|e| Error::GuestMemory {
                mib: mem_bytes >> 20,
                reason: e.to_string(),
            })?;
        let mapping = kvm_userspace_memory_region {
            slot: slot as u32,
            flags: 0,
            guest_phys_addr: region.start_addr().raw_value(),
            memory_size: region.len(),
            userspace_addr: host as u64,
        };
        // Guest RAM stays out of children this process forks (tar, qemu-img,
        // an embedder's own): without it every fork write-protects all of
        // it, and each later guest or device write takes a copy-on-write
        // fault. qemu does the same. Advice only: a failure changes nothing
        // else, so it is ignored.
        // SAFETY: madvise on a live mapping of `region.len()` bytes that
        // `memory` owns; MADV_DONTFORK changes no contents.
        let _ = unsafe { libc::madvise(host.cast(), region.len() as usize, libc::MADV_DONTFORK) };
        // SAFETY: `host` points at a live mapping of `region.len()` bytes
        // owned by `memory`, which the returned value keeps alive for as long
        // as the VM (the `Vm` joins its vCPUs before dropping it).
        unsafe { vm.set_user_memory_region(mapping) }
            .map_err(Error::kvm("KVM_SET_USER_MEMORY_REGION"))?;
    }
    Ok(memory)
}
