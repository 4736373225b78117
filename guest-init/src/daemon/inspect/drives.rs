//! Windows drive letters: which of the appliance's partitions a
//! `HKLM\SYSTEM\MountedDevices` blob names, as libguestfs's
//! get_drive_mappings. A 12-byte blob is an MBR disk signature (the 4
//! bytes at 0x1b8) and the partition's byte offset; a `DMIO:ID:` blob
//! holds a GPT partition's unique GUID, in the on-disk byte order GPT
//! entries use.
//!
//! The blobs come from the guest's registry and the tables from its
//! disks: both are hostile, so every read is bounded and checked.

use std::fs::File;
use std::os::unix::fs::FileExt;

/// GPT entry arrays larger than this are not read (128 × 128 bytes is
/// the standard size).
const MAX_GPT_ENTRIES_BYTES: u64 = 1 << 20;

/// A partition of a whole disk.
#[derive(Debug, Clone)]
pub(crate) struct Partition {
    pub(crate) device: String,
    pub(crate) number: u32,
    /// Start in bytes.
    pub(crate) start: u64,
}

/// A whole disk and its partitions (from /sys/block).
#[derive(Debug, Clone)]
pub(crate) struct Disk {
    pub(crate) device: String,
    pub(crate) partitions: Vec<Partition>,
}

/// The partition a blob names, among `disks`.
pub(crate) fn resolve(disks: &[Disk], blob: &[u8]) -> Option<String> {
    if blob.len() >= 24 && blob.starts_with(b"DMIO:ID:") {
        let guid = blob.get(8..24)?;
        return disks.iter().find_map(|d| gpt_partition(d, guid));
    }
    if blob.len() != 12 {
        return None;
    }
    let signature = blob.get(0..4)?;
    let offset = u64::from_le_bytes(blob.get(4..12)?.try_into().ok()?);
    let disk = disks
        .iter()
        .find(|d| mbr_signature(&d.device).as_deref() == Some(signature))?;
    disk.partitions
        .iter()
        .find(|p| p.start == offset)
        .map(|p| p.device.clone())
}

/// The disk signature of an MBR-partitioned (not GPT) disk.
fn mbr_signature(device: &str) -> Option<Vec<u8>> {
    let mut sector = [0u8; 512];
    File::open(device)
        .ok()?
        .read_exact_at(&mut sector, 0)
        .ok()?;
    let protective = sector[0x1c2] == 0xee;
    (sector[510..512] == [0x55, 0xaa] && !protective).then(|| sector[0x1b8..0x1bc].to_vec())
}

/// The partition of `disk` whose GPT unique GUID is `guid`.
fn gpt_partition(disk: &Disk, guid: &[u8]) -> Option<String> {
    let file = File::open(&disk.device).ok()?;
    let sector = logical_block_size(&disk.device);
    let mut header = [0u8; 92];
    file.read_exact_at(&mut header, sector).ok()?;
    if &header[0..8] != b"EFI PART" {
        return None;
    }
    let le32 =
        |o: usize| u32::from_le_bytes([header[o], header[o + 1], header[o + 2], header[o + 3]]);
    let entries_lba = u64::from_le_bytes(header[72..80].try_into().ok()?);
    let (count, size) = (u64::from(le32(80)), u64::from(le32(84)));
    if !(128..=4096).contains(&size) || count.checked_mul(size)? > MAX_GPT_ENTRIES_BYTES {
        return None;
    }
    let mut entries = vec![0u8; usize::try_from(count * size).ok()?];
    file.read_exact_at(&mut entries, entries_lba.checked_mul(sector)?)
        .ok()?;
    let index = entries
        .chunks_exact(usize::try_from(size).ok()?)
        .position(|e| e[0..16] != [0; 16] && &e[16..32] == guid)?;
    let number = u32::try_from(index + 1).ok()?;
    disk.partitions
        .iter()
        .find(|p| p.number == number)
        .map(|p| p.device.clone())
}

/// The disk's logical sector size (512 unless sysfs says otherwise).
fn logical_block_size(device: &str) -> u64 {
    let name = device.rsplit('/').next().unwrap_or_default();
    std::fs::read_to_string(format!("/sys/block/{name}/queue/logical_block_size"))
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .filter(|&n: &u64| n.is_power_of_two() && (512..=65536).contains(&n))
        .unwrap_or(512)
}

/// The whole disks named in `devices` (their partitions from sysfs):
/// the disks inspection looks at.
pub(crate) fn disks_of(devices: &[String]) -> Vec<Disk> {
    let mut disks: Vec<Disk> = Vec::new();
    for device in devices {
        let Some(name) = device.strip_prefix("/dev/") else {
            continue;
        };
        let Some(disk) = whole_disk_of(name) else {
            continue;
        };
        if disks.iter().any(|d| d.device == format!("/dev/{disk}")) {
            continue;
        }
        let mut partitions = Vec::new();
        let dir = format!("/sys/block/{disk}");
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let part = entry.file_name().to_string_lossy().into_owned();
            let read = |f: &str| -> Option<u64> {
                std::fs::read_to_string(format!("{dir}/{part}/{f}"))
                    .ok()?
                    .trim()
                    .parse()
                    .ok()
            };
            let (Some(start), Some(number)) = (read("start"), read("partition")) else {
                continue;
            };
            partitions.push(Partition {
                device: format!("/dev/{part}"),
                number: u32::try_from(number).unwrap_or(u32::MAX),
                // sysfs counts 512-byte sectors whatever the disk's.
                start: start.saturating_mul(512),
            });
        }
        disks.push(Disk {
            device: format!("/dev/{disk}"),
            partitions,
        });
    }
    disks
}

/// The whole disk a partition (or disk) name belongs to, from sysfs.
fn whole_disk_of(name: &str) -> Option<String> {
    if std::path::Path::new(&format!("/sys/block/{name}")).exists() {
        return Some(name.to_owned());
    }
    let link = std::fs::read_link(format!("/sys/class/block/{name}")).ok()?;
    let parent = link.parent()?.file_name()?.to_str()?.to_owned();
    std::path::Path::new(&format!("/sys/block/{parent}"))
        .exists()
        .then_some(parent)
}
