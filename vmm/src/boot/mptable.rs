//! Intel MultiProcessor Specification 1.4 table: it tells a kernel without
//! ACPI where the CPUs, the IOAPIC and the ISA interrupt routing are.
//! No maintained rust-vmm crate provides one, so it is written here from the
//! spec (Firecracker and Cloud Hypervisor each carry their own too).

use vm_memory::{Bytes, GuestAddress, GuestMemoryMmap};
use zerocopy::{Immutable, IntoBytes};

use crate::error::{Error, Result};
use crate::layout::{EBDA_START, IOAPIC_ADDR, LAPIC_ADDR};

const SPEC_REV_1_4: u8 = 4;
const APIC_VERSION: u8 = 0x14;
const IOAPIC_VERSION: u8 = 0x11;
/// ISA IRQs routed through the IOAPIC (and the pins virtio-mmio devices use).
pub(crate) const IOAPIC_PINS: u8 = 24;

#[repr(C, packed)]
#[derive(IntoBytes, Immutable, Default)]
struct FloatingPointer {
    signature: [u8; 4],
    physptr: u32,
    length: u8,
    specification: u8,
    checksum: u8,
    feature: [u8; 5],
}

#[repr(C, packed)]
#[derive(IntoBytes, Immutable, Default)]
struct ConfigHeader {
    signature: [u8; 4],
    length: u16,
    spec: u8,
    checksum: u8,
    oem: [u8; 8],
    product_id: [u8; 12],
    oem_ptr: u32,
    oem_size: u16,
    entry_count: u16,
    lapic: u32,
    reserved: u32,
}

#[repr(C, packed)]
#[derive(IntoBytes, Immutable, Default)]
struct ProcessorEntry {
    kind: u8,
    apic_id: u8,
    apic_version: u8,
    flags: u8,
    signature: u32,
    features: u32,
    reserved: [u32; 2],
}

#[repr(C, packed)]
#[derive(IntoBytes, Immutable, Default)]
struct BusEntry {
    kind: u8,
    bus_id: u8,
    bus_type: [u8; 6],
}

#[repr(C, packed)]
#[derive(IntoBytes, Immutable, Default)]
struct IoApicEntry {
    kind: u8,
    apic_id: u8,
    version: u8,
    flags: u8,
    address: u32,
}

/// Both I/O interrupt (kind 3) and local interrupt (kind 4) entries.
#[repr(C, packed)]
#[derive(IntoBytes, Immutable, Default)]
struct InterruptEntry {
    kind: u8,
    irq_type: u8,
    flags: u16,
    src_bus: u8,
    src_irq: u8,
    dst_apic: u8,
    dst_pin: u8,
}

const ENTRY_PROCESSOR: u8 = 0;
const ENTRY_BUS: u8 = 1;
const ENTRY_IOAPIC: u8 = 2;
const ENTRY_IO_INTERRUPT: u8 = 3;
const ENTRY_LOCAL_INTERRUPT: u8 = 4;
const INT_TYPE_INT: u8 = 0;
const INT_TYPE_NMI: u8 = 1;
const INT_TYPE_EXTINT: u8 = 3;
/// MP spec interrupt flags: polarity active high (01), trigger level (11).
const IRQ_LEVEL_ACTIVE_HIGH: u16 = 0b1101;
/// Pins whose source is a level (the 16550 on IRQ 4); the VMM re-raises
/// them through KVM's resample irqfd. The rest are edge (ISA default).
pub(crate) const LEVEL_TRIGGERED_PINS: &[u8] = &[4];
const CPU_ENABLED: u8 = 1;
const CPU_BOOT_PROCESSOR: u8 = 2;
const CPU_FEATURE_FPU: u32 = 1;
const CPU_FEATURE_APIC: u32 = 1 << 9;

fn checksum(bytes: &[u8]) -> u8 {
    0u8.wrapping_sub(bytes.iter().fold(0u8, |s, &b| s.wrapping_add(b)))
}

