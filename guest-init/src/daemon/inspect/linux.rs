//! Linux roots and /usr filesystems: what libguestfs's inspect_fs_unix
//! finds, read through a [`Root`] on the filesystem mounted for
//! inspection. The distribution comes from release.rs.

use guest_formats::binarch::elf_arch;
use guest_formats::fstab::{self, FstabEntry};
use guest_formats::os_release;
use guest_formats::text::lines;
use rustix::fs::{FileType, Mode, OFlags};

use super::files::{open_regular, read_prefix, read_text};
use super::release;
use super::types::OsFacts;
use crate::daemon::root::Root;

/// Config files are read up to this much (os-release is ~500 bytes).
const TEXT_CAP: usize = 64 << 10;
const FSTAB_CAP: usize = 1 << 20;
/// Binaries whose ELF header gives the architecture, as libguestfs tries.
const ARCH_BINARIES: [&str; 8] = [
    "/bin/bash",
    "/bin/ls",
    "/bin/echo",
    "/bin/rm",
    "/bin/sh",
    "/usr/bin/bash",
    "/usr/bin/ls",
    "/usr/bin/env",
];

/// What a Linux filesystem is to inspection (libguestfs's roles).
pub(super) enum LinuxFs {
    /// An OS root: its facts and its fstab.
    Root(OsFacts, Vec<FstabEntry>),
    /// A separate /usr whose facts can complete its root's; `coreos`
    /// when it is CoreOS's (mounted at /usr with no fstab entry).
    Usr { facts: OsFacts, coreos: bool },
}

/// A Linux root or /usr, by libguestfs's tests (inspect_fs.ml
/// check_filesystem): a root has `/etc`, `/bin` (or `/bin -> usr/bin`)
/// and `/etc/fstab` or `/etc/hosts`; a /usr has `bin`, `share`, `local`
/// and `src` and no `etc/fstab`. A grub /boot is neither.
pub(super) fn detect(root: &Root) -> Option<LinuxFs> {
    let file = |p: &str| open_regular(root, p).is_some();
    if file("/grub/menu.lst") || file("/grub/grub.conf") || file("/grub2/grub.cfg") {
        return None;
    }
    let dir = |p: &str| is_dir_nofollow(root, p);
    let has_fstab = file("/etc/fstab");
    let read = |p: &str| read_text(root, p, TEXT_CAP);
    if dir("/etc")
        && (dir("/bin") || symlink_target(root, "/bin").as_deref() == Some("usr/bin"))
        && (has_fstab || file("/etc/hosts"))
    {
        let release = release::detect(&read);
        let mut facts = facts_of(root, release);
        facts.hostname = hostname(root).unwrap_or_default();
        let fstab = read_text(root, "/etc/fstab", FSTAB_CAP)
            .map(|t| fstab::parse(&t))
            .unwrap_or_default();
        return Some(LinuxFs::Root(facts, fstab));
    }
    if dir("/etc") && dir("/root") && dir("/home") && dir("/usr") && file("/etc/coreos/update.conf")
    {
        let mut facts = OsFacts {
            os_type: "linux".into(),
            distro: "coreos".into(),
            ..OsFacts::default()
        };
        facts.hostname = hostname(root).unwrap_or_default();
        return Some(LinuxFs::Root(facts, Vec::new()));
    }
    if dir("/etc") && dir("/bin") && dir("/share") && !dir("/local") && !has_fstab {
        return None; // a /usr/local
    }
    if dir("/bin") && dir("/local") && dir("/share") && dir("/src") && !has_fstab {
        let facts = facts_of(root, release::detect_usr(&read));
        return Some(LinuxFs::Usr {
            facts,
            coreos: false,
        });
    }
    if dir("/bin") && dir("/share") && dir("/local") && dir("/share/coreos") {
        let mut release = release::detect_usr(&read);
        if release.product_name.is_none() {
            if let Some(text) = read("/share/coreos/lsb-release") {
                let _ = release::parse_lsb_release(&text, &mut release);
            }
        }
        release.distro = release.distro.or(Some("coreos"));
        let facts = facts_of(root, release);
        return Some(LinuxFs::Usr {
            facts,
            coreos: true,
        });
    }
    None
}

