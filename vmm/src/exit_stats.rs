//! VM exits by kind, from KVM's binary statistics of each vCPU
//! (KVM_GET_STATS_FD, Linux 5.14+; the KVM API docs, section 4.133).
//!
//! Wall times taken under nested or emulated KVM say little about
//! hardware, but how many times the guest leaves guest mode per operation,
//! and why, carries over: each exit costs roughly a microsecond on real
//! hardware. KVM counts every exit, also those it handles itself
//! (ioeventfds, the in-kernel LAPIC, HLT), which the VMM never sees.
//!
//! The statistics file is the host kernel's, so it is trusted to be
//! well-formed; it is still read with checked offsets and bounded sizes,
//! so a kernel whose layout we misread gives an error, never a panic.

use std::fs::File;
use std::io;
use std::os::fd::FromRawFd;
use std::os::unix::fs::FileExt;

use kvm_ioctls::VcpuFd;
use vmm_sys_util::ioctl::ioctl;
use vmm_sys_util::ioctl_io_nr;

ioctl_io_nr!(KVM_GET_STATS_FD, kvm_bindings::KVMIO, 0xce);

/// A VM's exits by kind, summed over its vCPUs. The names are KVM's.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ExitStats {
    /// Every exit from guest mode, whatever its reason.
    pub exits: u64,
    /// Port I/O exits that reached the VMM (the serial port, the i8042).
    pub io_exits: u64,
    /// MMIO exits that reached the VMM (virtio-mmio registers).
    pub mmio_exits: u64,
    /// HLT exits: the guest had nothing to do.
    pub halt_exits: u64,
    /// Exits for a host interrupt (a device thread's irqfd, a host timer).
    pub irq_exits: u64,
    /// Exits to open the guest's interrupt window for a pending interrupt.
    pub irq_window_exits: u64,
    /// Exits to open the guest's NMI window.
    pub nmi_window_exits: u64,
    /// KVM_RUN returns because a signal was pending (the VMM's kicks).
    pub signal_exits: u64,
    /// KVM_RUN returns the VMM asked for to inject an interrupt.
    pub request_irq_exits: u64,
    /// Instructions KVM emulated (MMIO it handles itself, such as
    /// ioeventfd notifications and the IOAPIC).
    pub insn_emulation: u64,
    /// Interrupts injected into the guest.
    pub irq_injections: u64,
    /// Hypercalls (KVM's paravirtual calls).
    pub hypercalls: u64,
    /// Guest page faults KVM handled (with nested paging: a first touch of
    /// guest memory, or MMIO).
    pub pf_taken: u64,
}

/// KVM's names for the fields of [`ExitStats`], in [`ExitStats::slot`] order.
const NAMES: [&str; 13] = [
    "exits",
    "io_exits",
    "mmio_exits",
    "halt_exits",
    "irq_exits",
    "irq_window_exits",
    "nmi_window_exits",
    "signal_exits",
    "request_irq_exits",
    "insn_emulation",
    "irq_injections",
    "hypercalls",
    "pf_taken",
];

impl ExitStats {
    fn slot(&mut self, index: usize) -> Option<&mut u64> {
        Some(match index {
            0 => &mut self.exits,
            1 => &mut self.io_exits,
            2 => &mut self.mmio_exits,
            3 => &mut self.halt_exits,
            4 => &mut self.irq_exits,
            5 => &mut self.irq_window_exits,
            6 => &mut self.nmi_window_exits,
            7 => &mut self.signal_exits,
            8 => &mut self.request_irq_exits,
            9 => &mut self.insn_emulation,
            10 => &mut self.irq_injections,
            11 => &mut self.hypercalls,
            12 => &mut self.pf_taken,
            _ => return None,
        })
    }

    /// The counts as (KVM's name, value) pairs, `exits` first.
    pub fn fields(&self) -> [(&'static str, u64); NAMES.len()] {
        let mut copy = *self;
        let mut out = [("", 0); NAMES.len()];
        for (i, name) in NAMES.iter().enumerate() {
            out[i] = (name, copy.slot(i).map_or(0, |v| *v));
        }
        out
    }

    /// What happened between `earlier` and `self` (counters only grow; a
    /// smaller one, from another VM, counts as zero).
    pub fn since(&self, earlier: &ExitStats) -> ExitStats {
        let mut out = ExitStats::default();
        let (mut now, mut then) = (*self, *earlier);
        for i in 0..NAMES.len() {
            if let (Some(o), Some(a), Some(b)) = (out.slot(i), now.slot(i), then.slot(i)) {
                *o = a.saturating_sub(*b);
            }
        }
        out
    }

    /// Both counts together (several VMs, or several runs to average).
    pub fn plus(&self, other: &ExitStats) -> ExitStats {
        let (mut sum, mut other) = (*self, *other);
        for i in 0..NAMES.len() {
            if let (Some(a), Some(b)) = (sum.slot(i), other.slot(i)) {
                *a = a.saturating_add(*b);
            }
        }
        sum
    }
}

impl std::fmt::Display for ExitStats {
    /// `exits` and then every other non-zero kind, e.g.
    /// `12 exits (mmio_exits 4, halt_exits 2)`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let fields = self.fields();
        write!(f, "{} exits", fields[0].1)?;
        let rest: Vec<String> = fields[1..]
            .iter()
            .filter(|(_, v)| *v != 0)
            .map(|(n, v)| format!("{n} {v}"))
            .collect();
        if !rest.is_empty() {
            write!(f, " ({})", rest.join(", "))?;
        }
        Ok(())
    }
}