/// Builds the floating pointer plus configuration table for `vcpus` CPUs,
/// as they must appear at `EBDA_START`.
pub(crate) fn build(vcpus: u8) -> Vec<u8> {
    let ioapic_id = vcpus + 1;
    let mut entries = Vec::new();
    let mut count: u16 = 0;
    for id in 0..vcpus {
        let flags = CPU_ENABLED | if id == 0 { CPU_BOOT_PROCESSOR } else { 0 };
        entries.extend_from_slice(
            ProcessorEntry {
                kind: ENTRY_PROCESSOR,
                apic_id: id,
                apic_version: APIC_VERSION,
                flags,
                signature: 0x600,
                features: CPU_FEATURE_FPU | CPU_FEATURE_APIC,
                reserved: [0; 2],
            }
            .as_bytes(),
        );
        count += 1;
    }
    entries.extend_from_slice(
        BusEntry {
            kind: ENTRY_BUS,
            bus_id: 0,
            bus_type: *b"ISA   ",
        }
        .as_bytes(),
    );
    entries.extend_from_slice(
        IoApicEntry {
            kind: ENTRY_IOAPIC,
            apic_id: ioapic_id,
            version: IOAPIC_VERSION,
            flags: 1,
            address: IOAPIC_ADDR,
        }
        .as_bytes(),
    );
    count += 2;
    for pin in 0..IOAPIC_PINS {
        entries.extend_from_slice(
            InterruptEntry {
                kind: ENTRY_IO_INTERRUPT,
                irq_type: INT_TYPE_INT,
                flags: if LEVEL_TRIGGERED_PINS.contains(&pin) {
                    IRQ_LEVEL_ACTIVE_HIGH
                } else {
                    0
                },
                src_bus: 0,
                src_irq: pin,
                dst_apic: ioapic_id,
                dst_pin: pin,
            }
            .as_bytes(),
        );
        count += 1;
    }
    for (irq_type, dst_apic, pin) in [(INT_TYPE_EXTINT, 0, 0), (INT_TYPE_NMI, 0xff, 1)] {
        entries.extend_from_slice(
            InterruptEntry {
                kind: ENTRY_LOCAL_INTERRUPT,
                irq_type,
                flags: 0,
                src_bus: 0,
                src_irq: 0,
                dst_apic,
                dst_pin: pin,
            }
            .as_bytes(),
        );
        count += 1;
    }

    let header_len = std::mem::size_of::<ConfigHeader>();
    let mut header = ConfigHeader {
        signature: *b"PCMP",
        length: (header_len + entries.len()) as u16,
        spec: SPEC_REV_1_4,
        oem: *b"LIBGUEST",
        product_id: *b"APPLIANCE   ",
        entry_count: count,
        lapic: LAPIC_ADDR,
        ..Default::default()
    };
    let mut table = header.as_bytes().to_vec();
    table.extend_from_slice(&entries);
    header.checksum = checksum(&table);
    table[..header_len].copy_from_slice(header.as_bytes());

    let fp_len = std::mem::size_of::<FloatingPointer>();
    let mut fp = FloatingPointer {
        signature: *b"_MP_",
        physptr: (EBDA_START as usize + fp_len) as u32,
        length: 1,
        specification: SPEC_REV_1_4,
        ..Default::default()
    };
    fp.checksum = checksum(fp.as_bytes());
    let mut out = fp.as_bytes().to_vec();
    out.extend_from_slice(&table);
    out
}

/// Writes the MP table into the reserved EBDA page.
pub(crate) fn write(mem: &GuestMemoryMmap, vcpus: u8) -> Result<()> {
    let table = build(vcpus);
    // The EBDA range is 1 KiB; 16 vCPUs need about 600 bytes.
    if table.len() > 1024 {
        return Err(Error::BootData(format!(
            "MP table of {} bytes does not fit the EBDA",
            table.len()
        )));
    }
    mem.write_slice(&table, GuestAddress(EBDA_START))
        .map_err(|e| Error::BootData(format!("MP table: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn structures_have_spec_sizes() {
        assert_eq!(std::mem::size_of::<FloatingPointer>(), 16);
        assert_eq!(std::mem::size_of::<ConfigHeader>(), 44);
        assert_eq!(std::mem::size_of::<ProcessorEntry>(), 20);
        assert_eq!(std::mem::size_of::<BusEntry>(), 8);
        assert_eq!(std::mem::size_of::<IoApicEntry>(), 8);
        assert_eq!(std::mem::size_of::<InterruptEntry>(), 8);
    }

    #[test]
    fn checksums_are_valid_and_lengths_agree() {
        for vcpus in [1u8, 2, 16] {
            let t = build(vcpus);
            let sum = |b: &[u8]| b.iter().fold(0u8, |s, &x| s.wrapping_add(x));
            assert_eq!(sum(&t[..16]), 0, "floating pointer checksum");
            let len = u16::from_le_bytes([t[20], t[21]]) as usize;
            assert_eq!(16 + len, t.len());
            assert_eq!(sum(&t[16..]), 0, "config table checksum");
            let entries = u16::from_le_bytes([t[16 + 34], t[16 + 35]]);
            assert_eq!(entries as usize, vcpus as usize + 2 + 24 + 2);
            assert!(t.len() <= 1024);
        }
    }
}
