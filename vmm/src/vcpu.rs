//! The vCPU thread: runs KVM_RUN and turns every exit into device I/O or a
//! recorded exit reason. Nothing the guest does here can panic the host.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Once};

use kvm_ioctls::{VcpuExit, VcpuFd};
use vmm_sys_util::signal::{register_signal_handler, SIGRTMIN};

use vm_memory::GuestMemoryMmap;

use crate::cpu::walk;
use crate::devices::{PortAction, PortBus};
use crate::run_state::{ExitReason, Shared};

/// Real-time signal used to kick a vCPU thread out of KVM_RUN. The handler
/// does nothing; the interrupted ioctl returns EINTR and the loop checks its
/// stop flag. Offset 0 from SIGRTMIN, as other rust-vmm VMMs use.
pub(crate) fn kick_signal() -> i32 {
    SIGRTMIN()
}

extern "C" fn noop_handler(_: libc::c_int, _: *mut libc::siginfo_t, _: *mut libc::c_void) {}

/// Installs the kick handler once per process.
pub(crate) fn install_kick_handler() -> std::io::Result<()> {
    static ONCE: Once = Once::new();
    let mut result = Ok(());
    ONCE.call_once(|| {
        result = register_signal_handler(kick_signal(), noop_handler)
            .map_err(|e| std::io::Error::from_raw_os_error(e.errno()));
    });
    result
}

impl VcpuThread {
    /// When the host stops a guest that had not stopped by itself (a launch
    /// timeout, a hang), or a vCPU triple-faults, where each vCPU was is the
    /// first clue: note it in the console log, where error messages quote it.
    fn note_where_stopped(&self, how: &str) {
        if self.shared.lock().exit.is_some() {
            return;
        }
        if let Ok(regs) = self.fd.get_regs() {
            if self.reset_by_kvm(&regs) {
                let note = format!(
                    "\n[libguest: vCPU {} {how}; KVM reset its registers at the shutdown exit \
                     (AMD SVM does), so where it was is not known; {} exits, {} interrupted runs]\n",
                    self.id,
                    self.exits.load(Ordering::Relaxed),
                    self.interrupted
                );
                self.shared.append_console(note.as_bytes());
                return;
            }
            let mp_state = self
                .fd
                .get_mp_state()
                .map(|s| s.mp_state)
                .unwrap_or(u32::MAX);
            let mut note = format!(
                "\n[libguest: vCPU {} {how} at rip {:#x} rflags {:#x} mp_state {mp_state}; {} exits, {} interrupted runs]\n",
                self.id,
                regs.rip,
                regs.rflags,
                self.exits.load(Ordering::Relaxed),
                self.interrupted
            );
            note.push_str(&format!(
                "[libguest: rax {:#x} rbx {:#x} rcx {:#x} rdx {:#x} rsi {:#x} rdi {:#x} rbp {:#x} rsp {:#x} r8 {:#x} r9 {:#x} r10 {:#x} r11 {:#x} r12 {:#x} r13 {:#x} r14 {:#x} r15 {:#x}]\n",
                regs.rax, regs.rbx, regs.rcx, regs.rdx, regs.rsi, regs.rdi, regs.rbp, regs.rsp,
                regs.r8, regs.r9, regs.r10, regs.r11, regs.r12, regs.r13, regs.r14, regs.r15
            ));
            // The stack, for the return addresses that led here (resolve
            // them against the kernel's System.map).
            if let Ok(sregs) = self.fd.get_sregs() {
                let words =
                    walk::read_words(&self.memory, sregs.cr3, sregs.cr4, regs.rsp, STACK_WORDS);
                let text: Vec<String> = words.iter().map(|w| format!("{w:#x}")).collect();
                note.push_str(&format!(
                    "[libguest: cr0 {:#x} cr2 {:#x} cr3 {:#x} cr4 {:#x} efer {:#x} cs {:#x} ss {:#x} idt {:#x}/{:#x} gdt {:#x}/{:#x} tr {:#x}]\n",
                    sregs.cr0,
                    sregs.cr2,
                    sregs.cr3,
                    sregs.cr4,
                    sregs.efer,
                    sregs.cs.selector,
                    sregs.ss.selector,
                    sregs.idt.base,
                    sregs.idt.limit,
                    sregs.gdt.base,
                    sregs.gdt.limit,
                    sregs.tr.base
                ));
                if let Ok(ev) = self.fd.get_vcpu_events() {
                    note.push_str(&format!(
                        "[libguest: exception nr {} injected {} pending {} error code {:#x}; interrupt nr {} injected {}; nmi injected {} pending {}]\n",
                        ev.exception.nr,
                        ev.exception.injected,
                        ev.exception.pending,
                        ev.exception.error_code,
                        ev.interrupt.nr,
                        ev.interrupt.injected,
                        ev.nmi.injected,
                        ev.nmi.pending
                    ));
                }
                note.push_str(&format!("[libguest: stack from rsp: {}]\n", text.join(" ")));
            }
            self.shared.append_console(note.as_bytes());
        }
    }
}

