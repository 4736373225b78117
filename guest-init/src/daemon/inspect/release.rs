//! Which Linux distribution a root is, from its release files, with
//! libguestfs's precedence (daemon/inspect_fs_unix.ml): the files are
//! tried in a fixed order and the first parser that succeeds wins, while
//! what a failed parser found stays (Debian's os-release gives the name
//! and major version, then `/etc/debian_version` the full version).
//!
//! The files are hostile: each is read through the caller's bounded
//! reader, only split and matched, never evaluated.

use guest_formats::os_release;
use guest_formats::text::lines;
use regex::Regex;

/// What the release files say. None is "not found" (libguestfs's
/// option), so a later file or a separate /usr can fill it in.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(super) struct Release {
    pub(super) distro: Option<&'static str>,
    pub(super) product_name: Option<String>,
    pub(super) version: Option<(i64, i64)>,
    pub(super) build_id: Option<String>,
}

/// Reads a small guest file (following symlinks inside the guest); None
/// when it is not a regular file.
pub(super) type ReadFile<'a> = &'a dyn Fn(&str) -> Option<String>;

/// How one release file is parsed.
enum Parser {
    OsRelease,
    LsbRelease,
    SuseRelease,
    /// The first line is the product name; with a pattern, it must match
    /// and gives (major, minor).
    Generic(&'static str, Option<&'static str>),
    /// The file's existence is enough.
    Exists(&'static str),
    /// Buildroot's br-version, or CirrOS when its logo is there.
    BuildrootOrCirros,
}

const RHEL_OLD: &str = r"Red Hat.*release (\d+).*Update (\d+)";
const RHEL: &str = r"Red Hat.*release (\d+)\.(\d+)";
const RHEL_NO_MINOR: &str = r"Red Hat.*release (\d+)";
const CENTOS_OLD: &str = r"CentOS.*release (\d+).*Update (\d+)";
const CENTOS: &str = r"CentOS.*release (\d+)\.(\d+)";
const CENTOS_NO_MINOR: &str = r"CentOS.*release (\d+)";
const ROCKY: &str = r"Rocky Linux.*release (\d+)\.(\d+)";
const ROCKY_NO_MINOR: &str = r"Rocky Linux.*release (\d+)";
const SCIENTIFIC_OLD: &str = r"Scientific Linux.*release (\d+).*Update (\d+)";
const SCIENTIFIC: &str = r"Scientific Linux.*release (\d+)\.(\d+)";
const SCIENTIFIC_NO_MINOR: &str = r"Scientific Linux.*release (\d+)";
const ORACLE_OLD: &str = r"Oracle Linux.*release (\d+).*Update (\d+)";
const ORACLE: &str = r"Oracle Linux.*release (\d+)\.(\d+)";
const ORACLE_NO_MINOR: &str = r"Oracle Linux.*release (\d+)";

/// libguestfs's linux_root_tests, in its order.
const TESTS: &[(&str, Parser)] = &[
    ("/etc/os-release", Parser::OsRelease),
    ("/etc/lsb-release", Parser::LsbRelease),
    (
        "/etc/openmandriva-release",
        Parser::Generic("openmandriva", Some(r"OpenMandriva.*release (\d+)\.(\d+)")),
    ),
    (
        "/etc/oracle-release",
        Parser::Generic("oraclelinux", Some(ORACLE_OLD)),
    ),
    (
        "/etc/oracle-release",
        Parser::Generic("oraclelinux", Some(ORACLE)),
    ),
    (
        "/etc/oracle-release",
        Parser::Generic("oraclelinux", Some(ORACLE_NO_MINOR)),
    ),
    (
        "/etc/centos-release",
        Parser::Generic("centos", Some(CENTOS_OLD)),
    ),
    (
        "/etc/centos-release",
        Parser::Generic("centos", Some(CENTOS)),
    ),
    (
        "/etc/centos-release",
        Parser::Generic("centos", Some(CENTOS_NO_MINOR)),
    ),
    ("/etc/rocky-release", Parser::Generic("rocky", Some(ROCKY))),
    (
        "/etc/rocky-release",
        Parser::Generic("rocky", Some(ROCKY_NO_MINOR)),
    ),
    ("/etc/altlinux-release", Parser::Generic("altlinux", None)),
    (
        "/etc/redhat-release",
        Parser::Generic("fedora", Some(r"Fedora release (\d+)")),
    ),
    (
        "/etc/redhat-release",
        Parser::Generic("rhel", Some(RHEL_OLD)),
    ),
    ("/etc/redhat-release", Parser::Generic("rhel", Some(RHEL))),
    (
        "/etc/redhat-release",
        Parser::Generic("rhel", Some(RHEL_NO_MINOR)),
    ),
    (
        "/etc/redhat-release",
        Parser::Generic("centos", Some(CENTOS_OLD)),
    ),
    (
        "/etc/redhat-release",
        Parser::Generic("centos", Some(CENTOS)),
    ),
    (
        "/etc/redhat-release",
        Parser::Generic("centos", Some(CENTOS_NO_MINOR)),
    ),
    ("/etc/redhat-release", Parser::Generic("rocky", Some(ROCKY))),
    (
        "/etc/redhat-release",
        Parser::Generic("rocky", Some(ROCKY_NO_MINOR)),
    ),
    (
        "/etc/redhat-release",
        Parser::Generic("scientificlinux", Some(SCIENTIFIC_OLD)),
    ),
    (
        "/etc/redhat-release",
        Parser::Generic("scientificlinux", Some(SCIENTIFIC)),
    ),
    (
        "/etc/redhat-release",
        Parser::Generic("scientificlinux", Some(SCIENTIFIC_NO_MINOR)),
    ),
    ("/etc/redhat-release", Parser::Generic("redhat-based", None)),
    ("/etc/redhat-release", Parser::Exists("redhat-based")),
    ("/etc/debian_version", Parser::Generic("debian", None)),
    ("/etc/pardus-release", Parser::Generic("pardus", None)),
    ("/etc/arch-release", Parser::Exists("archlinux")),
    ("/etc/gentoo-release", Parser::Generic("gentoo", None)),
    ("/etc/meego-release", Parser::Generic("meego", None)),
    ("/etc/slackware-version", Parser::Generic("slackware", None)),
    ("/etc/ttylinux-target", Parser::Generic("ttylinux", None)),
    ("/etc/SuSE-release", Parser::SuseRelease),
    ("/etc/SuSE-release", Parser::Exists("suse-based")),
    ("/etc/cirros/version", Parser::Generic("cirros", None)),
    ("/etc/br-version", Parser::BuildrootOrCirros),
    ("/etc/alpine-release", Parser::Generic("alpinelinux", None)),
    (
        "/etc/frugalware-release",
        Parser::Generic("frugalware", Some(r"Frugalware (\d+)\.(\d+)")),
    ),
    (
        "/etc/pld-release",
        Parser::Generic("pldlinux", Some(r"(\d+)\.(\d+) PLD Linux")),
    ),
];

/// Distributions with no version: os-release without VERSION_ID is
/// complete for them (version 0.0).
const ROLLING: [&str; 3] = ["archlinux", "gentoo", "voidlinux"];

/// The release facts of a Linux root.
pub(super) fn detect(read: ReadFile<'_>) -> Release {
    let mut data = Release::default();
    for (path, parser) in TESTS {
        let Some(text) = read(path) else {
            continue;
        };
        let done = match parser {
            Parser::OsRelease => parse_os_release(&text, &mut data),
            Parser::LsbRelease => parse_lsb_release(&text, &mut data),
            Parser::SuseRelease => parse_suse_release(&text, &mut data),
            Parser::Generic(distro, pattern) => parse_generic(&text, distro, *pattern, &mut data),
            Parser::Exists(distro) => {
                data.distro = Some(distro);
                true
            }
            Parser::BuildrootOrCirros => {
                let distro = if read("/usr/share/cirros/logo").is_some() {
                    "cirros"
                } else {
                    "buildroot"
                };
                parse_generic(&text, distro, None, &mut data)
            }
        };
        if done {
            break;
        }
    }
    data
}

/// os-release of a separate /usr (`/usr/lib/os-release`, seen as
/// `/lib/os-release` on that filesystem): its facts, if any.
pub(super) fn detect_usr(read: ReadFile<'_>) -> Release {
    let mut data = Release::default();
    if let Some(text) = read("/lib/os-release") {
        parse_os_release(&text, &mut data);
    }
    data
}

/// os-release: complete when it names a known distribution, a product
/// name and a version (Debian's, CentOS's and Rocky's give only the
/// major version, so their release files are read for the rest).
pub(super) fn parse_os_release(text: &str, data: &mut Release) -> bool {
    for (key, value) in os_release::parse(text) {
        match key.as_str() {
            "ID" => {
                if let Some(d) = distro_of_os_release_id(&value) {
                    data.distro = Some(d);
                }
            }
            "PRETTY_NAME" => data.product_name = Some(value),
            "VERSION_ID" => parse_version_id(&value, data),
            "BUILD_ID" => data.build_id = Some(value),
            _ => {}
        }
    }
    let (Some(distro), Some(_)) = (data.distro, &data.product_name) else {
        return false;
    };
    match data.version {
        Some((_, 0)) if matches!(distro, "debian" | "centos" | "rocky") => false,
        None if ROLLING.contains(&distro) => {
            data.version = Some((0, 0));
            true
        }
        None => false,
        Some(_) => true,
    }
}

/// NeoKylin's VERSION_ID is "V7Update6"; everyone else's "X.Y" or "X".
fn parse_version_id(value: &str, data: &mut Release) {
    if let Some(c) = Regex::new(r"^V(\d+)Update(\d+)$")
        .ok()
        .and_then(|re| re.captures(value))
    {
        if let (Some(major), Some(minor)) = (number(c.get(1)), number(c.get(2))) {
            data.version = Some((major, minor));
            return;
        }
    }
    parse_major_minor(value, data);
}

/// os-release's ID as libguestfs names the distribution (None: unknown,
/// so the other release files decide).
pub(super) fn distro_of_os_release_id(id: &str) -> Option<&'static str> {
    Some(match id {
        "almalinux" => "almalinux",
        "alpine" => "alpinelinux",
        "altlinux" => "altlinux",
        "arch" => "archlinux",
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
        "ol" => "oraclelinux",
        "openmandriva" => "openmandriva",
        "opensuse" => "opensuse",
        s if s.starts_with("opensuse-") => "opensuse",
        "pardus" => "pardus",
        "pld" => "pldlinux",
        "rhel" => "rhel",
        "rocky" => "rocky",
        "sles" | "sled" => "sles",
        "ubuntu" => "ubuntu",
        "void" => "voidlinux",
        _ => return None,
    })
}

