//! /etc/fstab's entries, as libguestfs's inspect_fs_unix_fstab reads
//! them: the spec, mountpoint and type of each line, `\040`-style escapes
//! decoded, bind mounts left out, and which entries inspection reports
//! as mountpoints (block-device filesystems, not tmpfs, proc, nfs…).
//! Resolving the specs to devices is the caller's (it knows the disks).
//! The file is hostile: at most [`MAX_ENTRIES`] lines are looked at,
//! garbage lines are skipped.

use crate::text::lines;

/// Lines of fstab looked at, at most.
pub const MAX_ENTRIES: usize = 4096;

/// One fstab line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FstabEntry {
    /// The device: `UUID=…`, `LABEL=…`, `/dev/sda1`…, unescaped.
    pub spec: String,
    /// Where it is mounted, unescaped and tidied (`/boot/` → `/boot`).
    pub mountpoint: String,
    /// The filesystem type, lowercased.
    pub vfstype: String,
    /// The mount options, unescaped ("" when the field is absent).
    pub options: String,
}

impl FstabEntry {
    /// The btrfs subvolume the entry mounts (`subvol=root` or
    /// `subvol=/root`: "root"), if any.
    pub fn btrfs_subvol(&self) -> Option<&str> {
        if self.vfstype != "btrfs" {
            return None;
        }
        let subvol = self
            .options
            .split(',')
            .find_map(|o| o.strip_prefix("subvol="))?
            .trim_start_matches('/');
        (!subvol.is_empty()).then_some(subvol)
    }
}

impl FstabEntry {
    /// A swap entry.
    pub fn is_swap(&self) -> bool {
        self.vfstype == "swap"
    }

    /// A mountpoint inspection reports: an absolute path, not one of the
    /// pseudo or removable-media trees libguestfs skips.
    pub fn is_reported_mount(&self) -> bool {
        let mp = self.mountpoint.as_str();
        let under = |top: &str| mp == top || mp.starts_with(&format!("{top}/"));
        mp.starts_with('/')
            && !["/dev", "/proc", "/sys", "/selinux", "/media", "/run"]
                .into_iter()
                .any(under)
            && !PSEUDO_TYPES.contains(&self.vfstype.as_str())
            && !self.vfstype.starts_with("fuse")
            && !self.vfstype.starts_with("nfs")
    }
}

const PSEUDO_TYPES: [&str; 22] = [
    "swap",
    "proc",
    "sysfs",
    "tmpfs",
    "devpts",
    "devtmpfs",
    "cifs",
    "smbfs",
    "smb3",
    "sshfs",
    "autofs",
    "binfmt_misc",
    "cgroup",
    "cgroup2",
    "debugfs",
    "securityfs",
    "tracefs",
    "hugetlbfs",
    "mqueue",
    "pstore",
    "efivarfs",
    "none",
];

/// fstab's fields, with `\040`-style octal escapes decoded.
pub fn parse(text: &str) -> Vec<FstabEntry> {
    lines(text)
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .take(MAX_ENTRIES)
        .filter_map(|line| {
            let mut fields = line.split_whitespace();
            let (spec, mountpoint, vfstype) = (fields.next()?, fields.next()?, fields.next()?);
            let options = fields.next().unwrap_or_default();
            if options.split(',').any(|o| o == "bind" || o == "rbind") {
                return None;
            }
            Some(FstabEntry {
                spec: unescape(spec),
                mountpoint: tidy(&unescape(mountpoint)),
                vfstype: vfstype.to_ascii_lowercase(),
                options: unescape(options),
            })
        })
        .collect()
}

/// `\NNN` octal escapes (`\040` is a space).
fn unescape(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let octal = bytes
            .get(i + 1..i + 4)
            .filter(|d| d.iter().all(|c| (b'0'..=b'7').contains(c)))
            .map(|d| d.iter().fold(0u32, |acc, c| acc * 8 + u32::from(c - b'0')));
        match octal {
            Some(v) if b == b'\\' && v <= 0xFF => {
                out.push(v as u8);
                i += 4;
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `/boot/` → `/boot`, `//` and `.` components dropped.
fn tidy(path: &str) -> String {
    if !path.starts_with('/') {
        return path.to_owned();
    }
    let parts: Vec<&str> = path
        .split('/')
        .filter(|c| !c.is_empty() && *c != ".")
        .collect();
    format!("/{}", parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_entries() {
        let text = "# comment\n\
            UUID=AbCd-1 / ext4 defaults 0 1\n\
            LABEL=\"boot\\040fs\" /boot/ ext4 defaults 0 2\n\
            /dev/vdc1 none swap sw 0 0\n\
            tmpfs /tmp tmpfs defaults 0 0\n\
            /srv /var/srv none bind 0 0\n\
            proc /proc proc defaults\n\
            garbage\n\
            \u{1}\u{2} \u{3}\n";
        let entries = parse(text);
        assert_eq!(entries.len(), 5, "{entries:?}");
        assert_eq!(entries[1].spec, "LABEL=\"boot fs\"");
        assert_eq!(entries[1].mountpoint, "/boot");
        assert!(entries[0].is_reported_mount() && entries[1].is_reported_mount());
        assert!(entries[2].is_swap() && !entries[2].is_reported_mount());
        assert!(!entries[3].is_reported_mount() && !entries[4].is_reported_mount());
        assert_eq!(unescape("a\\040b\\\\c\\9"), "a b\\\\c\\9");
    }
}
