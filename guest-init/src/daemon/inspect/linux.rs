//! Linux roots: what libguestfs's inspect_fs_unix finds, read through a
//! [`Root`] on the filesystem mounted for inspection.

use guest_formats::binarch::elf_arch;
use guest_formats::fstab::{self, FstabEntry};
use guest_formats::os_release::{self, parse_version};
use guest_formats::text::lines;

use super::files::{exists, is_dir, read_prefix, read_text};
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

/// The facts of a Linux root and its fstab, or None when the filesystem
/// is not one: it needs `/etc`, an os-release (or an older release file)
/// and `/bin` or `/usr`.
pub(super) fn detect(root: &Root) -> Option<(OsFacts, Vec<FstabEntry>)> {
    if !is_dir(root, "/etc") || !(exists(root, "/bin") || exists(root, "/usr")) {
        return None;
    }
    let mut facts = OsFacts {
        os_type: "linux".into(),
        distro: "unknown".into(),
        ..OsFacts::default()
    };
    let os_release = ["/etc/os-release", "/usr/lib/os-release"]
        .into_iter()
        .find_map(|p| read_text(root, p, TEXT_CAP));
    if let Some(text) = os_release {
        apply_os_release(&mut facts, &text);
    } else if !legacy_release(root, &mut facts) {
        return None;
    }
    if facts.distro == "debian" {
        if let Some(v) = read_text(root, "/etc/debian_version", 256) {
            debian_version(&mut facts, v.trim());
        }
    }
    facts.hostname = hostname(root).unwrap_or_default();
    facts.arch = ARCH_BINARIES
        .into_iter()
        .find_map(|b| read_prefix(root, b, 64).and_then(|h| elf_arch(&h)))
        .unwrap_or("unknown")
        .to_owned();
    facts.package_format = package_format(&facts.distro).into();
    facts.package_management = package_management(&facts.distro, facts.major).into();
    let fstab = read_text(root, "/etc/fstab", FSTAB_CAP)
        .map(|t| fstab::parse(&t))
        .unwrap_or_default();
    Some((facts, fstab))
}

fn apply_os_release(facts: &mut OsFacts, text: &str) {
    let fields = os_release::parse(text);
    let get = |k: &str| {
        fields
            .iter()
            .rev()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.as_str())
    };
    let id = get("ID").unwrap_or_default().to_ascii_lowercase();
    let like = get("ID_LIKE").unwrap_or_default().to_ascii_lowercase();
    facts.distro = distro_of(&id, &like).into();
    facts.product_name = get("PRETTY_NAME")
        .or(get("NAME"))
        .unwrap_or_default()
        .to_owned();
    let (major, minor) = parse_version(get("VERSION_ID").unwrap_or_default());
    (facts.major, facts.minor) = (major, minor);
}

/// os-release's ID (or ID_LIKE) as libguestfs names the distribution.
pub(super) fn distro_of(id: &str, like: &str) -> &'static str {
    match id {
        "almalinux" => "almalinux",
        "alpine" => "alpinelinux",
        "altlinux" => "altlinux",
        "arch" | "archarm" => "archlinux",
        "centos" => "centos",
        "circle" => "circle",
        "coreos" => "coreos",
        "debian" => "debian",
        "fedora" => "fedora",
        "frugalware" => "frugalware",
        "gentoo" => "gentoo",
        "kali" => "kalilinux",
        "kylin" => "kylin",
        "linuxmint" => "linuxmint",
        "mageia" => "mageia",
        "neokylin" => "neokylin",
        "openmandriva" => "openmandriva",
        "ol" => "oraclelinux",
        "opensuse"
        | "opensuse-leap"
        | "opensuse-tumbleweed"
        | "opensuse-microos"
        | "opensuse-slowroll" => "opensuse",
        "pardus" => "pardus",
        "pld" => "pldlinux",
        "rhel" => "rhel",
        "rocky" => "rocky",
        "scientific" => "scientificlinux",
        "sles" | "sled" | "sle-micro" => "sles",
        "ubuntu" => "ubuntu",
        "void" => "voidlinux",
        "cirros" => "cirros",
        "buildroot" => "buildroot",
        "slackware" => "slackware",
        _ => {
            let words: Vec<&str> = like.split_whitespace().collect();
            if words
                .iter()
                .any(|w| matches!(*w, "rhel" | "fedora" | "centos"))
            {
                "redhat-based"
            } else if words.iter().any(|w| w.starts_with("suse")) {
                "suse-based"
            } else {
                "unknown"
            }
        }
    }
}

