//! Disk test hooks, reached through `Guest::debug` (libguestfs has the same
//! escape hatch): raw block-device patterns and throughput, used by the e2e
//! tests and the disk benchmark to see what the guest sees.
//!
//! Hooks that make the daemon hang or stop reading live in [`hang`].
//!
//! The fill pattern: the 8-byte little-endian word at absolute offset `w`
//! (a multiple of 8) is `splitmix64(seed ^ w)`. libguest-tests has the same
//! function to check image files on the host.

pub(crate) mod hang;

use std::fs::{File, OpenOptions};
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::time::Instant;

const CHUNK: usize = 1 << 20;
const ALIGN: usize = 4096;

pub(crate) fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A page-aligned buffer for O_DIRECT.
struct Aligned {
    words: Vec<u64>,
}

impl Aligned {
    fn new(len: usize) -> Aligned {
        // Vec<u64> is 8-aligned; over-allocate and find a page-aligned window.
        Aligned {
            words: vec![0u64; (len + ALIGN) / 8 + 1],
        }
    }
    fn window(&mut self, len: usize) -> &mut [u8] {
        let ptr = self.words.as_mut_ptr() as usize;
        let skip = (ALIGN - ptr % ALIGN) % ALIGN;
        // SAFETY: `words` holds len + ALIGN bytes or more, so
        // [skip, skip + len) is inside the allocation, which this borrow of
        // `self` keeps alive and exclusive.
        unsafe { std::slice::from_raw_parts_mut((ptr + skip) as *mut u8, len) }
    }
}

fn fill_pattern(buf: &mut [u8], offset: u64, seed: u64) {
    for (i, word) in buf.chunks_mut(8).enumerate() {
        let w = offset + (i as u64) * 8;
        let v = splitmix64(seed ^ w).to_le_bytes();
        word.copy_from_slice(&v[..word.len()]);
    }
}

fn open(dev: &str, write: bool) -> Result<File, String> {
    if !dev.starts_with("/dev/") || dev.contains("..") {
        return Err(format!("not a device path: {dev}"));
    }
    OpenOptions::new()
        .read(true)
        .write(write)
        .custom_flags(libc::O_DIRECT)
        .open(dev)
        .map_err(|e| format!("open {dev}: {e}"))
}

fn num(s: Option<&&str>, what: &str) -> Result<u64, String> {
    s.ok_or(format!("missing {what}"))?
        .parse()
        .map_err(|_| format!("bad {what}"))
}

fn check_aligned(offset: u64, len: u64) -> Result<(), String> {
    if !offset.is_multiple_of(512) || !len.is_multiple_of(512) {
        return Err("offset and length must be multiples of 512".into());
    }
    Ok(())
}

/// Runs a hook from inside an API call: the hang hooks too, which look
/// at the call's `cancelled` flag.
pub(crate) fn run_call(
    cmd: &str,
    args: &[&str],
    cancelled: &dyn Fn() -> bool,
) -> Option<Result<String, String>> {
    hang::run(cmd, cancelled).or_else(|| run(cmd, args))
}

pub(crate) fn run(cmd: &str, args: &[&str]) -> Option<Result<String, String>> {
    Some(match cmd {
        "blockdevs" => Ok(blockdevs()),
        "fill" | "verify" => pattern(cmd == "fill", args),
        "write-probe" => write_probe(args),
        "discard" => discard(args),
        "dmesg" => dmesg(),
        "proc" => proc_file(args),
        "cpuid" => Ok(cpuid_dump()),
        "readbench" | "writebench" => bench(cmd == "writebench", args),
        // PID 1 exiting panics the kernel: how the host sees a daemon die.
        "exit-init" => {
            crate::log("exit-init: exiting on request");
            std::process::exit(1)
        }
        _ => return None,
    })
}

