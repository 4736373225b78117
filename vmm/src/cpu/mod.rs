//! vCPU register state for the PVH entry, CPUID, MSRs, FPU and LAPIC.

mod gdt;
pub(crate) mod walk;

use kvm_bindings::{kvm_fpu, kvm_msr_entry, kvm_regs, CpuId, Msrs, KVM_MAX_CPUID_ENTRIES};
use kvm_ioctls::{Cap, Kvm, VcpuFd};
use vm_memory::{Address, Bytes, GuestAddress, GuestMemoryMmap};

use crate::error::{Error, Result};
use crate::layout::{GDT_START, PVH_INFO_START};

/// The host's supported CPUID, fetched once per VM, with what KVM
/// supports but leaves to the VMM to announce.
pub(crate) fn supported_cpuid(kvm: &Kvm) -> Result<CpuId> {
    let mut cpuid = kvm
        .get_supported_cpuid(KVM_MAX_CPUID_ENTRIES)
        .map_err(Error::kvm("KVM_GET_SUPPORTED_CPUID"))?;
    announce_tsc_deadline(&mut cpuid, kvm.check_extension(Cap::TscDeadlineTimer));
    Ok(cpuid)
}

/// CPUID.1:ECX bit 24, the TSC-deadline timer.
const CPUID_1_ECX_TSC_DEADLINE: u32 = 1 << 24;

/// KVM emulates the TSC-deadline timer with the in-kernel LAPIC but never
/// sets its CPUID bit in KVM_GET_SUPPORTED_CPUID: the VMM sets it where
/// KVM_CAP_TSC_DEADLINE_TIMER says so (the KVM API docs; qemu, Firecracker
/// and Cloud Hypervisor do the same). Without it the guest programs its
/// timer through the LAPIC's MMIO registers, and every timer tick is an
/// MMIO write KVM must decode and emulate instruction by instruction
/// instead of one WRMSR exit. In the nested KVM of the e2e test host that
/// emulation path is where our appliance died and qemu's did not (the
/// soak bench, issue 10 item 11).
fn announce_tsc_deadline(cpuid: &mut CpuId, supported: bool) {
    if !supported {
        return;
    }
    for entry in cpuid.as_mut_slice() {
        if entry.function == 0x1 {
            entry.ecx |= CPUID_1_ECX_TSC_DEADLINE;
        }
    }
}

/// Writes the GDT used by every vCPU's initial segment state.
pub(crate) fn write_gdt(mem: &GuestMemoryMmap) -> Result<()> {
    for (i, entry) in gdt::PVH_GDT.iter().enumerate() {
        mem.write_obj(*entry, GDT_START.unchecked_add(i as u64 * 8))
            .map_err(|e| Error::BootData(format!("GDT: {e}")))?;
    }
    Ok(())
}

/// Per-vCPU CPUID: the host's supported set with this vCPU's APIC ID, the
/// vCPU count and the hypervisor bit.
fn vcpu_cpuid(base: &CpuId, id: u8, count: u8) -> CpuId {
    let mut cpuid = base.clone();
    for entry in cpuid.as_mut_slice() {
        match entry.function {
            0x1 => {
                entry.ebx = (u32::from(id) << 24) | (u32::from(count) << 16) | (8 << 8);
                entry.ecx |= 1 << 31;
            }
            // Extended topology as qemu reports it for one thread per core
            // and `count` cores: level 0 SMT, level 1 core, then invalid;
            // the x2APIC ID is the vCPU index.
            0xb | 0x1f => {
                let (eax, ebx, ecx) = match entry.index {
                    0 => (0, 1, 1 << 8),
                    1 => (core_bits(count), u32::from(count), (2 << 8) | 1),
                    n => (0, 0, n),
                };
                entry.eax = eax;
                entry.ebx = ebx;
                entry.ecx = ecx;
                entry.edx = u32::from(id);
            }
            // AMD's core count (NC) and APIC ID size: ours, not the host's
            // (which said 2 cores to a 1-vCPU guest whose leaf 1 says one).
            0x8000_0008 => {
                entry.ecx = u32::from(count.saturating_sub(1)) | (core_bits(count) << 12)
            }
            // KVM's paravirt features without async PF for nested guests:
            // the appliance runs none, and qemu leaves it out.
            0x4000_0001 => entry.eax &= !KVM_FEATURE_ASYNC_PF_VMEXIT,
            // No PMU: saves the guest probing counters it cannot use.
            0xa => {
                entry.eax = 0;
                entry.ebx = 0;
                entry.ecx = 0;
                entry.edx = 0;
            }
            _ => {}
        }
    }
    cpuid
}

