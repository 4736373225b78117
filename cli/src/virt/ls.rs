//! virt-ls: list directories in a disk image as libguestfs's virt-ls
//! does: names (plain), `ll` output (-l), find's names (-R), or one line
//! per file with `-lR`, --checksum, --csv, --uids, --times,
//! --extra-stats: type, octal permissions, size, [uid gid], [atime mtime
//! ctime], [device inode links rdev blocks], [checksum], path
//! [-> link target], in virt-ls's columns (checked against Debian's).

use std::ffi::OsString;

use clap::{ArgAction, Parser};
use libguest::Guest;

use super::common::{parse, with_session, Drives, Mounts, Open, ToolResult};
use super::df::csv_field;
use crate::commands::fs::human;
use crate::error::{CliError, Result};
use crate::session::Session;

#[derive(Parser, Debug)]
#[command(
    about = "List files in a virtual machine",
    version,
    disable_help_flag = true
)]
pub struct LsArgs {
    #[command(flatten)]
    pub drives: Drives,
    #[command(flatten)]
    pub mounts: Mounts,
    /// A checksum column for regular files (md5 unless TYPE: crc, sha1, sha224, sha256, sha384, sha512).
    #[arg(long, value_name = "TYPE", num_args = 0..=1, default_missing_value = "md5", require_equals = true)]
    pub checksum: Option<String>,
    /// Comma-separated values (implies the long recursive listing).
    #[arg(long)]
    pub csv: bool,
    /// Human-readable sizes.
    #[arg(short = 'h', long = "human-readable")]
    pub human: bool,
    /// Long listing.
    #[arg(short = 'l', long)]
    pub long: bool,
    /// Recursive listing.
    #[arg(short = 'R', long)]
    pub recursive: bool,
    /// Times as days before now.
    #[arg(long = "time-days")]
    pub time_days: bool,
    /// Times as seconds before now.
    #[arg(long = "time-relative")]
    pub time_relative: bool,
    /// Times as seconds since the epoch.
    #[arg(long = "time-t")]
    pub time_t: bool,
    /// uid and gid columns.
    #[arg(long)]
    pub uids: bool,
    /// atime, mtime and ctime columns.
    #[arg(long)]
    pub times: bool,
    /// device, inode, link count, rdev and blocks columns.
    #[arg(long = "extra-stats")]
    pub extra_stats: bool,
    /// Guest directories to list.
    #[arg(required = true, value_name = "DIRECTORY")]
    pub dirs: Vec<String>,
    /// Print help.
    #[arg(long, action = ArgAction::Help)]
    pub help: Option<bool>,
}

const CHECKSUMS: &[&str] = &["crc", "md5", "sha1", "sha224", "sha256", "sha384", "sha512"];

impl LsArgs {
    /// The one-line-per-file listing (libguestfs's -lR mode).
    pub fn long_recursive(&self) -> bool {
        (self.long && self.recursive)
            || self.csv
            || self.checksum.is_some()
            || self.uids
            || self.shows_times()
            || self.extra_stats
    }

    fn shows_times(&self) -> bool {
        self.times || self.time_days || self.time_relative || self.time_t
    }
}

pub fn ls(name: &'static str, args: Vec<OsString>) -> ToolResult {
    let (a, m): (LsArgs, _) = parse(name, args)?;
    if let Some(c) = &a.checksum {
        if !CHECKSUMS.contains(&c.as_str()) {
            return Err(CliError::msg(format!(
                "--checksum={c}: unknown checksum type; use one of {}",
                CHECKSUMS.join(", ")
            ))
            .into());
        }
    }
    let s = a.drives.session(&m, &a.mounts.mounts, Open::MountedRo)?;
    with_session(s, |s| {
        for dir in &a.dirs {
            list(s, &a, dir)?;
        }
        Ok(())
    })?;
    Ok(())
}

fn list(s: &mut Session, a: &LsArgs, dir: &str) -> Result<()> {
    if a.long_recursive() {
        let g = s.guest()?;
        let mut paths = vec![dir.to_string()];
        if a.recursive {
            // find's names keep the '/' after the directory as given.
            paths.extend(g.find(dir)?.into_iter().map(|p| format!("{dir}{p}")));
        } else {
            paths.extend(g.ls(dir)?.into_iter().map(|p| join(dir, &p)));
        }
        let now = now_secs();
        for path in &paths {
            let line = file_line(g, a, path, now)?;
            outln!("{line}");
        }
        return Ok(());
    }
    if a.long {
        // ll's text as it is: virt-ls adds no newline of its own.
        let text = s.guest()?.ll(dir)?;
        std::io::Write::write_all(&mut crate::terminal::stdout(), text.as_bytes())
            .map_err(|e| CliError::msg(format!("writing the listing: {e}")))?;
        return Ok(());
    }
    let g = s.guest()?;
    if a.recursive {
        // find's names as they come, as virt-ls -R prints them.
        for p in g.find(dir)? {
            outln!("{p}");
        }
    } else {
        for name in g.ls(dir)? {
            outln!("{name}");
        }
    }
    Ok(())
}