/// The kernel's log buffer, as `dmesg` prints it (raw records): what a
/// bench compares between backends (clocksource, PV features, errors).
fn dmesg() -> Result<String, String> {
    const SYSLOG_ACTION_READ_ALL: i32 = 3;
    const SYSLOG_ACTION_SIZE_BUFFER: i32 = 10;
    // SAFETY: SIZE_BUFFER takes no buffer (null, length 0).
    let size = unsafe { libc::klogctl(SYSLOG_ACTION_SIZE_BUFFER, std::ptr::null_mut(), 0) };
    let size = usize::try_from(size).map_err(|_| "klogctl(SIZE_BUFFER) failed".to_string())?;
    let mut buf = vec![0u8; size.clamp(4096, 1 << 20)];
    let len = i32::try_from(buf.len()).unwrap_or(i32::MAX);
    // SAFETY: buf is valid for writes of len bytes for the whole call.
    let n = unsafe { libc::klogctl(SYSLOG_ACTION_READ_ALL, buf.as_mut_ptr().cast(), len) };
    let n = usize::try_from(n)
        .map_err(|_| format!("klogctl(READ_ALL): {}", std::io::Error::last_os_error()))?;
    buf.truncate(n);
    Ok(String::from_utf8_lossy(&buf).into_owned())
}

/// Every CPUID leaf the vCPU reports (basic, hypervisor and extended
/// ranges, with the subleaves of 4, 7, 0xb, 0xd, 0x1f and 0x8000001d), one
/// `leaf.subleaf: eax ebx ecx edx` line each: what a bench diffs between
/// two VMMs' guests on the same KVM.
fn cpuid_dump() -> String {
    use std::arch::x86_64::__cpuid_count;
    let mut out = String::new();
    for base in [0u32, 0x4000_0000, 0x8000_0000] {
        // A safe intrinsic on this toolchain: CPUID exists on every x86_64.
        let max = __cpuid_count(base, 0).eax;
        // Bounded: a hypervisor range may report anything.
        let last = max.clamp(base, base + 0x40);
        for leaf in base..=last {
            // Leaves whose subleaf list ends at the first empty one, and
            // leaves with a fixed range of subleaves (0xd has gaps).
            let (subleaves, stop_at_empty) = match leaf {
                4 | 0xb | 0x1f | 0x8000_001d => (0..64, true),
                7 => (0..3, false),
                0xd => (0..20, false),
                _ => (0..1, false),
            };
            for sub in subleaves {
                let r = __cpuid_count(leaf, sub);
                let empty = (r.eax | r.ebx | r.ecx | r.edx) == 0;
                if sub > 0 && empty && stop_at_empty {
                    break;
                }
                out.push_str(&format!(
                    "{leaf:#010x}.{sub:<2}: {:08x} {:08x} {:08x} {:08x}\n",
                    r.eax, r.ebx, r.ecx, r.edx
                ));
            }
        }
    }
    out
}

/// One of a few /proc files of the appliance itself.
fn proc_file(args: &[&str]) -> Result<String, String> {
    const ALLOWED: [&str; 5] = ["cpuinfo", "interrupts", "meminfo", "vmstat", "cmdline"];
    let name = args.first().copied().unwrap_or("");
    if !ALLOWED.contains(&name) {
        return Err(format!("proc: one of {ALLOWED:?}, not {name:?}"));
    }
    std::fs::read_to_string(format!("/proc/{name}")).map_err(|e| format!("/proc/{name}: {e}"))
}

fn blockdevs() -> String {
    let mut out = Vec::new();
    let Ok(dir) = std::fs::read_dir("/sys/block") else {
        return String::new();
    };
    let mut names: Vec<String> = dir
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("sd"))
        .collect();
    names.sort();
    for name in names {
        let read =
            |f: &str| std::fs::read_to_string(format!("/sys/block/{name}/{f}")).unwrap_or_default();
        let sectors: u64 = read("size").trim().parse().unwrap_or(0);
        out.push(format!("{name}:{}:{}", sectors * 512, read("ro").trim()));
    }
    out.join(" ")
}