/// The facts the release files and binaries give (no hostname).
fn facts_of(root: &Root, release: release::Release) -> OsFacts {
    let (major, minor) = release.version.unwrap_or((0, 0));
    let distro = release.distro.unwrap_or_default();
    let dnf =
        open_regular(root, "/usr/bin/dnf").is_some() || open_regular(root, "/bin/dnf").is_some();
    OsFacts {
        os_type: "linux".into(),
        distro: distro.into(),
        product_name: release.product_name.unwrap_or_default(),
        major,
        minor,
        build_id: release.build_id.unwrap_or_default(),
        arch: ARCH_BINARIES
            .into_iter()
            .find_map(|b| read_prefix(root, b, 64).and_then(|h| elf_arch(&h)))
            .unwrap_or_default()
            .to_owned(),
        package_format: package_format(distro).into(),
        package_management: package_management(distro, major, dnf).into(),
        ..OsFacts::default()
    }
}

/// Whether the path is a directory itself (a symlink to one is not, as
/// libguestfs's is_dir).
fn is_dir_nofollow(root: &Root, path: &str) -> bool {
    root.open_str(path, OFlags::PATH | OFlags::NOFOLLOW, Mode::empty())
        .ok()
        .and_then(|fd| rustix::fs::fstat(&fd).ok())
        .is_some_and(|st| FileType::from_raw_mode(st.st_mode) == FileType::Directory)
}

/// A symlink's target as written, None when the path is not a symlink.
fn symlink_target(root: &Root, path: &str) -> Option<String> {
    let fd = root
        .open_str(path, OFlags::PATH | OFlags::NOFOLLOW, Mode::empty())
        .ok()?;
    let target = rustix::fs::readlinkat(&fd, "", Vec::new()).ok()?;
    target.into_string().ok()
}

/// /etc/HOSTNAME, /etc/hostname, then HOSTNAME in /etc/sysconfig/network,
/// as libguestfs looks (the first line that is not a comment).
fn hostname(root: &Root) -> Option<String> {
    let first = |p: &str| {
        let text = read_text(root, p, TEXT_CAP)?;
        let line = lines(&text)
            .map(str::trim)
            .find(|l| !l.is_empty() && !l.starts_with('#'))?
            .to_owned();
        Some(line)
    };
    let sysconfig = || {
        let text = read_text(root, "/etc/sysconfig/network", TEXT_CAP)?;
        let fields = os_release::parse(&text);
        let (_, v) = fields.into_iter().rev().find(|(k, _)| k == "HOSTNAME")?;
        Some(v)
    };
    let name = first("/etc/HOSTNAME")
        .or_else(|| first("/etc/hostname"))
        .or_else(sysconfig)?;
    Some(name.chars().take(255).collect())
}

/// libguestfs's check_package_format ("" when unknown).
pub(super) fn package_format(distro: &str) -> &'static str {
    match distro {
        "altlinux" | "centos" | "rocky" | "almalinux" | "fedora" | "mageia" | "mandriva"
        | "meego" | "neokylin" | "openmandriva" | "opensuse" | "oraclelinux" | "redhat-based"
        | "rhel" | "scientificlinux" | "sles" | "suse-based" | "circle" => "rpm",
        "debian" | "kalilinux" | "kylin" | "linuxmint" | "ubuntu" => "deb",
        "archlinux" => "pacman",
        "gentoo" => "ebuild",
        "pardus" => "pisi",
        "alpinelinux" => "apk",
        "voidlinux" => "xbps",
        _ => "",
    }
}

/// libguestfs's check_package_management ("" when unknown): Fedora 22+
/// says dnf only when /usr/bin/dnf is there; the RHEL family by major
/// version.
pub(super) fn package_management(distro: &str, major: i64, has_dnf: bool) -> &'static str {
    match distro {
        "meego" => "yum",
        "fedora" if major >= 22 && has_dnf => "dnf",
        "fedora" if major >= 1 => "yum",
        "neokylin" | "openmandriva" => "dnf",
        "centos" | "rocky" | "almalinux" | "oraclelinux" | "redhat-based" | "rhel"
        | "scientificlinux" | "circle" => match major {
            8.. => "dnf",
            5..=7 => "yum",
            2..=4 => "up2date",
            _ => "",
        },
        "altlinux" | "debian" | "kalilinux" | "kylin" | "linuxmint" | "ubuntu" => "apt",
        "archlinux" => "pacman",
        "gentoo" => "portage",
        "pardus" => "pisi",
        "mageia" | "mandriva" => "urpmi",
        "opensuse" | "sles" | "suse-based" => "zypper",
        "alpinelinux" => "apk",
        "voidlinux" => "xbps",
        _ => "",
    }
}
