//! The rpm database readers on a guest tree, in each of rpm's formats,
//! made by the real tools (`rpm`, `db5.3_load`: see
//! guest_formats::fixtures::rpmdb) and checked against what rpm lists.

use guest_formats::fixtures::rpm::build_header;
use guest_formats::fixtures::rpmdb::{bdb_packages, real_headers, rpm_query, scratch_dir};
use protocol::types::Application;

use super::{make_rpmdb, write};
use crate::daemon::inspect::rpmdb;
use crate::daemon::root::Root;

/// The applications as fixtures::rpmdb::QUERY_FORMAT prints them.
fn lines(apps: &[Application]) -> Vec<String> {
    let mut lines: Vec<String> = apps
        .iter()
        .map(|a| {
            format!(
                "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
                a.app2_name,
                a.app2_epoch,
                a.app2_version,
                a.app2_release,
                a.app2_arch,
                a.app2_url,
                a.app2_source_package,
                a.app2_summary,
                a.app2_description
            )
        })
        .collect();
    lines.sort();
    lines
}

#[test]
fn berkeley_db_packages_in_both_places_and_byte_orders() {
    for (dir, big_endian) in [("/var/lib/rpm", false), ("/usr/lib/sysimage/rpm", true)] {
        let made = scratch_dir("inspect-bdb");
        let file = bdb_packages(&made, real_headers(), 4096, big_endian);
        let expected = rpm_query(&made, "bdb_ro");
        assert_eq!(expected.len(), real_headers().len());
        let guest = tempfile::tempdir().unwrap();
        write(
            guest.path(),
            &format!("{dir}/Packages"),
            &std::fs::read(&file).unwrap(),
        );
        let apps = rpmdb::rpm(&Root::new(guest.path())).unwrap();
        assert_eq!(lines(&apps), expected, "{dir}");
        let _ = std::fs::remove_dir_all(&made);
    }
}

#[test]
fn sqlite_is_preferred_and_damage_keeps_what_was_read() {
    let made = scratch_dir("inspect-bdb-damage");
    let file = bdb_packages(&made, real_headers(), 512, false);
    let good = std::fs::read(&file).unwrap();
    let _ = std::fs::remove_dir_all(&made);
    let guest = tempfile::tempdir().unwrap();
    let r = guest.path();
    let root = Root::new(r);
    // The last page overwritten: what lies before it is still listed.
    let mut damaged = good.clone();
    let last = damaged.len() - 512;
    damaged[last..].fill(0xAA);
    write(r, "/var/lib/rpm/Packages", &damaged);
    let apps = rpmdb::rpm(&root).unwrap();
    assert!(apps.len() < real_headers().len(), "{}", apps.len());
    // Cut short: the file is not a database at all.
    write(r, "/var/lib/rpm/Packages", &good[..good.len() / 2]);
    assert!(rpmdb::rpm(&root).is_err());
    write(r, "/var/lib/rpm/Packages", &good);
    assert_eq!(rpmdb::rpm(&root).unwrap().len(), real_headers().len());
    // A left-over Packages next to rpmdb.sqlite (an upgraded Fedora).
    let blob = build_header(&[(1000, "from-sqlite"), (1001, "1")], None);
    make_rpmdb(&r.join("var/lib/rpm/rpmdb.sqlite"), &[blob])
        .expect("python3 with sqlite3 (Debian package python3) makes the sqlite rpmdb");
    let apps = rpmdb::rpm(&root).unwrap();
    assert_eq!(apps.len(), 1);
    assert_eq!(apps[0].app2_name, "from-sqlite");
}