impl VcpuThread {
    /// The architectural reset state (CS:IP f000:fff0), which SVM's KVM
    /// loads right after a shutdown intercept: nothing of the fault is left.
    fn reset_by_kvm(&self, regs: &kvm_bindings::kvm_regs) -> bool {
        regs.rip == RESET_RIP
            && self
                .fd
                .get_sregs()
                .is_ok_and(|s| s.cs.selector == RESET_CS && s.cr0 & CR0_PE == 0)
    }
}

const RESET_RIP: u64 = 0xfff0;
const RESET_CS: u16 = 0xf000;
const CR0_PE: u64 = 1;

/// Stack words a stopped vCPU's note quotes.
const STACK_WORDS: usize = 48;

pub(crate) struct VcpuThread {
    pub(crate) fd: VcpuFd,
    /// Guest RAM, to read the stack when the host stops a hung vCPU.
    pub(crate) memory: GuestMemoryMmap,
    pub(crate) id: u8,
    pub(crate) ports: Arc<PortBus>,
    pub(crate) shared: Arc<Shared>,
    pub(crate) stop: Arc<AtomicBool>,
    /// KVM_RUN returns with an exit, counted over all vCPUs of the VM.
    pub(crate) exits: Arc<AtomicU64>,
    /// KVM_RUN returns interrupted by a signal, for this vCPU.
    pub(crate) interrupted: u64,
}

impl VcpuThread {
    pub(crate) fn run(mut self) {
        let reason = self.run_until_exit();
        tracing::debug!(vcpu = self.id, ?reason, "vCPU stopped");
        self.stop.store(true, Ordering::SeqCst);
        self.shared.set_exit(reason);
    }

    fn run_until_exit(&mut self) -> ExitReason {
        loop {
            if self.stop.load(Ordering::SeqCst) {
                self.note_where_stopped("stopped by the host");
                return ExitReason::Stopped;
            }
            let exit = match self.fd.run() {
                Ok(exit) => {
                    self.exits.fetch_add(1, Ordering::Relaxed);
                    exit
                }
                Err(e) if e.errno() == libc::EINTR || e.errno() == libc::EAGAIN => {
                    self.interrupted += 1;
                    continue;
                }
                Err(e) => return ExitReason::Crashed(format!("KVM_RUN failed: {e}")),
            };
            match exit {
                VcpuExit::IoIn(port, data) => self.ports.read(port, data),
                VcpuExit::IoOut(port, data) => {
                    if self.ports.write(port, data) == PortAction::Reset {
                        return ExitReason::Reset;
                    }
                }
                VcpuExit::MmioRead(addr, data) => self.ports.mmio_read(addr, data),
                VcpuExit::MmioWrite(addr, data) => self.ports.mmio_write(addr, data),
                VcpuExit::Shutdown => {
                    self.note_where_stopped("triple-faulted");
                    return ExitReason::TripleFault;
                }
                VcpuExit::Hlt => return ExitReason::Crashed("vCPU halted".into()),
                VcpuExit::SystemEvent(kind, _) => {
                    return match kind {
                        kvm_bindings::KVM_SYSTEM_EVENT_SHUTDOWN
                        | kvm_bindings::KVM_SYSTEM_EVENT_RESET => ExitReason::Reset,
                        other => ExitReason::Crashed(format!("system event {other}")),
                    }
                }
                VcpuExit::InternalError => {
                    return ExitReason::Crashed(
                        "KVM internal error (instruction emulation failed)".into(),
                    )
                }
                VcpuExit::FailEntry(reason, cpu) => {
                    return ExitReason::Crashed(format!(
                        "VM entry failed: hardware reason {reason:#x} on cpu {cpu}"
                    ))
                }
                VcpuExit::Intr => continue,
                other => return ExitReason::Crashed(format!("unhandled vCPU exit {other:?}")),
            }
        }
    }
}
