//! Native activation and listing against lvm itself: on the build host
//! (no device-mapper) against lvm's reports of the same metadata, in the
//! e2e test host against lvm's own activation.

use std::collections::BTreeMap;

use protocol::calls;

use super::super::super::tests::{run, TestIo};
use super::super::native::{activate_on, listed, table_text};
use super::super::*;
use super::{dm_available, host_lvm, Fixture};

/// A VG as installers and admins leave them: a linear LV extended onto
/// the second PV (two segments), a striped LV, a small read-only one.
fn layout(f: &mut Fixture) {
    f.pvs_and_vg();
    let vg = f.vg.clone();
    let (pv0, pv1) = (f.loops[0].device.clone(), f.loops[1].device.clone());
    let create = |args: &[&str]| {
        let mut all = vec!["lvcreate", "-Zn", "-Wn", "-y"];
        if !dm_available() {
            all.extend(["--driverloaded", "n", "-an"]);
        }
        all.extend(args);
        host_lvm(&f.cfg, &all);
    };
    create(&["-l", "3", "-n", "root-fs", &vg, &pv0]);
    create(&["-l", "4", "-n", "gap", &vg, &pv0]);
    create(&["-l", "2", "-i", "2", "-I", "64k", "-n", "stripes", &vg]);
    let mut extend = vec!["lvextend", "-l", "+2", "-y"];
    if !dm_available() {
        extend.extend(["--driverloaded", "n"]);
    }
    let root = format!("{vg}/root-fs");
    extend.extend([root.as_str(), pv1.as_str()]);
    host_lvm(&f.cfg, &extend);
    let ro = format!("{vg}/gap");
    let mut change = vec!["lvchange", "-pr", ro.as_str()];
    if !dm_available() {
        change.extend(["--driverloaded", "n"]);
    }
    host_lvm(&f.cfg, &change);
}

fn report(cfg: &str, sub: &str, fields: &str, extra: &[&str]) -> Vec<Vec<String>> {
    let mut args = vec![
        sub,
        "--noheadings",
        "--separator",
        "|",
        "--units",
        "s",
        "--nosuffix",
        "-o",
        fields,
    ];
    args.extend(extra);
    host_lvm(cfg, &args)
        .lines()
        .map(|l| l.trim().split('|').map(str::to_owned).collect())
        .collect()
}

/// The tables lvm's reports imply, as `dmsetup table` prints them.
fn tables_from_reports(f: &Fixture) -> Vec<(String, String)> {
    let cfg = &f.cfg;
    let ext: u64 = report(cfg, "vgs", "vg_extent_size", &[&f.vg])[0][0]
        .parse()
        .unwrap();
    let pe_start: BTreeMap<String, u64> = report(cfg, "pvs", "pv_name,pe_start", &[])
        .into_iter()
        .map(|r| (r[0].clone(), r[1].parse().unwrap()))
        .collect();
    let devno = |path: &str| {
        use std::os::unix::fs::MetadataExt;
        let rdev = std::fs::metadata(path).unwrap().rdev();
        format!("{}:{}", rustix::fs::major(rdev), rustix::fs::minor(rdev))
    };
    let fields = "lv_name,seg_start_pe,seg_size_pe,stripes,stripe_size,devices";
    let mut by_lv: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for r in report(cfg, "lvs", fields, &["--segments", &f.vg]) {
        let (start, size): (u64, u64) = (r[1].parse().unwrap(), r[2].parse().unwrap());
        let areas: Vec<String> = r[5]
            .split(',')
            .map(|area| {
                let (dev, pe) = area.trim_end_matches(')').split_once('(').unwrap();
                let pe: u64 = pe.parse().unwrap();
                format!("{} {}", devno(dev), pe_start[dev] + pe * ext)
            })
            .collect();
        let target = match areas.as_slice() {
            [one] => format!("linear {one}"),
            _ => format!("striped {} {} {}", areas.len(), r[4], areas.join(" ")),
        };
        let line = format!("{} {} {target}", start * ext, size * ext);
        by_lv.entry(r[0].clone()).or_default().push(line);
    }
    let vg = f.vg.replace('-', "--");
    by_lv
        .into_iter()
        .map(|(lv, lines)| (format!("{vg}-{}", lv.replace('-', "--")), lines.join("\n")))
        .collect()
}

