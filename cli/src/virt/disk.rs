//! virt-make-fs (the `make-fs` command), virt-format (a disk erased and
//! given a partition, optionally LVM and a filesystem) and
//! virt-alignment-scan (partition alignment, exit 2 or 3 when some are
//! misaligned), as libguestfs's.

use std::ffi::OsString;
use std::io::IsTerminal;

use clap::Parser;
use libguest::Guest;
use protocol::calls;

use super::common::{config, parse, with_session, Appliance, Drives, Exit, Open, ToolResult};
use crate::error::{CliError, Result};

/// virt-make-fs: make a filesystem image from a tarball or directory.
#[derive(Parser, Debug)]
#[command(about = "Make a filesystem from a tar archive or files", version)]
pub struct MakeFsArgs {
    #[command(flatten)]
    pub appliance: Appliance,
    /// The output image format: raw (the default) or qcow2.
    #[arg(long, value_name = "raw|qcow2")]
    pub format: Option<String>,
    /// The filesystem label.
    #[arg(long, value_name = "LABEL")]
    pub label: Option<String>,
    /// The image size N[KMG], or +N[KMG] more than the estimate.
    #[arg(short = 's', long, value_name = "N|+N")]
    pub size: Option<String>,
    /// The filesystem type: ext2, ext3, ext4 (the default), xfs, vfat, btrfs.
    #[arg(short = 't', long = "type", value_name = "FS")]
    pub fstype: Option<String>,
    /// A host directory or tarball (.tar, .tar.gz, .tar.xz, .tar.zst).
    #[arg(value_name = "INPUT")]
    pub input: String,
    /// The image to write.
    #[arg(value_name = "OUTPUT")]
    pub output: String,
}

impl MakeFsArgs {
    /// The `make-fs` command's words.
    pub fn words(&self) -> Result<Vec<String>> {
        if self.input == "-" {
            return Err(CliError::msg(
                "input - (a tarball on standard input) is not read here: save it to a file (cat > in.tar) and give its name",
            ));
        }
        let mut words = vec![self.input.clone(), self.output.clone()];
        let opts = [
            ("--type", &self.fstype),
            ("--size", &self.size),
            ("--format", &self.format),
            ("--label", &self.label),
        ];
        for (flag, value) in opts {
            if let Some(v) = value {
                words.push(format!("{flag}={v}"));
            }
        }
        Ok(words)
    }
}

pub fn make_fs(name: &'static str, args: Vec<OsString>) -> ToolResult {
    let (a, _): (MakeFsArgs, _) = parse(name, args)?;
    let words = a.words()?;
    let config = config(&a.appliance.cli_args())?;
    let progress = std::io::stderr().is_terminal();
    crate::commands::makefs::run(&config, progress, &words)?;
    Ok(())
}

/// virt-format: erase and make a blank disk.
#[derive(Parser, Debug)]
#[command(about = "Erase and make a blank disk", version)]
pub struct FormatArgs {
    #[command(flatten)]
    pub drives: Drives,
    /// Make a filesystem of this type (ext4, xfs, vfat…) on the partition or LV.
    #[arg(long, value_name = "FS")]
    pub filesystem: Option<String>,
    /// The filesystem label (with --filesystem).
    #[arg(long, value_name = "LABEL", requires = "filesystem")]
    pub label: Option<String>,
    /// Make an LVM PV, VG and LV (default /dev/VG/LV) on the partition.
    #[arg(long, value_name = "/dev/VG/LV", num_args = 0..=1, default_missing_value = "/dev/VG/LV", require_equals = true)]
    pub lvm: Option<String>,
    /// The partition table: mbr (the default below 2 TiB), gpt, or none.
    #[arg(long, value_name = "mbr|gpt|none", num_args = 0..=1, default_missing_value = "mbr", require_equals = true)]
    pub partition: Option<String>,
    /// Zero the whole disk first (slow), not only its start.
    #[arg(long)]
    pub wipe: bool,
}

/// What virt-format makes on each disk.
#[derive(Debug, PartialEq, Eq)]
pub struct Layout {
    /// `msdos`, `gpt`, or None for no partition table.
    pub table: Option<String>,
    pub lvm: Option<(String, String)>,
}

impl FormatArgs {
    /// The partition table for a disk of `size` bytes, and the VG/LV.
    pub fn layout(&self, size: i64) -> Result<Layout> {
        let table = match self.partition.as_deref() {
            None if size >= 2 << 40 => Some("gpt".to_string()),
            None | Some("mbr") | Some("msdos") => Some("msdos".to_string()),
            Some("gpt") => Some("gpt".to_string()),
            Some("none") => None,
            Some(other) => {
                return Err(CliError::msg(format!(
                    "--partition={other}: expected mbr, gpt or none"
                )))
            }
        };
        let lvm = match self.lvm.as_deref() {
            None => None,
            Some(path) => {
                let parts: Vec<&str> = path.trim_start_matches("/dev/").split('/').collect();
                match parts.as_slice() {
                    [vg, lv] if !vg.is_empty() && !lv.is_empty() => {
                        Some((vg.to_string(), lv.to_string()))
                    }
                    _ => {
                        return Err(CliError::msg(format!(
                            "--lvm={path}: expected /dev/VG/LV, e.g. --lvm=/dev/data/home"
                        )))
                    }
                }
            }
        };
        Ok(Layout { table, lvm })
    }
}