/// lsb-release (Ubuntu, Mint, Mageia, CoreOS): complete when it names a
/// known distribution or a description (RHEL 3's has only LSB_VERSION).
pub(super) fn parse_lsb_release(text: &str, data: &mut Release) -> bool {
    let mut ok = false;
    for (key, value) in os_release::parse(text) {
        match key.as_str() {
            "DISTRIB_ID" => {
                let distro = match value.as_str() {
                    "CoreOS" => "coreos",
                    "LinuxMint" => "linuxmint",
                    "Mageia" => "mageia",
                    "Ubuntu" => "ubuntu",
                    _ => continue,
                };
                data.distro = Some(distro);
                ok = true;
            }
            "DISTRIB_RELEASE" => parse_major_minor(&value, data),
            "DISTRIB_DESCRIPTION" => {
                data.product_name = Some(value);
                ok = true;
            }
            _ => {}
        }
    }
    ok
}

/// Old SUSE: the product on the first line, then `VERSION = N` and
/// `PATCHLEVEL = N` (SLES) or a version line (openSUSE).
fn parse_suse_release(text: &str, data: &mut Release) -> bool {
    let all: Vec<&str> = lines(text).collect();
    let Some(first) = all.first() else {
        return false;
    };
    data.product_name = Some((*first).to_owned());
    let field = |i: usize, pattern: &str| {
        let line = all.get(i)?;
        let c = Regex::new(pattern).ok()?.captures(line)?;
        number(c.get(1))
    };
    if first.starts_with("SUSE Linux Enterprise ")
        || first.starts_with("SUSE LINUX Enterprise ")
        || first.starts_with("Novell Linux Desktop ")
    {
        let major = field(1, r"^VERSION = (\d+)");
        let minor = field(2, r"^PATCHLEVEL = (\d+)");
        data.distro = Some("sles");
        data.version = major.map(|m| (m, minor.unwrap_or(0)));
    } else if ["openSUSE ", "SuSE Linux ", "SUSE LINUX "]
        .iter()
        .any(|p| first.starts_with(p))
    {
        if let Some(line) = all.get(1) {
            parse_major_minor(line, data);
        }
        data.distro = Some("opensuse");
    }
    true
}

