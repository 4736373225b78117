//! The rpm database readers on a guest tree, in each of rpm's formats,
//! made by the real tools (`rpm`, `db5.3_load`: see
//! guest_formats::fixtures::rpmdb; ndb files, which no Debian tool
//! writes, by fixtures::ndb from real headers) and checked against what
//! rpm lists.

use guest_formats::fixtures::ndb::ndb_packages;
use guest_formats::fixtures::rpm::build_header;
use guest_formats::fixtures::rpmdb::{
    bdb_packages, real_headers, real_listing, rpm_query, scratch_dir,
};
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
        assert_eq!(expected, real_listing());
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

#[test]
fn ndb_packages_db_before_a_left_over_berkeley_db() {
    let guest = tempfile::tempdir().unwrap();
    let r = guest.path();
    let root = Root::new(r);
    let file = ndb_packages(real_headers(), 2);
    write(r, "/usr/lib/sysimage/rpm/Packages.db", &file);
    // SLES 15 SP3 converted its database: the old Packages is not read.
    write(r, "/var/lib/rpm/Packages", &[0u8; 4096]);
    let apps = rpmdb::rpm(&root).unwrap();
    assert_eq!(lines(&apps), real_listing());
    // One blob damaged: the others are still listed.
    let slot = (32..4096)
        .step_by(16)
        .find(|&at| file[at + 8..at + 12] != [0; 4])
        .unwrap();
    let blob = u32::from_le_bytes(file[slot + 8..slot + 12].try_into().unwrap()) as usize * 16;
    let mut damaged = file.clone();
    damaged[blob] = b'X';
    write(r, "/usr/lib/sysimage/rpm/Packages.db", &damaged);
    assert_eq!(rpmdb::rpm(&root).unwrap().len(), real_headers().len() - 1);
    // Not an ndb file at all.
    write(r, "/usr/lib/sysimage/rpm/Packages.db", b"RpmQ");
    assert!(rpmdb::rpm(&root).is_err());
}