pub fn format(name: &'static str, args: Vec<OsString>) -> ToolResult {
    let (a, m): (FormatArgs, _) = parse(name, args)?;
    a.layout(0)?;
    let s = a.drives.session(&m, &[], Open::UnmountedRw)?;
    with_session(s, |s| {
        let g = s.guest()?;
        remove_lvm(g)?;
        for dev in g.list_devices()? {
            let dev = dev.as_str();
            let layout = a.layout(g.blockdev_getsize64(dev)?)?;
            if a.wipe {
                g.zero_device(dev)?;
            } else {
                g.zero(dev)?;
            }
            let mut target = dev.to_string();
            if let Some(table) = &layout.table {
                g.part_disk(dev, table.as_str())?;
                target = g
                    .list_partitions()?
                    .into_iter()
                    .find(|p| g.part_to_dev(p.as_str()).is_ok_and(|d| d == dev))
                    .ok_or_else(|| CliError::msg(format!("{dev}: the new partition is missing")))?;
            }
            if let Some((vg, lv)) = &layout.lvm {
                g.pvcreate(target.as_str())?;
                g.vgcreate(vg.as_str(), vec![target.clone()])?;
                g.lvcreate_free(lv.as_str(), vg.as_str(), 100)?;
                target = format!("/dev/{vg}/{lv}");
            }
            if let Some(fs) = &a.filesystem {
                let opts = calls::mkfs::Opts {
                    label: a.label.clone(),
                    ..Default::default()
                };
                g.mkfs(fs.as_str(), target.as_str(), opts)?;
            }
        }
        Ok(())
    })?;
    Ok(())
}

/// LVs, VGs and PVs already on the disks go first, as virt-format's
/// lvm-remove-all.
fn remove_lvm(g: &mut Guest) -> Result<()> {
    let pvs = g.pvs()?;
    if pvs.is_empty() {
        return Ok(());
    }
    for lv in g.lvs()? {
        g.lvremove(lv.as_str())?;
    }
    for vg in g.vgs()? {
        g.vgremove(vg.as_str())?;
    }
    for pv in pvs {
        g.pvremove(pv.as_str())?;
    }
    Ok(())
}

/// virt-alignment-scan: check the alignment of partitions.
#[derive(Parser, Debug)]
#[command(about = "Check alignment of virtual machine partitions", version)]
pub struct AlignmentArgs {
    #[command(flatten)]
    pub drives: Drives,
    /// No output, only the exit status.
    #[arg(short = 'q', long)]
    pub quiet: bool,
    /// Parallel threads (accepted; the scan is serial).
    #[arg(short = 'P', value_name = "N")]
    pub threads: Option<u32>,
}

/// One partition's line, in virt-alignment-scan's columns (`%s %12u `,
/// then the alignment as `%12u    ` bytes or `%12uK   `, then the
/// verdict), and how good the alignment is: 0 ok (≥ 64K), 2 below 64K,
/// 3 below 4K.
pub fn alignment_line(name: &str, start: u64) -> (String, u8) {
    // A partition at 0 has every alignment; virt-alignment-scan says "-".
    let bits = if start == 0 {
        64
    } else {
        start.trailing_zeros()
    };
    let (grade, verdict) = match bits {
        0..=11 => (3, "bad (alignment < 4K)"),
        12..=15 => (2, "bad (alignment < 64K)"),
        _ => (0, "ok"),
    };
    let shown = match bits {
        0..=9 => format!("{:>12}    ", 1u64 << bits),
        10..=63 => format!("{:>12}K   ", 1u64 << (bits - 10)),
        _ => "- ".to_string(),
    };
    (format!("{name} {start:>12} {shown}{verdict}"), grade)
}

pub fn alignment_scan(name: &'static str, args: Vec<OsString>) -> ToolResult {
    let (a, m): (AlignmentArgs, _) = parse(name, args)?;
    let s = a.drives.session(&m, &[], Open::UnmountedRo)?;
    let mut worst = 0;
    with_session(s, |s| {
        let g = s.guest()?;
        for dev in g.list_devices()? {
            let table = g.part_list(dev.as_str());
            // A disk without a partition table has nothing to align.
            let Ok(parts) = table else { continue };
            for p in parts {
                let part = partition_name(&dev, p.part_num);
                let start = u64::try_from(p.part_start).unwrap_or(0);
                let (line, grade) = alignment_line(&part, start);
                worst = worst.max(grade);
                if !a.quiet {
                    outln!("{line}");
                }
            }
        }
        Ok(())
    })?;
    match worst {
        0 => Ok(()),
        code => Err(Exit::Code(code)),
    }
}

/// /dev/sda + 1 → /dev/sda1; /dev/nvme0n1 + 1 → /dev/nvme0n1p1.
fn partition_name(dev: &str, num: i64) -> String {
    match dev.chars().last() {
        Some(c) if c.is_ascii_digit() => format!("{dev}p{num}"),
        _ => format!("{dev}{num}"),
    }
}