fn pattern(write: bool, args: &[&str]) -> Result<String, String> {
    let dev = args.first().ok_or("missing device")?;
    let (offset, len, seed) = (
        num(args.get(1), "offset")?,
        num(args.get(2), "length")?,
        num(args.get(3), "seed")?,
    );
    check_aligned(offset, len)?;
    let file = open(dev, write)?;
    let mut buf = Aligned::new(CHUNK);
    let mut expect = vec![0u8; CHUNK];
    let mut done = 0u64;
    while done < len {
        let n = (len - done).min(CHUNK as u64) as usize;
        let at = offset + done;
        let window = buf.window(n);
        if write {
            fill_pattern(window, at, seed);
            file.write_all_at(window, at)
                .map_err(|e| format!("write at {at}: {e}"))?;
        } else {
            file.read_exact_at(window, at)
                .map_err(|e| format!("read at {at}: {e}"))?;
            fill_pattern(&mut expect[..n], at, seed);
            if let Some(i) = window.iter().zip(&expect[..n]).position(|(a, b)| a != b) {
                return Err(format!("mismatch at byte {}", at + i as u64));
            }
        }
        done += n as u64;
    }
    if write {
        file.sync_all().map_err(|e| format!("fsync: {e}"))?;
    }
    Ok(format!("{len}"))
}

fn write_probe(args: &[&str]) -> Result<String, String> {
    let dev = args.first().ok_or("missing device")?;
    let file = open(dev, true)?;
    let mut buf = Aligned::new(512);
    let window = buf.window(512);
    file.read_exact_at(window, 0)
        .map_err(|e| format!("read: {e}"))?;
    file.write_all_at(window, 0)
        .map_err(|e| format!("write: {e}"))?;
    file.sync_all().map_err(|e| format!("fsync: {e}"))?;
    Ok("written".into())
}

fn discard(args: &[&str]) -> Result<String, String> {
    let dev = args.first().ok_or("missing device")?;
    let (offset, len) = (num(args.get(1), "offset")?, num(args.get(2), "length")?);
    check_aligned(offset, len)?;
    let file = open(dev, true)?;
    let range = [offset, len];
    // BLKDISCARD = _IO(0x12, 119)
    const BLKDISCARD: libc::c_ulong = 0x1277;
    // SAFETY: BLKDISCARD reads a [u64; 2] through the pointer, which is
    // valid for the duration of the call.
    let rc = unsafe {
        libc::ioctl(
            std::os::fd::AsRawFd::as_raw_fd(&file),
            BLKDISCARD,
            range.as_ptr(),
        )
    };
    if rc != 0 {
        return Err(format!("BLKDISCARD: {}", std::io::Error::last_os_error()));
    }
    Ok("discarded".into())
}

fn bench(write: bool, args: &[&str]) -> Result<String, String> {
    let dev = args.first().ok_or("missing device")?;
    let len = num(args.get(1), "length")?;
    check_aligned(0, len)?;
    let file = open(dev, write)?;
    let mut buf = Aligned::new(CHUNK);
    let start = Instant::now();
    let mut done = 0u64;
    while done < len {
        let n = (len - done).min(CHUNK as u64) as usize;
        let window = buf.window(n);
        if write {
            file.write_all_at(window, done)
                .map_err(|e| format!("write: {e}"))?;
        } else {
            file.read_exact_at(window, done)
                .map_err(|e| format!("read: {e}"))?;
        }
        done += n as u64;
    }
    if write {
        file.sync_all().map_err(|e| format!("fsync: {e}"))?;
    }
    Ok(format!("{done} {}", start.elapsed().as_micros()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pattern_is_position_based() {
        let mut a = vec![0u8; 64];
        let mut b = vec![0u8; 32];
        fill_pattern(&mut a, 4096, 7);
        fill_pattern(&mut b, 4096 + 32, 7);
        assert_eq!(&a[32..], &b[..]);
        assert_eq!(
            u64::from_le_bytes(a[..8].try_into().unwrap()),
            splitmix64(7 ^ 4096)
        );
    }

    #[test]
    fn bad_arguments_are_errors() {
        assert!(run("fill", &[]).unwrap().is_err());
        assert!(run("fill", &["/etc/passwd", "0", "512", "1"])
            .unwrap()
            .is_err());
        assert!(run("verify", &["/dev/null", "1", "512", "1"])
            .unwrap()
            .is_err());
        assert!(run("nope", &[]).is_none());
    }
}