/// A one-line release file: its first line is the product name. With a
/// pattern the line must match it, and its groups are the version.
fn parse_generic(
    text: &str,
    distro: &'static str,
    pattern: Option<&str>,
    data: &mut Release,
) -> bool {
    let first = lines(text).next().unwrap_or_default();
    if first.is_empty() {
        return false;
    }
    data.product_name = Some(first.to_owned());
    data.distro = Some(distro);
    let Some(pattern) = pattern else {
        parse_major_minor(first, data);
        return true;
    };
    let Some(c) = Regex::new(pattern).ok().and_then(|re| re.captures(first)) else {
        return false;
    };
    if let Some(major) = number(c.get(1)) {
        data.version = Some((major, number(c.get(2)).unwrap_or(0)));
    }
    true
}

/// The first "X.Y" in the text, else the first number "X" (X.0); the
/// version stays as it was when there is neither.
pub(super) fn parse_major_minor(text: &str, data: &mut Release) {
    let pair = Regex::new(r"(\d+)\.(\d+)")
        .ok()
        .and_then(|re| re.captures(text));
    if let Some(c) = pair {
        if let (Some(major), Some(minor)) = (number(c.get(1)), number(c.get(2))) {
            data.version = Some((major, minor));
            return;
        }
    }
    let single = Regex::new(r"(\d+)").ok().and_then(|re| re.captures(text));
    if let Some(major) = single.and_then(|c| number(c.get(1))) {
        data.version = Some((major, 0));
    }
}

/// A matched group as a number; None when it overflows.
fn number(m: Option<regex::Match<'_>>) -> Option<i64> {
    m?.as_str().parse().ok()
}