/// Where one counter's value is in the statistics file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Counter {
    field: usize,
    offset: u64,
}

/// One vCPU's statistics file and where our counters are in it.
pub(crate) struct VcpuStats {
    file: File,
    counters: Vec<Counter>,
}

impl VcpuStats {
    /// Opens the vCPU's statistics file and reads its layout.
    pub(crate) fn open(vcpu: &VcpuFd) -> io::Result<VcpuStats> {
        // SAFETY: KVM_GET_STATS_FD takes no argument and returns a new file
        // descriptor or -1; `vcpu` is a live vCPU fd.
        let fd = unsafe { ioctl(vcpu, KVM_GET_STATS_FD()) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `fd` was just returned by the kernel and nothing else owns it.
        let file = unsafe { File::from_raw_fd(fd) };
        let counters = layout(&file)?;
        Ok(VcpuStats { file, counters })
    }

    /// The vCPU's counters now.
    pub(crate) fn read(&self) -> io::Result<ExitStats> {
        read_counters(&self.file, &self.counters)
    }
}

/// Sums the counters of every vCPU.
pub(crate) fn sum(vcpus: &[VcpuStats]) -> io::Result<ExitStats> {
    let mut total = ExitStats::default();
    for v in vcpus {
        total = total.plus(&v.read()?);
    }
    Ok(total)
}

/// Reads at an offset: the statistics file, or bytes in a test.
trait Source {
    fn read_at_exact(&self, buf: &mut [u8], offset: u64) -> io::Result<()>;
}

impl Source for File {
    fn read_at_exact(&self, buf: &mut [u8], offset: u64) -> io::Result<()> {
        self.read_exact_at(buf, offset)
    }
}

impl Source for [u8] {
    fn read_at_exact(&self, buf: &mut [u8], offset: u64) -> io::Result<()> {
        let start = usize::try_from(offset).map_err(|_| bad("offset beyond the file"))?;
        let bytes = start
            .checked_add(buf.len())
            .and_then(|end| self.get(start..end))
            .ok_or_else(|| io::Error::from(io::ErrorKind::UnexpectedEof))?;
        buf.copy_from_slice(bytes);
        Ok(())
    }
}

/// KVM's names are 48 bytes today; anything far beyond is a misread.
const MAX_NAME_SIZE: u32 = 256;
/// KVM has about 50 vCPU statistics on x86.
const MAX_DESCRIPTORS: u32 = 4096;
/// The type bits of a descriptor's flags, and the cumulative type.
const TYPE_MASK: u32 = kvm_bindings::KVM_STATS_TYPE_MASK;
const TYPE_CUMULATIVE: u32 = kvm_bindings::KVM_STATS_TYPE_CUMULATIVE;
/// Bytes before a descriptor's name: flags, exponent, size, offset, bucket_size.
const DESC_FIXED: u32 = 16;

fn bad(what: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("KVM statistics file: {what}"),
    )
}

fn le32(b: &[u8], at: usize) -> u32 {
    let mut w = [0u8; 4];
    w.copy_from_slice(&b[at..at + 4]);
    u32::from_le_bytes(w)
}

