//! `filesystems` (virt-filesystems) and `df` (virt-df).

use clap::Parser;
use libguest::Guest;
use serde_json::json;

use crate::error::{clap_line, CliError, Result};
use crate::session::Session;

/// Parses a compound command's options with clap, errors as one line.
pub fn parse<T: Parser>(name: &str, args: &[String]) -> Result<T> {
    T::try_parse_from(std::iter::once(name).chain(args.iter().map(String::as_str)))
        .map_err(|e| CliError::msg(format!("{name}: {} (see 'help {name}')", clap_line(&e))))
}

#[derive(Parser)]
#[command(disable_help_flag = true)]
struct FilesystemsArgs {
    #[arg(long)]
    json: bool,
    #[arg(short = 'h', long = "human-readable")]
    human: bool,
}

struct Row {
    name: String,
    kind: &'static str,
    vfs: String,
    label: String,
    uuid: String,
    size: i64,
    parent: String,
}

/// A filesystem's device size; of a btrfs subvolume, its device's (the
/// first way to split btrfsvol:DEVICE/SUBVOLUME that names a device).
fn fs_size(g: &mut Guest, dev: &str) -> Result<i64> {
    let Ok(m) = libguest::Mountable::new(dev) else {
        return Ok(g.blockdev_getsize64(dev)?);
    };
    let splits = m.subvolume_splits();
    if splits.is_empty() {
        return Ok(g.blockdev_getsize64(dev)?);
    }
    let last = splits.len() - 1;
    for (i, (device, _)) in splits.into_iter().enumerate() {
        match g.blockdev_getsize64(device.as_str()) {
            Ok(size) => return Ok(size),
            Err(e) if i == last => return Err(e.into()),
            Err(_) => {}
        }
    }
    Ok(-1)
}

pub fn filesystems(s: &mut Session, args: &[String]) -> Result<()> {
    let opts: FilesystemsArgs = parse("filesystems", args)?;
    let g = s.guest()?;
    let mut rows = Vec::new();
    let found = g.list_filesystems()?;
    for fs in found.iter().filter(|f| f.fstype != "unknown") {
        let dev = fs.device.as_str();
        rows.push(Row {
            name: fs.device.clone(),
            kind: "filesystem",
            vfs: fs.fstype.clone(),
            // A type without labels or UUIDs (swap, some old ones) has none.
            label: g.vfs_label(dev).unwrap_or_default(),
            uuid: g.vfs_uuid(dev).unwrap_or_default(),
            size: fs_size(g, dev)?,
            parent: String::new(),
        });
    }
    for part in g.list_partitions()? {
        let size = g.blockdev_getsize64(part.as_str())?;
        rows.push(Row {
            parent: parent_device(&part),
            name: part,
            kind: "partition",
            vfs: String::new(),
            label: String::new(),
            uuid: String::new(),
            size,
        });
    }
    for dev in g.list_devices()? {
        let size = g.blockdev_getsize64(dev.as_str())?;
        rows.push(Row {
            name: dev,
            kind: "device",
            vfs: String::new(),
            label: String::new(),
            uuid: String::new(),
            size,
            parent: String::new(),
        });
    }
    if opts.json {
        let list: Vec<_> = rows
            .iter()
            .map(|r| {
                json!({
                    "name": r.name, "type": r.kind, "vfs_type": r.vfs, "label": r.label,
                    "uuid": r.uuid, "size": r.size, "parent": r.parent,
                })
            })
            .collect();
        outln!("{}", pretty(&json!(list))?);
        return Ok(());
    }
    let dash = |v: &str| {
        if v.is_empty() {
            "-".to_string()
        } else {
            v.to_string()
        }
    };
    let mut table =
        vec![["Name", "Type", "VFS", "Label", "UUID", "Size", "Parent"].map(String::from)];
    for r in &rows {
        let size = if opts.human {
            human(r.size)
        } else {
            r.size.to_string()
        };
        table.push([
            r.name.clone(),
            r.kind.to_string(),
            dash(&r.vfs),
            dash(&r.label),
            dash(&r.uuid),
            size,
            dash(&r.parent),
        ]);
    }
    print_table(&table)
}

/// /dev/sda1 → /dev/sda, /dev/nvme0n1p2 → /dev/nvme0n1.
fn parent_device(part: &str) -> String {
    let base = part.trim_end_matches(|c: char| c.is_ascii_digit());
    match base.strip_suffix('p') {
        Some(disk) if disk.ends_with(|c: char| c.is_ascii_digit()) => disk.to_string(),
        _ => base.to_string(),
    }
}