/// `/etc/debian_version` ("12.7") gives Debian's minor version.
fn debian_version(facts: &mut OsFacts, v: &str) {
    let (major, minor) = parse_version(v);
    if major == 0 {
        return;
    }
    if facts.major == 0 || facts.major == major {
        (facts.major, facts.minor) = (major, minor);
    }
}

/// Systems older than os-release: the release files libguestfs reads.
fn legacy_release(root: &Root, facts: &mut OsFacts) -> bool {
    let first_line = |p: &str| {
        read_text(root, p, TEXT_CAP).map(|t| lines(&t).next().unwrap_or_default().trim().to_owned())
    };
    if let Some(line) = first_line("/etc/redhat-release") {
        facts.distro = if line.starts_with("Fedora") {
            "fedora"
        } else if line.starts_with("CentOS") {
            "centos"
        } else if line.starts_with("Red Hat Enterprise Linux") {
            "rhel"
        } else {
            "redhat-based"
        }
        .into();
        let version = line.split(" release ").nth(1).unwrap_or_default();
        (facts.major, facts.minor) = parse_version(version);
        facts.product_name = line;
    } else if let Some(line) = first_line("/etc/debian_version") {
        facts.distro = "debian".into();
        facts.product_name = format!("Debian {line}");
    } else if let Some(line) = first_line("/etc/alpine-release") {
        facts.distro = "alpinelinux".into();
        (facts.major, facts.minor) = parse_version(&line);
        facts.product_name = format!("Alpine Linux {line}");
    } else if exists(root, "/etc/arch-release") {
        facts.distro = "archlinux".into();
        facts.product_name = "Arch Linux".into();
    } else {
        return false;
    }
    true
}

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
    let name = first("/etc/hostname")
        .or_else(|| first("/etc/HOSTNAME"))
        .or_else(sysconfig)?;
    Some(name.chars().take(255).collect())
}

pub(super) fn package_format(distro: &str) -> &'static str {
    match distro {
        "fedora" | "rhel" | "centos" | "rocky" | "almalinux" | "scientificlinux"
        | "oraclelinux" | "redhat-based" | "opensuse" | "sles" | "suse-based" | "mageia"
        | "mandriva" | "openmandriva" | "altlinux" | "circle" => "rpm",
        "debian" | "ubuntu" | "linuxmint" | "kalilinux" => "deb",
        "archlinux" => "pacman",
        "gentoo" => "ebuild",
        "pardus" => "pisi",
        "alpinelinux" => "apk",
        "voidlinux" => "xbps",
        _ => "unknown",
    }
}

pub(super) fn package_management(distro: &str, major: i64) -> &'static str {
    match distro {
        "fedora" if major >= 22 => "dnf",
        "fedora" => "yum",
        "rhel" | "centos" | "rocky" | "almalinux" | "scientificlinux" | "oraclelinux"
        | "redhat-based" | "circle"
            if major >= 8 =>
        {
            "dnf"
        }
        "rhel" | "centos" | "rocky" | "almalinux" | "scientificlinux" | "oraclelinux"
        | "redhat-based" | "circle" => "yum",
        "opensuse" | "sles" | "suse-based" => "zypper",
        "debian" | "ubuntu" | "linuxmint" | "kalilinux" | "altlinux" => "apt",
        "archlinux" => "pacman",
        "gentoo" => "portage",
        "pardus" => "pisi",
        "mageia" | "mandriva" => "urpmi",
        "openmandriva" => "dnf",
        "alpinelinux" => "apk",
        "voidlinux" => "xbps",
        _ => "unknown",
    }
}