fn le16(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

/// Finds our counters among the file's descriptors. A counter the kernel
/// does not have stays zero.
fn layout(src: &(impl Source + ?Sized)) -> io::Result<Vec<Counter>> {
    let mut header = [0u8; 24];
    src.read_at_exact(&mut header, 0)?;
    let name_size = le32(&header, 4);
    let num_desc = le32(&header, 8);
    let desc_offset = le32(&header, 16);
    let data_offset = le32(&header, 20);
    if name_size == 0 || name_size > MAX_NAME_SIZE {
        return Err(bad("implausible name size"));
    }
    if num_desc > MAX_DESCRIPTORS {
        return Err(bad("implausible descriptor count"));
    }
    let desc_size = DESC_FIXED + name_size;
    // Bounded above: at most 4096 descriptors of 272 bytes.
    let mut descs = vec![0u8; (desc_size * num_desc) as usize];
    src.read_at_exact(&mut descs, u64::from(desc_offset))?;
    let mut counters = Vec::new();
    for d in descs.chunks_exact(desc_size as usize) {
        let flags = le32(d, 0);
        let size = le16(d, 6);
        let offset = le32(d, 8);
        let name = &d[DESC_FIXED as usize..];
        let name = &name[..name.iter().position(|&c| c == 0).unwrap_or(name.len())];
        let Some(field) = NAMES.iter().position(|n| n.as_bytes() == name) else {
            continue;
        };
        if flags & TYPE_MASK != TYPE_CUMULATIVE || size == 0 {
            return Err(bad("a counter is not a cumulative value"));
        }
        counters.push(Counter {
            field,
            offset: u64::from(data_offset) + u64::from(offset),
        });
    }
    Ok(counters)
}

fn read_counters(src: &(impl Source + ?Sized), counters: &[Counter]) -> io::Result<ExitStats> {
    let mut stats = ExitStats::default();
    for c in counters {
        let mut value = [0u8; 8];
        src.read_at_exact(&mut value, c.offset)?;
        if let Some(slot) = stats.slot(c.field) {
            *slot = u64::from_le_bytes(value);
        }
    }
    Ok(stats)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NAME_SIZE: usize = 48;

    /// A statistics file as KVM lays it out: header, id, descriptors, data.
    fn file(stats: &[(&str, u32, u64)]) -> Vec<u8> {
        let desc_size = 16 + NAME_SIZE;
        let id_offset = 24;
        let desc_offset = id_offset + NAME_SIZE;
        let data_offset = desc_offset + desc_size * stats.len();
        let mut f = vec![0u8; data_offset + 8 * stats.len()];
        let put32 =
            |f: &mut Vec<u8>, at: usize, v: u32| f[at..at + 4].copy_from_slice(&v.to_le_bytes());
        put32(&mut f, 4, NAME_SIZE as u32);
        put32(&mut f, 8, stats.len() as u32);
        put32(&mut f, 12, id_offset as u32);
        put32(&mut f, 16, desc_offset as u32);
        put32(&mut f, 20, data_offset as u32);
        for (i, (name, flags, value)) in stats.iter().enumerate() {
            let d = desc_offset + i * desc_size;
            put32(&mut f, d, *flags);
            f[d + 6..d + 8].copy_from_slice(&1u16.to_le_bytes());
            put32(&mut f, d + 8, (8 * i) as u32);
            f[d + 16..d + 16 + name.len()].copy_from_slice(name.as_bytes());
            let v = data_offset + 8 * i;
            f[v..v + 8].copy_from_slice(&value.to_le_bytes());
        }
        f
    }

    #[test]
    fn counters_are_found_by_name_and_others_skipped() {
        let f = file(&[
            ("halt_successful_poll", 0, 99),
            ("exits", 0, 120),
            ("mmio_exits", 0, 7),
            ("halt_exits", 0, 3),
            ("hypercalls", 0, 1),
        ]);
        let counters = layout(f.as_slice()).unwrap();
        let s = read_counters(f.as_slice(), &counters).unwrap();
        assert_eq!(
            s,
            ExitStats {
                exits: 120,
                mmio_exits: 7,
                halt_exits: 3,
                hypercalls: 1,
                ..Default::default()
            }
        );
        assert_eq!(
            s.to_string(),
            "120 exits (mmio_exits 7, halt_exits 3, hypercalls 1)"
        );
    }

    #[test]
    fn since_subtracts_and_never_wraps() {
        let a = ExitStats {
            exits: 10,
            io_exits: 5,
            ..Default::default()
        };
        let b = ExitStats {
            exits: 25,
            io_exits: 4,
            ..Default::default()
        };
        let d = b.since(&a);
        assert_eq!(d.exits, 15);
        assert_eq!(d.io_exits, 0);
        assert_eq!(a.plus(&b).exits, 35);
    }

    #[test]
    fn a_misread_layout_is_an_error_not_a_panic() {
        // Too short for the header.
        assert!(layout([0u8; 10].as_slice()).is_err());
        // Descriptors beyond the end of the file.
        let mut f = file(&[("exits", 0, 1)]);
        f[16..20].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(layout(f.as_slice()).is_err());
        // An implausible name size.
        let mut f = file(&[("exits", 0, 1)]);
        f[4..8].copy_from_slice(&100_000u32.to_le_bytes());
        assert!(layout(f.as_slice()).is_err());
        // A counter that is not cumulative.
        let f = file(&[("exits", kvm_bindings::KVM_STATS_TYPE_INSTANT, 1)]);
        assert!(layout(f.as_slice()).is_err());
        // A value beyond the end.
        let f = file(&[("exits", 0, 1)]);
        let far = [Counter {
            field: 0,
            offset: u64::MAX - 3,
        }];
        assert!(read_counters(f.as_slice(), &far).is_err());
    }
}
