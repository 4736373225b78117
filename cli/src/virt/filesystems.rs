//! virt-filesystems: the filesystems, partitions, block devices and LVM
//! objects of the disk images, as libguestfs's virt-filesystems lists
//! them: names only, or with -l the columns Name Type VFS Label MBR Size
//! Parent (UUID with --uuid) that the selection calls for; --csv.

use std::ffi::OsString;

use clap::{ArgAction, Parser};
use libguest::Guest;

use super::common::{parse, with_session, Drives, Open, ToolResult};
use super::df::csv_field;
use crate::commands::fs::human;
use crate::error::Result;

#[derive(Parser, Debug, Default)]
#[command(
    about = "List filesystems, partitions, block devices, LVM in a virtual machine disk image",
    version,
    disable_help_flag = true
)]
pub struct FilesystemsArgs {
    #[command(flatten)]
    pub drives: Drives,
    /// Everything: filesystems (with --extra), partitions, block devices, LVM.
    #[arg(long)]
    pub all: bool,
    /// Block devices.
    #[arg(long, visible_alias = "block-devices")]
    pub blkdevs: bool,
    /// Comma-separated values.
    #[arg(long)]
    pub csv: bool,
    /// Also swap and filesystems that cannot be mounted.
    #[arg(long)]
    pub extra: bool,
    /// Filesystems (the default).
    #[arg(long)]
    pub filesystems: bool,
    /// Human-readable sizes.
    #[arg(short = 'h', long = "human-readable")]
    pub human: bool,
    /// Long listing: more columns.
    #[arg(short = 'l', long)]
    pub long: bool,
    /// LVM logical volumes.
    #[arg(long, visible_aliases = ["logvols", "logical-volumes"])]
    pub lvs: bool,
    /// No title row in long or CSV output.
    #[arg(long = "no-title")]
    pub no_title: bool,
    /// Partitions.
    #[arg(long, visible_alias = "partitions")]
    pub parts: bool,
    /// LVM physical volumes.
    #[arg(long, visible_aliases = ["physvols", "physical-volumes"])]
    pub pvs: bool,
    /// A UUID column.
    #[arg(long, visible_alias = "uuids")]
    pub uuid: bool,
    /// LVM volume groups.
    #[arg(long, visible_aliases = ["volgroups", "volume-groups"])]
    pub vgs: bool,
    /// Print help.
    #[arg(long, action = ArgAction::Help)]
    pub help: Option<bool>,
}

/// One listed object.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Row {
    pub name: String,
    pub kind: &'static str,
    pub vfs: String,
    pub label: String,
    pub mbr: String,
    pub size: Option<i64>,
    pub parent: String,
    pub uuid: String,
}

/// What is listed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Select {
    pub filesystems: bool,
    pub extra: bool,
    pub parts: bool,
    pub blkdevs: bool,
    pub lvs: bool,
    pub vgs: bool,
    pub pvs: bool,
}

impl FilesystemsArgs {
    pub fn select(&self) -> Select {
        let any =
            self.filesystems || self.parts || self.blkdevs || self.lvs || self.vgs || self.pvs;
        Select {
            filesystems: self.all || self.filesystems || !any,
            extra: self.all || self.extra,
            parts: self.all || self.parts,
            blkdevs: self.all || self.blkdevs,
            lvs: self.all || self.lvs,
            vgs: self.all || self.vgs,
            pvs: self.all || self.pvs,
        }
    }
}

pub fn filesystems(name: &'static str, args: Vec<OsString>) -> ToolResult {
    let (a, m): (FilesystemsArgs, _) = parse(name, args)?;
    let sel = a.select();
    let s = a.drives.session(&m, &[], Open::UnmountedRo)?;
    with_session(s, |s| {
        let rows = collect(s.guest()?, sel)?;
        for line in render(&rows, sel, &a) {
            outln!("{line}");
        }
        Ok(())
    })?;
    Ok(())
}

