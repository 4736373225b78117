//! What inspection makes of parsed config files (names of distributions
//! and package managers, device order), and the pacman and apk readers
//! on a guest tree. The parsers themselves are tested in guest_formats.

use super::write;
use crate::daemon::inspect::release::{self, Release};
use crate::daemon::inspect::scan::natural_cmp;
use crate::daemon::inspect::{apps, linux};
use crate::daemon::root::Root;

#[test]
fn distribution_names_and_device_order() {
    assert_eq!(
        release::distro_of_os_release_id("opensuse-leap"),
        Some("opensuse")
    );
    assert_eq!(
        release::distro_of_os_release_id("alpine"),
        Some("alpinelinux")
    );
    assert_eq!(release::distro_of_os_release_id("arch"), Some("archlinux"));
    assert_eq!(release::distro_of_os_release_id("ol"), Some("oraclelinux"));
    assert_eq!(release::distro_of_os_release_id("whatever"), None);
    assert_eq!(linux::package_management("fedora", 21, true), "yum");
    assert_eq!(linux::package_management("fedora", 39, false), "yum");
    assert_eq!(linux::package_management("fedora", 39, true), "dnf");
    assert_eq!(linux::package_management("rhel", 9, false), "dnf");
    assert_eq!(linux::package_management("centos", 4, false), "up2date");
    assert_eq!(linux::package_format("archlinux"), "pacman");
    let mut names = vec!["/dev/sda10", "/dev/sdb", "/dev/sda2", "/dev/sda1"];
    names.sort_by(|a, b| natural_cmp(a, b));
    assert_eq!(names, ["/dev/sda1", "/dev/sda2", "/dev/sda10", "/dev/sdb"]);
}

/// The release files of a tree, by libguestfs's precedence.
fn release_of(files: &[(&str, &str)]) -> Release {
    let read = |p: &str| {
        files
            .iter()
            .find(|(path, _)| *path == p)
            .map(|(_, text)| (*text).to_owned())
    };
    release::detect(&read)
}

#[test]
fn release_files_follow_libguestfs_precedence() {
    // Debian's os-release lacks the minor version: debian_version wins,
    // product name included (as libguestfs reports it).
    let debian = release_of(&[
        (
            "/etc/os-release",
            "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\nVERSION_ID=\"12\"\n",
        ),
        ("/etc/debian_version", "12.7\n"),
    ]);
    assert_eq!(debian.distro, Some("debian"));
    assert_eq!(debian.product_name.as_deref(), Some("12.7"));
    assert_eq!(debian.version, Some((12, 7)));
    // Old Ubuntu: lsb-release comes before debian_version.
    let ubuntu = release_of(&[
        ("/etc/lsb-release", "DISTRIB_ID=Ubuntu\nDISTRIB_RELEASE=10.10\nDISTRIB_CODENAME=maverick\nDISTRIB_DESCRIPTION=\"Ubuntu 10.10\"\n"),
        ("/etc/debian_version", "5.0.1\n"),
    ]);
    assert_eq!(ubuntu.distro, Some("ubuntu"));
    assert_eq!(ubuntu.product_name.as_deref(), Some("Ubuntu 10.10"));
    assert_eq!(ubuntu.version, Some((10, 10)));
    // A complete os-release wins outright, BUILD_ID included.
    let fedora = release_of(&[
        ("/etc/os-release", "NAME=Fedora\nID=fedora\nVERSION_ID=40\nPRETTY_NAME=\"Fedora Linux 40 (Server Edition)\"\nBUILD_ID=20240416\n"),
        ("/etc/redhat-release", "Fedora release 40 (Forty)\n"),
    ]);
    assert_eq!(
        fedora.product_name.as_deref(),
        Some("Fedora Linux 40 (Server Edition)")
    );
    assert_eq!(
        (fedora.version, fedora.build_id.as_deref()),
        (Some((40, 0)), Some("20240416"))
    );
    // RHEL 6 from redhat-release, regex by regex.
    let rhel = release_of(&[(
        "/etc/redhat-release",
        "Red Hat Enterprise Linux Server release 6.10 (Santiago)\n",
    )]);
    assert_eq!((rhel.distro, rhel.version), (Some("rhel"), Some((6, 10))));
    let centos = release_of(&[(
        "/etc/centos-release",
        "CentOS Linux release 7.9.2009 (Core)\n",
    )]);
    assert_eq!(
        (centos.distro, centos.version),
        (Some("centos"), Some((7, 9)))
    );
    let other = release_of(&[("/etc/redhat-release", "Something Else 3\n")]);
    assert_eq!(
        (other.distro, other.version),
        (Some("redhat-based"), Some((3, 0)))
    );
    // Rolling: os-release without VERSION_ID is complete.
    let arch = release_of(&[(
        "/etc/os-release",
        "NAME=\"Arch Linux\"\nPRETTY_NAME=\"Arch Linux\"\nID=arch\n",
    )]);
    assert_eq!(
        (arch.distro, arch.version),
        (Some("archlinux"), Some((0, 0)))
    );
    // SLES from SuSE-release.
    let sles = release_of(&[(
        "/etc/SuSE-release",
        "SUSE Linux Enterprise Server 11 (x86_64)\nVERSION = 11\nPATCHLEVEL = 4\n",
    )]);
    assert_eq!((sles.distro, sles.version), (Some("sles"), Some((11, 4))));
    // Unknown os-release ID, no other file: nothing known but the name.
    let unknown = release_of(&[(
        "/etc/os-release",
        "ID=nonesuch\nPRETTY_NAME=X 1\nVERSION_ID=1\n",
    )]);
    assert_eq!((unknown.distro, unknown.version), (None, Some((1, 0))));
}

#[test]
fn pacman_and_apk_databases() {
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path();
    write(r, "/var/lib/pacman/local/bash-5.2.026-2/desc", b"%NAME%\nbash\n\n%VERSION%\n5.2.026-2\n\n%DESC%\nThe GNU Bourne Again shell\n\n%ARCH%\nx86_64\n\n%URL%\nhttps://www.gnu.org/software/bash/\n");
    write(r, "/var/lib/pacman/local/ALPM_DB_VERSION", b"9\n");
    write(r, "/lib/apk/db/installed", b"C:Q1abc\nP:musl\nV:1.2.4_git20230717-r4\nA:x86_64\nT:the musl c library\nU:https://musl.libc.org/\no:musl\nF:lib\n\nP:busybox\nV:1.36.1-r15\nA:x86_64\nT:Size optimized toolbox\n");
    let root = Root::new(r);
    let pac = apps::pacman(&root).unwrap();
    assert_eq!(pac.len(), 1);
    assert_eq!(
        (pac[0].app2_version.as_str(), pac[0].app2_release.as_str()),
        ("5.2.026", "2")
    );
    assert_eq!(pac[0].app2_summary, "The GNU Bourne Again shell");
    let apk = apps::apk(&root).unwrap();
    assert_eq!(apk.len(), 2);
    assert_eq!(apk[0].app2_name, "musl");
    assert_eq!(apk[0].app2_version, "1.2.4_git20230717");
    assert_eq!(apk[0].app2_release, "r4");
    assert_eq!(apk[0].app2_source_package, "musl");
    assert_eq!(apk[1].app2_summary, "Size optimized toolbox");
}
