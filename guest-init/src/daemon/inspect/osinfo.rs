//! inspect_get_osinfo: the libosinfo short ID of an inspected OS, by
//! libguestfs's rules (lib/inspect-osinfo.c): per-distribution version
//! formats for Linux, version and variant for Windows, else
//! "DISTRO<major>.<minor>" when there is a version, else "unknown".

use super::types::OsFacts;

/// How a Linux distribution's ID carries its version.
#[derive(Clone, Copy)]
enum Format {
    /// archlinux: no version.
    Rolling,
    /// fedora42, debian12.
    MajorOnly,
    /// ubuntu22.04.
    Ubuntu,
    /// sles12, sle15sp5.
    Suse,
    /// rhel9, centos7.0, rhel6.10.
    RhelLike,
    /// alt9.2, altlinux7.1.
    Alt,
}

/// (distro, format, lowest major version the format applies to).
const LINUX: &[(&str, Format, i64)] = &[
    ("fedora", Format::MajorOnly, 0),
    ("ubuntu", Format::Ubuntu, 0),
    ("debian", Format::MajorOnly, 4),
    ("rhel", Format::RhelLike, 6),
    ("centos", Format::RhelLike, 6),
    ("rocky", Format::RhelLike, 8),
    ("almalinux", Format::RhelLike, 8),
    ("oraclelinux", Format::RhelLike, 6),
    ("eurolinux", Format::RhelLike, 8),
    ("circle", Format::RhelLike, 8),
    ("sles", Format::Suse, 0),
    ("archlinux", Format::Rolling, 0),
    ("gentoo", Format::Rolling, 0),
    ("voidlinux", Format::Rolling, 0),
    ("mageia", Format::MajorOnly, 0),
    ("altlinux", Format::Alt, 0),
    ("mandriva", Format::MajorOnly, 0),
    ("openmandriva", Format::MajorOnly, 0),
    ("scientificlinux", Format::RhelLike, 6),
];

/// (major, minor, server ID, client ID) for Windows before 10.
const WINDOWS: &[(i64, i64, Option<&str>, &str)] = &[
    (5, 1, None, "winxp"),
    (5, 2, Some("win2k3"), "winxp"),
    (6, 0, Some("win2k8"), "winvista"),
    (6, 1, Some("win2k8r2"), "win7"),
    (6, 2, Some("win2k12"), "win8"),
    (6, 3, Some("win2k12r2"), "win8.1"),
];

pub(super) fn short_id(f: &OsFacts) -> String {
    let specific = match f.os_type.as_str() {
        "linux" => linux(&f.distro, f.major, f.minor),
        "windows" => windows(f),
        _ => None,
    };
    specific
        .or_else(|| {
            (!f.distro.is_empty() && f.distro != "unknown" && f.major > 0)
                .then(|| format!("{}{}.{}", f.distro, f.major, f.minor))
        })
        .unwrap_or_else(|| "unknown".into())
}

fn linux(distro: &str, major: i64, minor: i64) -> Option<String> {
    let (_, format, _) = LINUX
        .iter()
        .find(|(d, _, min)| *d == distro && !(major > 0 && *min > 0 && major < *min))?;
    match format {
        Format::Rolling => Some(distro.to_owned()),
        Format::MajorOnly => (major > 0).then(|| format!("{distro}{major}")),
        Format::Ubuntu => Some(format!("{distro}{major}.{minor:02}")),
        Format::Suse => {
            let base = if major >= 15 || (major == 12 && minor >= 1) {
                "sle"
            } else {
                "sles"
            };
            Some(if minor == 0 {
                format!("{base}{major}")
            } else {
                format!("{base}{major}sp{minor}")
            })
        }
        Format::RhelLike => match major {
            8.. => Some(format!("{distro}{major}")),
            7 => Some(format!("{distro}7.0")),
            6 => Some(format!("{distro}6.{minor}")),
            _ => None,
        },
        Format::Alt if major >= 8 => Some(format!("alt{major}.{minor}")),
        Format::Alt => Some(format!("{distro}{major}.{minor}")),
    }
}

fn windows(f: &OsFacts) -> Option<String> {
    let server = f.product_variant.contains("Server");
    let name = &f.product_name;
    let id = match (f.major, f.minor) {
        (10, 0) if server => {
            if name.contains("2025") {
                "win2k25"
            } else if name.contains("2022") {
                "win2k22"
            } else if name.contains("2019") {
                "win2k19"
            } else {
                "win2k16"
            }
        }
        (10, 0) => match f.build_id.parse::<u32>() {
            Ok(build) if build >= 22000 => "win11",
            _ => "win10",
        },
        (5, 2) if !server && name.contains("XP") => "winxp",
        (5, 2) if !server && name.contains("R2") => "win2k3r2",
        (5, 2) if !server => "win2k3",
        (major, minor) => {
            let (_, _, server_id, client_id) = WINDOWS
                .iter()
                .find(|(a, b, _, _)| (*a, *b) == (major, minor))?;
            if server {
                (*server_id)?
            } else {
                client_id
            }
        }
    };
    Some(id.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(os_type: &str, distro: &str, major: i64, minor: i64) -> String {
        short_id(&OsFacts {
            os_type: os_type.into(),
            distro: distro.into(),
            major,
            minor,
            ..OsFacts::default()
        })
    }

    #[test]
    fn linux_ids_follow_libosinfo() {
        assert_eq!(id("linux", "debian", 12, 7), "debian12");
        assert_eq!(id("linux", "ubuntu", 22, 4), "ubuntu22.04");
        assert_eq!(id("linux", "fedora", 40, 0), "fedora40");
        assert_eq!(id("linux", "rhel", 9, 2), "rhel9");
        assert_eq!(id("linux", "centos", 7, 9), "centos7.0");
        assert_eq!(id("linux", "rhel", 6, 10), "rhel6.10");
        assert_eq!(id("linux", "rhel", 5, 11), "rhel5.11");
        assert_eq!(id("linux", "sles", 15, 5), "sle15sp5");
        assert_eq!(id("linux", "sles", 11, 0), "sles11");
        assert_eq!(id("linux", "archlinux", 0, 0), "archlinux");
        assert_eq!(id("linux", "altlinux", 9, 2), "alt9.2");
        assert_eq!(id("linux", "alpinelinux", 3, 19), "alpinelinux3.19");
        assert_eq!(id("linux", "debian", 0, 0), "unknown");
        assert_eq!(id("linux", "", 0, 0), "unknown");
    }

    #[test]
    fn windows_ids_use_variant_name_and_build() {
        let win = |major, minor, variant: &str, name: &str, build: &str| {
            short_id(&OsFacts {
                os_type: "windows".into(),
                distro: "windows".into(),
                major,
                minor,
                product_variant: variant.into(),
                product_name: name.into(),
                build_id: build.into(),
                ..OsFacts::default()
            })
        };
        assert_eq!(win(10, 0, "Client", "Windows 10 Pro", "19045"), "win10");
        assert_eq!(win(10, 0, "Client", "Windows 10 Pro", "22631"), "win11");
        assert_eq!(
            win(10, 0, "Server", "Windows Server 2022 Standard", "20348"),
            "win2k22"
        );
        assert_eq!(win(6, 1, "Client", "Windows 7", ""), "win7");
        assert_eq!(
            win(6, 1, "Server", "Windows Server 2008 R2", ""),
            "win2k8r2"
        );
        assert_eq!(win(5, 1, "", "Windows XP", ""), "winxp");
    }
}
