//! The config-file and package-database parsers on their own.

use super::super::root::Root;
use super::tests::write;
use super::*;

#[test]
fn os_release_parsing_and_names() {
    let fields =
        linux::parse_os_release("ID=\"opensuse-leap\"\n# c\nNAME='x y'\nE=\"a\\\"b\"\nbad line\n");
    assert_eq!(fields[0], ("ID".into(), "opensuse-leap".into()));
    assert_eq!(fields[1], ("NAME".into(), "x y".into()));
    assert_eq!(fields[2], ("E".into(), "a\"b".into()));
    assert_eq!(linux::distro_of("opensuse-leap", ""), "opensuse");
    assert_eq!(linux::distro_of("alpine", ""), "alpinelinux");
    assert_eq!(linux::distro_of("arch", ""), "archlinux");
    assert_eq!(linux::distro_of("ol", ""), "oraclelinux");
    assert_eq!(linux::distro_of("whatever", "rhel fedora"), "redhat-based");
    assert_eq!(linux::distro_of("whatever", "debian"), "unknown");
    assert_eq!(linux::parse_version("22.04"), (22, 4));
    assert_eq!(linux::parse_version("3.19.1"), (3, 19));
    assert_eq!(linux::parse_version("rolling"), (0, 0));
    assert_eq!(
        linux::parse_version("99999999999999999999999"),
        (999_999_999_999_999_999, 0)
    );
    assert_eq!(linux::package_management("fedora", 21), "yum");
    assert_eq!(linux::package_management("rhel", 9), "dnf");
    assert_eq!(linux::package_format("archlinux"), "pacman");
    assert_eq!(
        apps::split_version("1:2.3-4-5"),
        (1, "2.3-4".into(), "5".into())
    );
    assert_eq!(apps::split_version("x:2"), (0, "x:2".into(), "".into()));
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
