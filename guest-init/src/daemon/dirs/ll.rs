//! `ll`: an `ls -la`-style listing made in the daemon (there is no ls in
//! the appliance). Numeric owners, UTC times.

use std::os::unix::ffi::OsStrExt;

use protocol::types::Pathname;
use protocol::ErrorReply;
use rustix::fs::{AtFlags, FileType};

use super::entries::{open_dir, read_entries};
use crate::daemon::root::Root;
use crate::daemon::util::{errno_reply, Budget};

struct Row {
    mode: String,
    nlink: String,
    uid: String,
    gid: String,
    size: String,
    time: String,
    name: String,
}

pub(super) fn long_listing(root: &Root, path: &Pathname) -> Result<String, ErrorReply> {
    let shown = path.as_str();
    let dir = open_dir(root, path)?;
    let here = rustix::fs::fstat(&dir).map_err(|e| errno_reply("stat", shown, e))?;
    // The guest's `/..` is `/` (as in a chroot), not the appliance
    // directory above it.
    let root_dir = root.dir()?;
    let root_st = rustix::fs::fstat(&root_dir).map_err(|e| errno_reply("stat", "/", e))?;
    let at_root = here.st_dev == root_st.st_dev && here.st_ino == root_st.st_ino;

    let mut entries = read_entries(&dir, shown)?;
    entries.sort_unstable_by(|a, b| a.name.as_bytes().cmp(b.name.as_bytes()));
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let mut budget = Budget::new("ll", shown);
    let mut rows = Vec::with_capacity(entries.len());
    let mut total_blocks: u64 = 0;
    for entry in &entries {
        let st = if entry.name == ".." && at_root {
            here
        } else {
            let display = format!(
                "{}/{}",
                shown.trim_end_matches('/'),
                entry.name.to_string_lossy()
            );
            rustix::fs::statat(&dir, &entry.name, AtFlags::SYMLINK_NOFOLLOW)
                .map_err(|e| errno_reply("lstat", &display, e))?
        };
        total_blocks = total_blocks.saturating_add(st.st_blocks as u64);
        let mut name = String::from_utf8_lossy(entry.name.as_bytes()).into_owned();
        let ftype = FileType::from_raw_mode(st.st_mode);
        if ftype == FileType::Symlink {
            if let Ok(target) = rustix::fs::readlinkat(&dir, &entry.name, Vec::new()) {
                name.push_str(" -> ");
                name.push_str(&String::from_utf8_lossy(target.as_bytes()));
            }
        }
        let size = if matches!(ftype, FileType::BlockDevice | FileType::CharacterDevice) {
            let rdev = st.st_rdev as u64;
            format!("{}, {}", rustix::fs::major(rdev), rustix::fs::minor(rdev))
        } else {
            st.st_size.to_string()
        };
        let row = Row {
            mode: mode_string(st.st_mode),
            nlink: st.st_nlink.to_string(),
            uid: st.st_uid.to_string(),
            gid: st.st_gid.to_string(),
            size,
            time: format_time(st.st_mtime as i64, now),
            name,
        };
        budget.add_raw(row_len(&row) + 8)?;
        rows.push(row);
    }

    let width = |f: fn(&Row) -> &String| rows.iter().map(|r| f(r).len()).max().unwrap_or(0);
    let (wn, wu, wg, ws) = (
        width(|r| &r.nlink),
        width(|r| &r.uid),
        width(|r| &r.gid),
        width(|r| &r.size),
    );
    // st_blocks counts 512-byte units; ls prints 1 KiB ones.
    let mut out = format!("total {}\n", total_blocks.div_ceil(2));
    for r in &rows {
        out.push_str(&format!(
            "{} {:>wn$} {:<wu$} {:<wg$} {:>ws$} {} {}\n",
            r.mode, r.nlink, r.uid, r.gid, r.size, r.time, r.name
        ));
    }
    Ok(out)
}

fn row_len(r: &Row) -> usize {
    r.mode.len()
        + r.nlink.len()
        + r.uid.len()
        + r.gid.len()
        + r.size.len()
        + r.time.len()
        + r.name.len()
}

/// `drwxr-xr-x`, with s/S and t/T for the set-id and sticky bits.
pub(super) fn mode_string(mode: u32) -> String {
    let kind = match FileType::from_raw_mode(mode) {
        FileType::Directory => 'd',
        FileType::Symlink => 'l',
        FileType::CharacterDevice => 'c',
        FileType::BlockDevice => 'b',
        FileType::Fifo => 'p',
        FileType::Socket => 's',
        FileType::RegularFile => '-',
        FileType::Unknown => '?',
    };
    let bit = |mask: u32, c: char| if mode & mask != 0 { c } else { '-' };
    let special = |x: u32, s: u32, set: char| match (mode & x != 0, mode & s != 0) {
        (true, true) => set,
        (false, true) => set.to_ascii_uppercase(),
        (true, false) => 'x',
        (false, false) => '-',
    };
    [
        kind,
        bit(0o400, 'r'),
        bit(0o200, 'w'),
        special(0o100, 0o4000, 's'),
        bit(0o040, 'r'),
        bit(0o020, 'w'),
        special(0o010, 0o2000, 's'),
        bit(0o004, 'r'),
        bit(0o002, 'w'),
        special(0o001, 0o1000, 't'),
    ]
    .iter()
    .collect()
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// (year, month 1-12, day) of a day count since 1970-01-01 (Howard
/// Hinnant's civil_from_days).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// ls's time column in UTC: `Jan  2 10:04` within six months of `now`,
/// `Jan  2  2019` otherwise.
pub(super) fn format_time(secs: i64, now: i64) -> String {
    let (year, month, day) = civil_from_days(secs.div_euclid(86_400));
    let of_day = secs.rem_euclid(86_400);
    let mon = MONTHS
        .get((month as usize).wrapping_sub(1))
        .copied()
        .unwrap_or("???");
    let six_months = 365 * 86_400 / 2;
    if secs > now - six_months && secs <= now + 60 {
        format!(
            "{mon} {day:>2} {:02}:{:02}",
            of_day / 3600,
            of_day % 3600 / 60
        )
    } else {
        format!("{mon} {day:>2} {year:>5}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_and_times() {
        assert_eq!(mode_string(0o040755), "drwxr-xr-x");
        assert_eq!(mode_string(0o104755), "-rwsr-xr-x");
        assert_eq!(mode_string(0o102644), "-rw-r-Sr--");
        assert_eq!(mode_string(0o041777), "drwxrwxrwt");
        assert_eq!(mode_string(0o120777), "lrwxrwxrwx");
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(19_723), (2024, 1, 1));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
        let now = 1_704_110_400; // 2024-01-01 12:00
        assert_eq!(format_time(now - 3600, now), "Jan  1 11:00");
        assert_eq!(format_time(0, now), "Jan  1  1970");
    }
}
