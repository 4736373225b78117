//! virt-df: free space on each filesystem of the disk images, as
//! libguestfs's virt-df prints it: `Filesystem 1K-blocks Used Available
//! Use%` rows named `disk.img:/dev/sda1`, or CSV. Each filesystem is
//! mounted read-only in turn.

use std::ffi::OsString;
use std::path::Path;

use clap::{ArgAction, Parser};
use libguest::Guest;

use super::common::{parse, with_session, Drives, Open, ToolResult};
use crate::commands::fs::human;
use crate::error::Result;

#[derive(Parser, Debug)]
#[command(
    about = "Display free space on virtual filesystems",
    version,
    disable_help_flag = true
)]
pub struct DfArgs {
    #[command(flatten)]
    pub drives: Drives,
    /// Write comma-separated values.
    #[arg(long)]
    pub csv: bool,
    /// Human-readable sizes (as df -h).
    #[arg(short = 'h', long = "human-readable")]
    pub human: bool,
    /// Inodes instead of blocks.
    #[arg(short = 'i', long)]
    pub inodes: bool,
    /// Leave the title row out.
    #[arg(long = "no-title")]
    pub no_title: bool,
    /// Print help.
    #[arg(long, action = ArgAction::Help)]
    pub help: Option<bool>,
}

/// One filesystem's statvfs figures.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stat {
    pub bsize: i64,
    pub blocks: i64,
    pub bfree: i64,
    pub bavail: i64,
    pub files: i64,
    pub ffree: i64,
}

pub fn df(name: &'static str, args: Vec<OsString>) -> ToolResult {
    let (a, m): (DfArgs, _) = parse(name, args)?;
    let display = display_name(&a.drives.drives);
    let s = a.drives.session(&m, &[], Open::UnmountedRo)?;
    with_session(s, |s| {
        let g = s.guest()?;
        let rows = stats(g)?;
        if !a.no_title {
            outln!("{}", title(a.csv, a.human, a.inodes));
        }
        for (dev, st) in &rows {
            outln!("{}", row(&display, dev, st, a.csv, a.human, a.inodes));
        }
        Ok(())
    })?;
    Ok(())
}

/// The name rows carry: the first image's file name, `+` when there are more.
pub fn display_name(drives: &[std::path::PathBuf]) -> String {
    let first = drives
        .first()
        .map(|p| {
            Path::new(p)
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| p.display().to_string())
        })
        .unwrap_or_default();
    match drives.len() {
        0 | 1 => first,
        _ => format!("{first}+"),
    }
}

fn stats(g: &mut Guest) -> Result<Vec<(String, Stat)>> {
    let mut rows = Vec::new();
    for fs in g.list_filesystems()? {
        let (dev, vfs) = (fs.device, fs.fstype);
        if matches!(vfs.as_str(), "swap" | "unknown" | "") {
            continue;
        }
        if g.mount_ro(dev.as_str(), "/").is_err() {
            continue;
        }
        let st = g.statvfs("/");
        g.umount_all()?;
        let st = st?;
        rows.push((
            dev,
            Stat {
                bsize: if st.frsize > 0 { st.frsize } else { st.bsize },
                blocks: st.blocks,
                bfree: st.bfree,
                bavail: st.bavail,
                files: st.files,
                ffree: st.ffree,
            },
        ));
    }
    Ok(rows)
}

pub fn title(csv: bool, human: bool, inodes: bool) -> String {
    let cols = match (inodes, human) {
        (true, _) => ["Inodes", "IUsed", "IFree", "IUse%"],
        (false, true) => ["Size", "Used", "Available", "Use%"],
        (false, false) => ["1K-blocks", "Used", "Available", "Use%"],
    };
    if csv {
        format!("VirtualMachine,Filesystem,{}", cols.join(","))
    } else {
        format!(
            "{:<36}{:>10} {:>10} {:>10} {:>5}",
            "Filesystem", cols[0], cols[1], cols[2], cols[3]
        )
    }
}

pub fn row(name: &str, dev: &str, st: &Stat, csv: bool, human_sizes: bool, inodes: bool) -> String {
    let (total, used, avail, percent) = if inodes {
        let used = st.files - st.ffree;
        (st.files, used, st.ffree, percent(st.ffree, st.files))
    } else {
        (
            st.blocks * st.bsize,
            (st.blocks - st.bfree) * st.bsize,
            st.bavail * st.bsize,
            percent(st.bfree, st.blocks),
        )
    };
    let value = |v: i64| match (inodes, human_sizes) {
        (true, _) => v.to_string(),
        (false, true) => human(v),
        (false, false) => (v / 1024).to_string(),
    };
    if csv {
        return [
            csv_field(name),
            csv_field(dev),
            value(total),
            value(used),
            value(avail),
            // virt-df's CSV: one decimal, no '%'.
            format!("{percent:.1}"),
        ]
        .join(",");
    }
    let label = format!("{name}:{dev}");
    let label = if label.len() > 36 {
        format!("{label}\n{:36}", "")
    } else {
        format!("{label:<36}")
    };
    format!(
        "{label}{:>10} {:>10} {:>10} {:>5}",
        value(total),
        value(used),
        value(avail),
        // virt-df rounds the table's Use% up: any use at all is 1%.
        format!("{:.0}%", percent.ceil())
    )
}

fn percent(free: i64, total: i64) -> f64 {
    match total {
        0 => 0.0,
        _ => 100.0 - 100.0 * free as f64 / total as f64,
    }
}

/// A CSV field, quoted when it holds a comma, a quote or a line break.
pub fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}