/// CPUID 0x40000001 EAX bit 10.
const KVM_FEATURE_ASYNC_PF_VMEXIT: u32 = 1 << 10;

/// Bits of the APIC ID that number `count` cores.
fn core_bits(count: u8) -> u32 {
    u32::from(count.max(1)).next_power_of_two().trailing_zeros()
}

const MSR_IA32_TSC: u32 = 0x10;
const MSR_IA32_SYSENTER_CS: u32 = 0x174;
const MSR_IA32_SYSENTER_ESP: u32 = 0x175;
const MSR_IA32_SYSENTER_EIP: u32 = 0x176;
const MSR_IA32_MISC_ENABLE: u32 = 0x1a0;
const MSR_MTRR_DEF_TYPE: u32 = 0x2ff;
const MSR_STAR: u32 = 0xc000_0081;
const MSR_LSTAR: u32 = 0xc000_0082;
const MSR_CSTAR: u32 = 0xc000_0083;
const MSR_SYSCALL_MASK: u32 = 0xc000_0084;
const MSR_KERNEL_GS_BASE: u32 = 0xc000_0102;
const MISC_ENABLE_FAST_STRING: u64 = 1;
/// MTRRs enabled, default type write-back.
const MTRR_ENABLE_WB: u64 = (1 << 11) | 6;

fn boot_msrs() -> Result<Msrs> {
    let entry = |index, data| kvm_msr_entry {
        index,
        data,
        ..Default::default()
    };
    Msrs::from_entries(&[
        entry(MSR_IA32_SYSENTER_CS, 0),
        entry(MSR_IA32_SYSENTER_ESP, 0),
        entry(MSR_IA32_SYSENTER_EIP, 0),
        entry(MSR_STAR, 0),
        entry(MSR_CSTAR, 0),
        entry(MSR_KERNEL_GS_BASE, 0),
        entry(MSR_SYSCALL_MASK, 0),
        entry(MSR_LSTAR, 0),
        entry(MSR_IA32_TSC, 0),
        entry(MSR_IA32_MISC_ENABLE, MISC_ENABLE_FAST_STRING),
        entry(MSR_MTRR_DEF_TYPE, MTRR_ENABLE_WB),
    ])
    .map_err(|_| Error::KvmCapability("MSR list allocation"))
}

const APIC_LVT0: usize = 0x350;
const APIC_LVT1: usize = 0x360;
const APIC_MODE_NMI: u32 = 0x4;
const APIC_MODE_EXTINT: u32 = 0x7;

fn set_apic_delivery_mode(regs: &mut [std::os::raw::c_char], offset: usize, mode: u32) {
    let Some(bytes) = regs.get_mut(offset..offset + 4) else {
        return;
    };
    let mut raw = [0u8; 4];
    for (d, s) in raw.iter_mut().zip(bytes.iter()) {
        *d = *s as u8;
    }
    let value = (u32::from_le_bytes(raw) & !0x700) | (mode << 8);
    for (d, s) in bytes.iter_mut().zip(value.to_le_bytes()) {
        *d = s as std::os::raw::c_char;
    }
}