pub fn pretty(value: &serde_json::Value) -> Result<String> {
    serde_json::to_string_pretty(value).map_err(|e| CliError::msg(format!("JSON output: {e}")))
}

/// Left-aligned columns.
fn print_table<const N: usize>(rows: &[[String; N]]) -> Result<()> {
    let mut widths = [0usize; N];
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    for row in rows {
        let cells: Vec<String> = row
            .iter()
            .zip(widths)
            .map(|(cell, w)| format!("{cell:w$}"))
            .collect();
        outln!("{}", cells.join("  ").trim_end());
    }
    Ok(())
}

/// 1024-based sizes as df -h writes them: 512, 1.5K, 20M, 3.0G.
pub fn human(bytes: i64) -> String {
    let mut value = bytes as f64;
    if value < 1024.0 {
        return bytes.to_string();
    }
    for unit in ["K", "M", "G", "T", "P", "E"] {
        value /= 1024.0;
        if value < 1024.0 || unit == "E" {
            return if value < 10.0 {
                format!("{value:.1}{unit}")
            } else {
                format!("{value:.0}{unit}")
            };
        }
    }
    bytes.to_string()
}

#[derive(Parser)]
#[command(disable_help_flag = true)]
struct DfArgs {
    #[arg(short = 'h', long = "human-readable")]
    human: bool,
}

struct Usage {
    name: String,
    size: i64,
    used: i64,
    avail: i64,
}

pub fn df(s: &mut Session, args: &[String]) -> Result<()> {
    let opts: DfArgs = parse("df", args)?;
    let g = s.guest()?;
    let mut usage = Vec::new();
    let mut mounted = g.mountpoints()?;
    if mounted.is_empty() {
        // Nothing of the user's is mounted: each filesystem in turn on /.
        for fs in g.list_filesystems()? {
            if fs.fstype == "unknown" || fs.fstype == "swap" {
                continue;
            }
            if let Err(e) = g.mount_ro(fs.device.as_str(), "/") {
                errln!(
                    "libguest: df: skipping {}: {}",
                    fs.device,
                    crate::error::one_line(&e.to_string())
                );
                continue;
            }
            let stat = statvfs(g, &fs.device, "/");
            g.umount("/", Default::default())?;
            usage.push(stat?);
        }
    } else {
        mounted.sort_by(|a, b| a.mountpoint.cmp(&b.mountpoint));
        for m in &mounted {
            usage.push(statvfs(g, &m.device, &m.mountpoint)?);
        }
    }
    let head = if opts.human {
        ["Filesystem", "Size", "Used", "Avail", "Use%"]
    } else {
        ["Filesystem", "1K-blocks", "Used", "Available", "Use%"]
    };
    let mut table = vec![head.map(String::from)];
    for u in &usage {
        let n = |v: i64| {
            if opts.human {
                human(v)
            } else {
                (v / 1024).to_string()
            }
        };
        let total = u.used + u.avail;
        // As df: rounded up, so a nearly full filesystem never shows 99%.
        let pct = if total > 0 {
            format!("{}%", (u.used * 100 + total - 1) / total)
        } else {
            "-".into()
        };
        table.push([u.name.clone(), n(u.size), n(u.used), n(u.avail), pct]);
    }
    print_table_numeric(&table)
}

fn statvfs(g: &mut Guest, device: &str, path: &str) -> Result<Usage> {
    let v = g.statvfs(path)?;
    let size = v.blocks * v.frsize;
    Ok(Usage {
        name: device.to_string(),
        size,
        used: size - v.bfree * v.frsize,
        avail: v.bavail * v.frsize,
    })
}

/// df's layout: the name left-aligned, the numbers right-aligned.
fn print_table_numeric(rows: &[[String; 5]]) -> Result<()> {
    let mut widths = [0usize; 5];
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    for row in rows {
        let mut line = format!("{:w$}", row[0], w = widths[0]);
        for (cell, w) in row.iter().zip(widths).skip(1) {
            line.push_str(&format!("  {cell:>w$}"));
        }
        outln!("{line}");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_parents() {
        assert_eq!(human(512), "512");
        assert_eq!(human(1536), "1.5K");
        assert_eq!(human(64 << 20), "64M");
        assert_eq!(human(3 << 30), "3.0G");
        assert_eq!(parent_device("/dev/sda1"), "/dev/sda");
        assert_eq!(parent_device("/dev/sdb12"), "/dev/sdb");
        assert_eq!(parent_device("/dev/nvme0n1p2"), "/dev/nvme0n1");
    }
}
