//! What inspection makes of parsed config files (names of distributions
//! and package managers, device order), and the pacman and apk readers
//! on a guest tree. The parsers themselves are tested in guest_formats.

use super::write;
use crate::daemon::inspect::scan::natural_cmp;
use crate::daemon::inspect::{apps, linux};
use crate::daemon::root::Root;

#[test]
fn distribution_names_and_device_order() {
    assert_eq!(linux::distro_of("opensuse-leap", ""), "opensuse");
    assert_eq!(linux::distro_of("alpine", ""), "alpinelinux");
    assert_eq!(linux::distro_of("arch", ""), "archlinux");
    assert_eq!(linux::distro_of("ol", ""), "oraclelinux");
    assert_eq!(linux::distro_of("whatever", "rhel fedora"), "redhat-based");
    assert_eq!(linux::distro_of("whatever", "debian"), "unknown");
    assert_eq!(linux::package_management("fedora", 21), "yum");
    assert_eq!(linux::package_management("rhel", 9), "dnf");
    assert_eq!(linux::package_format("archlinux"), "pacman");
    let mut names = vec!["/dev/sda10", "/dev/sdb", "/dev/sda2", "/dev/sda1"];
    names.sort_by(|a, b| natural_cmp(a, b));
    assert_eq!(names, ["/dev/sda1", "/dev/sda2", "/dev/sda10", "/dev/sdb"]);
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