fn collect(g: &mut Guest, sel: Select) -> Result<Vec<Row>> {
    let mut rows = Vec::new();
    if sel.filesystems {
        for fs in g.list_filesystems()? {
            let ordinary = !matches!(fs.fstype.as_str(), "swap" | "unknown" | "");
            if !ordinary && !sel.extra {
                continue;
            }
            let dev = fs.device.as_str();
            rows.push(Row {
                label: g.vfs_label(dev).unwrap_or_default(),
                uuid: g.vfs_uuid(dev).unwrap_or_default(),
                size: fs_size(g, dev).or_else(|| g.blockdev_getsize64(dev).ok()),
                name: fs.device.clone(),
                kind: "filesystem",
                vfs: fs.fstype,
                ..Row::default()
            });
        }
    }
    if sel.lvs {
        for lv in g.lvs()? {
            let vg = lv
                .rsplit_once('/')
                .map(|(vg, _)| vg.to_string())
                .unwrap_or_default();
            rows.push(Row {
                size: g.blockdev_getsize64(lv.as_str()).ok(),
                uuid: g.lvuuid(lv.as_str()).unwrap_or_default(),
                name: lv,
                kind: "lv",
                parent: vg,
                ..Row::default()
            });
        }
    }
    if sel.vgs {
        for vg in g.vgs_full()? {
            rows.push(Row {
                name: format!("/dev/{}", vg.vg_name),
                kind: "vg",
                size: Some(vg.vg_size),
                uuid: vg.vg_uuid,
                ..Row::default()
            });
        }
    }
    if sel.pvs {
        for pv in g.pvs_full()? {
            rows.push(Row {
                name: pv.pv_name,
                kind: "pv",
                size: Some(pv.pv_size),
                uuid: pv.pv_uuid,
                ..Row::default()
            });
        }
    }
    if sel.parts {
        for part in g.list_partitions()? {
            let parent = g.part_to_dev(part.as_str())?;
            let num = g.part_to_partnum(part.as_str())?;
            let mbr = match g.part_get_parttype(parent.as_str()).as_deref() {
                Ok("msdos") => g
                    .part_get_mbr_id(parent.as_str(), num)
                    .map(|id| format!("{id:02x}"))
                    .unwrap_or_default(),
                _ => String::new(),
            };
            rows.push(Row {
                size: g.blockdev_getsize64(part.as_str()).ok(),
                name: part,
                kind: "partition",
                mbr,
                parent,
                ..Row::default()
            });
        }
    }
    if sel.blkdevs {
        for dev in g.list_devices()? {
            rows.push(Row {
                size: g.blockdev_getsize64(dev.as_str()).ok(),
                name: dev,
                kind: "device",
                ..Row::default()
            });
        }
    }
    Ok(rows)
}

/// A column: its title and its cell for a row.
type Column = (&'static str, Box<dyn Fn(&Row) -> String>);

/// The output lines: names only, or the long / CSV table.
/// A filesystem's own size, as virt-filesystems reports it: statvfs's
/// blocks × block size, mounted read-only for the question; None when it
/// does not mount.
fn fs_size(g: &mut Guest, dev: &str) -> Option<i64> {
    g.mount_ro(dev, "/").ok()?;
    let size = g.statvfs("/").ok().map(|v| v.blocks * v.frsize);
    let _ = g.umount("/", Default::default());
    size
}

pub fn render(rows: &[Row], sel: Select, a: &FilesystemsArgs) -> Vec<String> {
    if !a.long && !a.csv && !a.uuid {
        return rows.iter().map(|r| r.name.clone()).collect();
    }
    let long = a.long;
    let fs_cols = long && sel.filesystems;
    let mbr_col = long && sel.parts;
    let parent_col = long;
    let mut cols: Vec<Column> = vec![("Name", Box::new(|r: &Row| r.name.clone()))];
    if long {
        cols.push(("Type", Box::new(|r: &Row| r.kind.to_string())));
    }
    if fs_cols {
        cols.push(("VFS", Box::new(|r: &Row| dash(&r.vfs))));
        cols.push(("Label", Box::new(|r: &Row| dash(&r.label))));
    }
    if mbr_col {
        cols.push(("MBR", Box::new(|r: &Row| dash(&r.mbr))));
    }
    if long {
        let human_sizes = a.human;
        cols.push((
            "Size",
            Box::new(move |r: &Row| match r.size {
                Some(n) if human_sizes => human(n),
                Some(n) => n.to_string(),
                None => "-".into(),
            }),
        ));
    }
    if parent_col {
        cols.push(("Parent", Box::new(|r: &Row| dash(&r.parent))));
    }
    if a.uuid {
        cols.push(("UUID", Box::new(|r: &Row| dash(&r.uuid))));
    }
    let mut table: Vec<Vec<String>> = Vec::new();
    if !a.no_title {
        table.push(cols.iter().map(|(t, _)| t.to_string()).collect());
    }
    for r in rows {
        table.push(cols.iter().map(|(_, f)| f(r)).collect());
    }
    if a.csv {
        // CSV leaves what is missing empty; the table shows "-".
        return table
            .iter()
            .map(|row| {
                row.iter()
                    .map(|c| match c.as_str() {
                        "-" => String::new(),
                        _ => csv_field(c),
                    })
                    .collect::<Vec<_>>()
                    .join(",")
            })
            .collect();
    }
    let widths: Vec<usize> = (0..cols.len())
        .map(|i| {
            table
                .iter()
                .map(|row| row[i].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    table
        .iter()
        .map(|row| {
            let cells: Vec<String> = row
                .iter()
                .zip(&widths)
                .map(|(c, w)| format!("{c:<w$}"))
                .collect();
            // virt-filesystems: two spaces between columns, one when the
            // wide UUID column is shown.
            cells
                .join(if a.uuid { " " } else { "  " })
                .trim_end()
                .to_string()
        })
        .collect()
}

fn dash(v: &str) -> String {
    if v.is_empty() {
        "-".into()
    } else {
        v.to_string()
    }
}
