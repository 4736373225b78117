//! /etc/fstab: its entries, and their devices resolved to the
//! appliance's (by the UUIDs and labels our prober read), as libguestfs's
//! inspect_fs_unix_fstab does. Anything that is not a block device
//! filesystem (tmpfs, proc, nfs, bind mounts) is left out, as are
//! entries naming a device we cannot find.

use super::scan::FsDevice;

/// Lines of fstab looked at, at most.
const MAX_ENTRIES: usize = 4096;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct FstabEntry {
    pub(super) spec: String,
    pub(super) mountpoint: String,
    pub(super) vfstype: String,
}

impl FstabEntry {
    pub(super) fn is_swap(&self) -> bool {
        self.vfstype == "swap"
    }

    /// A mountpoint inspection reports: an absolute path, not one of the
    /// pseudo or removable-media trees libguestfs skips.
    pub(super) fn is_reported_mount(&self) -> bool {
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
pub(super) fn parse(text: &str) -> Vec<FstabEntry> {
    super::files::lines(text)
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

/// The appliance device an fstab spec names, if we have it.
pub(super) fn resolve(spec: &str, devices: &[FsDevice]) -> Option<String> {
    let unquote = |v: &str| v.trim_matches('"').trim_matches('\'').to_owned();
    let by = |pred: &dyn Fn(&FsDevice) -> bool| {
        devices.iter().find(|d| pred(d)).map(|d| d.device.clone())
    };
    let uuid = |u: String| by(&|d| !d.uuid.is_empty() && d.uuid.eq_ignore_ascii_case(&u));
    let label = |l: String| by(&|d| !d.label.is_empty() && d.label == l);
    if let Some(u) = spec.strip_prefix("UUID=") {
        return uuid(unquote(u));
    }
    if let Some(l) = spec.strip_prefix("LABEL=") {
        return label(unquote(l));
    }
    if let Some(u) = spec.strip_prefix("/dev/disk/by-uuid/") {
        return uuid(u.to_owned());
    }
    if let Some(l) = spec.strip_prefix("/dev/disk/by-label/") {
        return label(l.replace("\\x20", " "));
    }
    // PARTUUID=, PARTLABEL= and /dev/disk/by-* others: our prober does not
    // read partition-table names; such entries are left out.
    let name = spec.strip_prefix("/dev/")?;
    if let Some(d) = by(&|d| d.device == spec) {
        return Some(d);
    }
    // The guest may call the disk hda, vda or xvda where the appliance
    // has sda (libguestfs's resolve_xdev).
    let letters_at = ["xvd", "hd", "vd", "sd"]
        .into_iter()
        .find_map(|p| name.strip_prefix(p))?;
    ["sd", "vd", "hd", "xvd"]
        .into_iter()
        .find_map(|p| by(&|d| d.device == format!("/dev/{p}{letters_at}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dev(device: &str, uuid: &str, label: &str) -> FsDevice {
        FsDevice {
            device: device.into(),
            fstype: "ext4".into(),
            uuid: uuid.into(),
            label: label.into(),
        }
    }

    #[test]
    fn parses_and_resolves() {
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
        let devices = [
            dev("/dev/sda1", "abcd-1", ""),
            dev("/dev/sdb", "", "boot fs"),
            dev("/dev/sdc1", "", ""),
        ];
        let r = |s: &str| resolve(s, &devices);
        assert_eq!(r(&entries[0].spec).as_deref(), Some("/dev/sda1"));
        assert_eq!(r(&entries[1].spec).as_deref(), Some("/dev/sdb"));
        assert_eq!(r("/dev/vdc1").as_deref(), Some("/dev/sdc1"));
        assert_eq!(r("/dev/disk/by-uuid/ABCD-1").as_deref(), Some("/dev/sda1"));
        assert_eq!(r("UUID=nope"), None);
        assert_eq!(r("PARTUUID=1234"), None);
        assert_eq!(r("tmpfs"), None);
        assert_eq!(r("/dev/mapper/vg-root"), None);
        assert_eq!(unescape("a\\040b\\\\c\\9"), "a b\\\\c\\9");
    }
}