/// Sets up one vCPU. Only the boot vCPU gets entry registers; the others
/// wait for INIT/SIPI from the guest, which the in-kernel LAPIC handles.
pub(crate) fn configure(
    vcpu: &VcpuFd,
    base_cpuid: &CpuId,
    id: u8,
    count: u8,
    entry: GuestAddress,
) -> Result<()> {
    vcpu.set_cpuid2(&vcpu_cpuid(base_cpuid, id, count))
        .map_err(Error::kvm("KVM_SET_CPUID2"))?;

    let msrs = boot_msrs()?;
    let set = vcpu.set_msrs(&msrs).map_err(Error::kvm("KVM_SET_MSRS"))?;
    if set != msrs.as_fam_struct_ref().nmsrs as usize {
        return Err(Error::KvmCapability(
            "KVM_SET_MSRS accepted only some boot MSRs",
        ));
    }

    vcpu.set_fpu(&kvm_fpu {
        fcw: 0x37f,
        mxcsr: 0x1f80,
        ..Default::default()
    })
    .map_err(Error::kvm("KVM_SET_FPU"))?;

    let mut lapic = vcpu.get_lapic().map_err(Error::kvm("KVM_GET_LAPIC"))?;
    set_apic_delivery_mode(&mut lapic.regs, APIC_LVT0, APIC_MODE_EXTINT);
    set_apic_delivery_mode(&mut lapic.regs, APIC_LVT1, APIC_MODE_NMI);
    vcpu.set_lapic(&lapic)
        .map_err(Error::kvm("KVM_SET_LAPIC"))?;

    if id != 0 {
        return Ok(());
    }

    // PVH entry: 32-bit protected mode, paging off, %ebx = start info.
    let mut sregs = vcpu.get_sregs().map_err(Error::kvm("KVM_GET_SREGS"))?;
    let code = gdt::segment(gdt::PVH_GDT[gdt::CODE_INDEX as usize], gdt::CODE_INDEX);
    let data = gdt::segment(gdt::PVH_GDT[gdt::DATA_INDEX as usize], gdt::DATA_INDEX);
    let tss = gdt::segment(gdt::PVH_GDT[gdt::TSS_INDEX as usize], gdt::TSS_INDEX);
    sregs.gdt.base = GDT_START.raw_value();
    sregs.gdt.limit = (gdt::PVH_GDT.len() * 8 - 1) as u16;
    sregs.idt.base = 0;
    sregs.idt.limit = 0;
    sregs.cs = code;
    sregs.ds = data;
    sregs.es = data;
    sregs.fs = data;
    sregs.gs = data;
    sregs.ss = data;
    sregs.tr = tss;
    sregs.cr0 = 0x1 | 0x10; // PE | ET
    sregs.cr4 = 0;
    sregs.efer = 0;
    vcpu.set_sregs(&sregs)
        .map_err(Error::kvm("KVM_SET_SREGS"))?;

    vcpu.set_regs(&kvm_regs {
        rflags: 0x2,
        rip: entry.raw_value(),
        rbx: PVH_INFO_START.raw_value(),
        ..Default::default()
    })
    .map_err(Error::kvm("KVM_SET_REGS"))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tsc_deadline_timer_is_announced_only_where_kvm_has_it() {
        let leaf1 = kvm_bindings::kvm_cpuid_entry2 {
            function: 0x1,
            ecx: 1 << 31,
            ..Default::default()
        };
        let other = kvm_bindings::kvm_cpuid_entry2 {
            function: 0x7,
            ..Default::default()
        };
        let base = CpuId::from_entries(&[leaf1, other]).expect("two entries");
        let mut with = base.clone();
        announce_tsc_deadline(&mut with, true);
        assert_eq!(with.as_slice()[0].ecx, (1 << 31) | CPUID_1_ECX_TSC_DEADLINE);
        assert_eq!(with.as_slice()[1].ecx, 0);
        let mut without = base.clone();
        announce_tsc_deadline(&mut without, false);
        assert_eq!(without.as_slice()[0].ecx, 1 << 31);
    }

    #[test]
    fn topology_leaves_describe_our_vcpus_not_the_host() {
        let e = |function, index| kvm_bindings::kvm_cpuid_entry2 {
            function,
            index,
            eax: 0xdead,
            ebx: 0xbeef,
            ecx: 0x1001,
            edx: 0x7,
            ..Default::default()
        };
        let base = CpuId::from_entries(&[
            e(0xb, 0),
            e(0xb, 1),
            e(0xb, 2),
            e(0x8000_0008, 0),
            kvm_bindings::kvm_cpuid_entry2 {
                function: 0x4000_0001,
                eax: 0x7efb,
                ..Default::default()
            },
        ])
        .expect("entries");
        let one = vcpu_cpuid(&base, 0, 1);
        let l = one.as_slice();
        assert_eq!((l[0].eax, l[0].ebx, l[0].ecx, l[0].edx), (0, 1, 0x100, 0));
        assert_eq!((l[1].eax, l[1].ebx, l[1].ecx), (0, 1, 0x201));
        assert_eq!((l[2].eax, l[2].ebx, l[2].ecx), (0, 0, 2));
        assert_eq!(l[3].ecx, 0, "one core");
        assert_eq!(l[4].eax, 0x7efb & !KVM_FEATURE_ASYNC_PF_VMEXIT);
        let four = vcpu_cpuid(&base, 3, 4);
        let l = four.as_slice();
        assert_eq!((l[1].eax, l[1].ebx, l[1].edx), (2, 4, 3));
        assert_eq!(l[3].ecx, 3 | (2 << 12), "four cores, two APIC ID bits");
    }

    #[test]
    fn lvt_mode_is_replaced_not_ored() {
        let mut regs = [0 as std::os::raw::c_char; 1024];
        regs[APIC_LVT0 + 1] = 0x05; // some other mode already there
        regs[APIC_LVT0] = 0x30;
        set_apic_delivery_mode(&mut regs, APIC_LVT0, APIC_MODE_EXTINT);
        assert_eq!(regs[APIC_LVT0 + 1] as u8, 0x07);
        assert_eq!(regs[APIC_LVT0] as u8, 0x30);
    }
}
