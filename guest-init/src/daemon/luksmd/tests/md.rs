//! md_create, md_detail, md_stat, md_stop, list_md_devices and the
//! assembly of arrays found on the drives, against mdadm, blkid and the
//! kernel's /sys/block and /proc/mdstat.

use std::path::Path;
use std::process::Command;

use guest_formats::probe::Content;
use protocol::calls;
use protocol::types::Device;

use super::super::assemble::assemble;
use super::super::md::{arrays, md_create, md_detail, md_stat, md_stop};
use super::{args, bare, have_md, io, ok, run, unique, Loop};
use crate::daemon::devices::probe_device;
use crate::daemon::state::GuestDaemon;

/// Held by each test that creates arrays. Two concurrent `mdadm --create`
/// can pick the same free md minor, and the second then fails with
/// "another array by this name is already running"; in the appliance
/// calls are serial, so only the tests need this.
static MD_TESTS: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn md_lock() -> std::sync::MutexGuard<'static, ()> {
    MD_TESTS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The md array holding `dev`, directly or through the overlay a
/// read-only member is assembled through (overlay.rs).
fn holder(dev: &str) -> Option<String> {
    let name = dev.trim_start_matches("/dev/");
    let holders: Vec<String> = std::fs::read_dir(format!("/sys/block/{name}/holders"))
        .ok()?
        .filter_map(|h| h.ok()?.file_name().into_string().ok())
        .collect();
    if let Some(md) = holders.iter().find(|h| h.starts_with("md")) {
        return Some(format!("/dev/{md}"));
    }
    holders.iter().find_map(|h| {
        let dm = std::fs::read_to_string(format!("/sys/block/{h}/dm/name")).ok()?;
        dm.trim()
            .starts_with(super::super::OVERLAY_PREFIX)
            .then(|| holder(h))?
    })
}

fn state(md: &str) -> String {
    let name = md.trim_start_matches("/dev/");
    std::fs::read_to_string(format!("/sys/block/{name}/md/array_state"))
        .unwrap_or_default()
        .trim()
        .to_owned()
}

fn stop(d: &mut GuestDaemon, md: &str) {
    let a = calls::md_stop::Args {
        md: Device::new(md).expect("md name"),
    };
    ok("md_stop", md_stop(d, &mut io(), a));
    assert!(!arrays(Path::new("/sys/block")).contains(&md.to_owned()));
}

fn stat(d: &mut GuestDaemon, md: &str) -> Vec<(String, i32, String)> {
    let a = calls::md_stat::Args {
        md: Device::new(md).expect("md name"),
    };
    let mut members: Vec<_> = ok("md_stat", md_stat(d, &mut io(), a))
        .into_iter()
        .map(|m| (m.mdstat_device, m.mdstat_index, m.mdstat_flags))
        .collect();
    members.sort_by_key(|m| m.1);
    members
}

/// blkid's TYPE, UUID and LABEL of a device.
fn blkid(dev: &str) -> (String, String, String) {
    let out = run("blkid", &["-p", "-o", "export", dev]);
    let get = |k: &str| {
        out.lines()
            .find_map(|l| l.strip_prefix(k)?.strip_prefix('='))
            .unwrap_or_default()
            .to_owned()
    };
    (get("TYPE"), get("UUID"), get("LABEL"))
}

fn ours(dev: &str) -> (String, String, String) {
    match probe_device(dev) {
        Ok(Content::Filesystem(fs)) => (fs.fstype.to_owned(), fs.uuid, fs.label),
        other => panic!("{dev}: {other:?}"),
    }
}