fn join(dir: &str, rel: &str) -> String {
    format!("{}/{rel}", dir.trim_end_matches('/'))
}

fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

fn file_line(g: &mut Guest, a: &LsArgs, path: &str, now: i64) -> Result<String> {
    let st = g.lstatns(path)?;
    let pad = |width: usize, text: String| match a.csv {
        true => text,
        false => format!("{text:>width$}"),
    };
    let kind = mode_string(st.st_mode).chars().next().unwrap_or('?');
    let mut fields = vec![kind.to_string(), format!("{:04o}", st.st_mode & 0o7777)];
    let size = match a.human {
        true => human(st.st_size),
        false => st.st_size.to_string(),
    };
    fields.push(pad(10, size));
    if a.uids {
        fields.push(pad(4, st.st_uid.to_string()));
        fields.push(pad(4, st.st_gid.to_string()));
    }
    if a.shows_times() {
        for secs in [st.st_atime_sec, st.st_mtime_sec, st.st_ctime_sec] {
            let text = time(secs, now, a);
            fields.push(match a.time_days {
                true => pad(3, text),
                false => text,
            });
        }
    }
    if a.extra_stats {
        let (major, minor) = dev_parts(st.st_dev);
        let (rmajor, rminor) = dev_parts(st.st_rdev);
        fields.push(format!("{major}:{minor}"));
        fields.push(st.st_ino.to_string());
        fields.push(st.st_nlink.to_string());
        fields.push(format!("{rmajor}:{rminor}"));
        fields.push(st.st_blocks.to_string());
    }
    if let Some(kind) = &a.checksum {
        if st.st_mode & 0o170000 == 0o100000 {
            fields.push(g.checksum(kind.as_str(), path)?);
        }
    }
    fields.push(path.to_string());
    if st.st_mode & 0o170000 == 0o120000 {
        let target = g.readlink(path).unwrap_or_default();
        if a.csv {
            fields.push(target);
        } else {
            fields.push(format!("-> {target}"));
        }
    }
    Ok(match a.csv {
        true => fields
            .iter()
            .map(|f| csv_field(f))
            .collect::<Vec<_>>()
            .join(","),
        false => fields.join(" "),
    })
}

/// Linux's dev_t into (major, minor).
fn dev_parts(dev: i64) -> (u64, u64) {
    let dev = dev as u64;
    let major = ((dev >> 32) & 0xffff_f000) | ((dev >> 8) & 0xfff);
    let minor = ((dev >> 12) & 0xffff_ff00) | (dev & 0xff);
    (major, minor)
}

/// `drwxr-xr-x`, with the file type letter first.
pub fn mode_string(mode: i64) -> String {
    let kind = match mode & 0o170000 {
        0o040000 => 'd',
        0o120000 => 'l',
        0o020000 => 'c',
        0o060000 => 'b',
        0o010000 => 'p',
        0o140000 => 's',
        0o100000 => '-',
        _ => '?',
    };
    let mut s = String::from(kind);
    for (shift, special, special_char) in [(6, 0o4000, 's'), (3, 0o2000, 's'), (0, 0o1000, 't')] {
        let bits = (mode >> shift) & 7;
        s.push(if bits & 4 != 0 { 'r' } else { '-' });
        s.push(if bits & 2 != 0 { 'w' } else { '-' });
        let exec = bits & 1 != 0;
        s.push(match (mode & special != 0, exec) {
            (true, true) => special_char,
            (true, false) => special_char.to_ascii_uppercase(),
            (false, true) => 'x',
            (false, false) => '-',
        });
    }
    s
}

/// A time as the options ask: days or seconds ago, seconds since the
/// epoch, or `YYYY-MM-DD HH:MM:SS` (UTC).
pub fn time(secs: i64, now: i64, a: &LsArgs) -> String {
    if a.time_t {
        return secs.to_string();
    }
    if a.time_relative {
        return (now - secs).to_string();
    }
    if a.time_days {
        return ((now - secs) / 86_400).to_string();
    }
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian.
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}