#[test]
fn native_reading_agrees_with_lvms_reports() {
    let mut f = Fixture::new(2, 64);
    layout(&mut f);
    let lvs: Vec<(String, String)> = report(&f.cfg, "lvs", "vg_name,lv_name", &[&f.vg])
        .into_iter()
        .map(|r| (r[0].clone(), r[1].clone()))
        .collect();
    let mut want = lvs.clone();
    want.sort();
    assert_eq!(listed(&f.devices()), Some(want));
    assert_eq!(table_text(&f.devices()).unwrap(), tables_from_reports(&f));
}

#[test]
fn what_native_reading_leaves_to_lvm() {
    let mut f = Fixture::new(2, 64);
    layout(&mut f);
    // Only one of the VG's two PVs: a missing PV is lvm's to handle.
    let one = vec![f.loops[0].device.clone()];
    let why = table_text(&one).unwrap_err();
    assert!(why.contains("missing"), "{why}");
    assert_eq!(listed(&one), None);
    // A PV seen twice (a cloned disk) is lvm's too.
    let twice = vec![f.loops[0].device.clone(), f.loops[0].device.clone()];
    assert!(table_text(&twice).unwrap_err().contains("on both"));
}

/// (dm name, text) or (link, target) pairs.
type Pairs = Vec<(String, String)>;

/// `dmsetup table` and `dmsetup info`'s name, uuid and read-only flag
/// for the VG's devices, and where /dev/VG/LV points.
fn active_state(vg: &str) -> (Pairs, String, Pairs) {
    let prefix = format!("{}-", vg.replace('-', "--"));
    let info = run(
        "dmsetup",
        &[
            "info",
            "-c",
            "--noheadings",
            "-o",
            "name,uuid,attr",
            "--separator",
            "|",
        ],
    );
    let mut info: Vec<&str> = info.lines().filter(|l| l.starts_with(&prefix)).collect();
    info.sort();
    let mut tables = Vec::new();
    let mut links = Vec::new();
    for line in &info {
        let name = line.split('|').next().unwrap();
        tables.push((name.to_owned(), run("dmsetup", &["table", name])));
    }
    for entry in std::fs::read_dir(format!("/dev/{vg}")).unwrap() {
        let entry = entry.unwrap();
        let target = std::fs::read_link(entry.path()).unwrap();
        links.push((
            entry.file_name().to_string_lossy().into_owned(),
            target.to_string_lossy().into_owned(),
        ));
    }
    links.sort();
    (tables, info.join("\n"), links)
}

#[test]
fn native_activation_is_lvms_own() {
    if !dm_available() {
        eprintln!("native_activation_is_lvms_own: skipped here, this kernel has no device-mapper (the e2e test host runs it)");
        return;
    }
    let mut f = Fixture::new(2, 64);
    layout(&mut f);
    let vg = f.vg.clone();
    let mut io = TestIo::default();
    let lvm_state = active_state(&vg);
    assert_eq!(lvm_state.0.len(), 3, "{lvm_state:?}");
    assert_eq!(table_text(&f.devices()).unwrap(), lvm_state.0);
    let off = |d: &mut GuestDaemon| {
        let a = calls::vg_activate::Args {
            activate: false,
            volgroups: vec![vg.clone()],
        };
        vg_activate(d, &mut TestIo::default(), a).unwrap();
    };
    off(&mut f.d);

    activate_on(&f.devices()).unwrap();
    assert_eq!(
        active_state(&vg),
        lvm_state,
        "native activation differs from lvm's"
    );
    // lvm takes them for its own: it reports them active, and its
    // deactivation removes them.
    let active = report(&f.cfg, "lvs", "lv_name,lv_active", &[&vg]);
    assert!(active.iter().all(|r| r[1] == "active"), "{active:?}");
    let root = format!("/dev/{vg}/root-fs");
    assert_eq!(run("blockdev", &["--getsz", &root]), "40960");
    assert_eq!(
        run("blockdev", &["--getro", &format!("/dev/{vg}/gap")]),
        "1"
    );
    off(&mut f.d);
    assert!(!std::path::Path::new(&root).exists());

    // Through the daemon call, as at launch.
    f.d.lvm.activated = false;
    let a = calls::internal_lvm_activate_native::Args {};
    assert!(internal_lvm_activate_native(&mut f.d, &mut io, a).unwrap());
    assert_eq!(active_state(&vg), lvm_state);
    let fs = filesystem_candidates(&f.d).unwrap();
    assert_eq!(fs.len(), 3, "{fs:?}");
}