#[test]
fn raid1_create_detail_stat_stop_and_assembly() {
    if !have_md() {
        return;
    }
    let _serial = md_lock();
    let (_root, mut d) = bare();
    let mut a = Loop::new(32);
    let mut b = Loop::new(32);
    let (da, db) = (a.dev().to_owned(), b.dev().to_owned());
    let name = unique("lgmd");
    let devices = format!("{da} {db}");
    let create = args::<calls::md_create::Call>(&[("name", &name), ("devices", &devices)]);
    ok("md_create", md_create(&mut d, &mut io(), create));
    let md = holder(&da).expect("an array holds the first device");
    assert_eq!(holder(&db).as_deref(), Some(md.as_str()));
    assert!(
        arrays(Path::new("/sys/block")).contains(&md),
        "list_md_devices"
    );

    let detail = ok(
        "md_detail",
        md_detail(
            &mut d,
            &mut io(),
            calls::md_detail::Args {
                md: Device::new(md.as_str()).expect("md"),
            },
        ),
    );
    let get = |k: &str| {
        detail
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.as_str())
    };
    assert_eq!(get("level"), Some("raid1"), "{detail:?}");
    assert_eq!(get("devices"), Some("2"));
    assert!(
        get("name").is_some_and(|n| n.ends_with(&name)),
        "{detail:?}"
    );
    let export = run("mdadm", &["-D", "--export", &md]);
    let uuid = export.lines().find_map(|l| l.strip_prefix("MD_UUID="));
    assert_eq!(get("uuid"), uuid);

    let members = stat(&mut d, &md);
    assert_eq!(
        members,
        vec![
            (da.clone(), 0, String::new()),
            (db.clone(), 1, String::new())
        ]
    );
    // Members are not listed, and our prober names them as blkid does.
    assert_eq!(super::super::fs_entry(&da), None);
    assert_eq!(ours(&da), blkid(&da));
    assert_eq!(ours(&da).0, "linux_raid_member");

    run("mkfs.ext4", &["-q", "-F", &md]);
    let listed = super::super::md::filesystems();
    assert!(
        listed.iter().any(|e| e.device == md && e.fstype == "ext4"),
        "{listed:?}"
    );
    stop(&mut d, &md);
    assert_eq!(holder(&da), None);

    // Found again on the drives and assembled.
    ok("assemble", assemble(&[da.clone(), db.clone()]));
    let md = holder(&da).expect("reassembled");
    assert_eq!(state(&md), "clean", "running read-write");
    assert_eq!(stat(&mut d, &md).len(), 2);
    stop(&mut d, &md);

    // A degraded array is not started.
    ok("assemble", assemble(std::slice::from_ref(&da)));
    assert!(
        holder(&da).is_none_or(|m| !arrays(Path::new("/sys/block")).contains(&m)),
        "a degraded array was started"
    );
    super::stop_holders(&da);

    // On read-only drives: assembled read-only, not one byte written.
    a.detach();
    b.detach();
    let before = (a.sha256(), b.sha256());
    let (da, db) = (a.attach(true), b.attach(true));
    ok("assemble", assemble(&[da.clone(), db]));
    let md = holder(&da).expect("assembled from read-only drives");
    assert_eq!(state(&md), "readonly");
    let mut head = vec![0u8; 1 << 20];
    let mut f = std::fs::File::open(&md).expect("open the array");
    std::io::Read::read_exact(&mut f, &mut head).expect("read the array");
    drop(f);
    stop(&mut d, &md);
    // md_stop released the overlays: nothing holds the drives any more.
    assert_eq!(holder(&da), None);
    let held = std::fs::read_dir(format!(
        "/sys/block/{}/holders",
        da.trim_start_matches("/dev/")
    ))
    .map(|h| h.count())
    .unwrap_or(0);
    assert_eq!(held, 0, "an overlay still holds {da}");
    a.detach();
    b.detach();
    assert_eq!(
        (a.sha256(), b.sha256()),
        before,
        "a read-only drive was written"
    );
}

#[test]
fn missing_slots_levels_and_old_superblocks() {
    if !have_md() {
        return;
    }
    let _serial = md_lock();
    let (_root, mut d) = bare();
    let a = Loop::new(32);
    let b = Loop::new(32);
    let da = a.dev().to_owned();
    // Bit 0 set: slot 0 is "missing", the device goes to slot 1.
    let name = unique("lgmm");
    let path = format!("/dev/md/{name}");
    let create = args::<calls::md_create::Call>(&[
        ("name", &path),
        ("devices", &da),
        ("missingbitmap", "1"),
        ("level", "mirror"),
    ]);
    ok("md_create", md_create(&mut d, &mut io(), create));
    let md = holder(&da).expect("a degraded mirror");
    assert_eq!(stat(&mut d, &md), vec![(da.clone(), 1, String::new())]);
    stop(&mut d, &md);
    let bad =
        args::<calls::md_create::Call>(&[("name", "x"), ("devices", &da), ("level", "raid9")]);
    assert!(md_create(&mut d, &mut io(), bad).is_err());
    let bad = args::<calls::md_create::Call>(&[("name", "--force"), ("devices", &da)]);
    assert!(
        md_create(&mut d, &mut io(), bad).is_err(),
        "an option as name"
    );
    let bad =
        args::<calls::md_create::Call>(&[("name", "x"), ("devices", &da), ("nrdevices", "3")]);
    assert!(
        md_create(&mut d, &mut io(), bad).is_err(),
        "devices and nrdevices disagree"
    );

    // Superblocks at the end (0.90, 1.0) are found as blkid finds them.
    for metadata in ["0.90", "1.0"] {
        let db = b.dev().to_owned();
        let out = Command::new("mdadm")
            .args([
                "--create",
                "--run",
                &format!("/dev/md/{name}m"),
                "--level=1",
            ])
            .args([
                "--raid-devices=2",
                &format!("--metadata={metadata}"),
                &da,
                &db,
            ])
            .output()
            .expect("mdadm");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let md = holder(&da).expect("array");
        assert_eq!(ours(&db), blkid(&db), "metadata {metadata}");
        assert_eq!(ours(&db).0, "linux_raid_member");
        stop(&mut d, &md);
    }
}
