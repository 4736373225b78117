//! What needs device-mapper: active LVs, their nodes, resizing,
//! renaming, (de)activation, the filter and read-only activation.

use std::process::Command;

use protocol::calls;

use super::super::super::tests::{run, TestIo};
use super::super::*;
use super::{dev, dm_available, host_lvm, Fixture};

/// Whether the LV tests can run; says why not where they cannot.
fn with_dm(test: &str) -> bool {
    let ok = dm_available();
    if !ok {
        eprintln!("{test}: skipped, this kernel has no device-mapper (the e2e test host runs it)");
    }
    ok
}

fn lv_size(cfg: &str, lv: &str) -> String {
    host_lvm(
        cfg,
        &[
            "lvs",
            "--noheadings",
            "--units",
            "b",
            "--nosuffix",
            "-o",
            "lv_size",
            lv,
        ],
    )
}

#[test]
fn lv_lifecycle_on_device_mapper() {
    if !with_dm("lv_lifecycle_on_device_mapper") {
        return;
    }
    let mut f = Fixture::new(1, 64);
    f.pvs_and_vg();
    let (vg, cfg) = (f.vg.clone(), f.cfg.clone());
    let mut io = TestIo::default();
    let d = &mut f.d;
    let a = calls::lvcreate::Args {
        logvol: "data".into(),
        volgroup: vg.clone(),
        mbytes: 16,
    };
    lvcreate(d, &mut io, a).unwrap();
    let a = calls::lvcreate_free::Args {
        logvol: "rest".into(),
        volgroup: vg.clone(),
        percent: 50,
    };
    lvcreate_free(d, &mut io, a).unwrap();
    let (data, rest) = (format!("/dev/{vg}/data"), format!("/dev/{vg}/rest"));
    assert!(
        std::path::Path::new(&data).exists(),
        "{data} after lvcreate"
    );
    run("mkfs.ext4", &["-q", "-F", "-L", "lvdata", &data]);

    // list_filesystems' part: LVs by /dev/VG/LV name with their type.
    let fs = filesystem_candidates(d).unwrap();
    let entry = |device: &str, fstype: &str| protocol::types::FsEntry {
        device: device.into(),
        fstype: fstype.into(),
    };
    assert!(fs.contains(&entry(&data, "ext4")), "{fs:?}");
    assert!(fs.contains(&entry(&rest, "unknown")), "{fs:?}");

    let full = lvs_full(d, &mut io, calls::lvs_full::Args {}).unwrap();
    let get = |full: &[protocol::types::LvmLv], name: &str| {
        full.iter()
            .find(|l| l.lv_name == name)
            .cloned()
            .expect("LV in lvs_full")
    };
    assert_eq!(get(&full, "data").lv_size, 16 << 20);
    assert_eq!(get(&full, "rest").lv_size.to_string(), lv_size(&cfg, &rest));
    assert!(
        get(&full, "data").lv_kernel_major > 0,
        "active LV has a major"
    );

    // Resizes, checked against lvm and the kernel's device size.
    lvresize(
        d,
        &mut io,
        calls::lvresize::Args {
            device: dev(&data),
            mbytes: 24,
        },
    )
    .unwrap();
    assert_eq!(lv_size(&cfg, &data), (24u64 << 20).to_string());
    assert_eq!(
        run("blockdev", &["--getsize64", &data]),
        (24u64 << 20).to_string()
    );
    lvresize_free(
        d,
        &mut io,
        calls::lvresize_free::Args {
            lv: dev(&rest),
            percent: 100,
        },
    )
    .unwrap();
    let vgf = vgs_full(d, &mut io, calls::vgs_full::Args {}).unwrap();
    assert_eq!(vgf[0].vg_free_count, 0, "{vgf:?}");

    // Rename: the node moves, the filesystem goes with it.
    let renamed = format!("/dev/{vg}/renamed");
    let a = calls::lvrename::Args {
        logvol: data.clone(),
        newlogvol: renamed.clone(),
    };
    lvrename(d, &mut io, a).unwrap();
    assert!(!std::path::Path::new(&data).exists());
    assert_eq!(
        run("blkid", &["-o", "value", "-s", "LABEL", &renamed]),
        "lvdata"
    );
    assert_eq!(
        lvs(d, &mut io, calls::lvs::Args {}).unwrap(),
        vec![renamed.clone(), rest.clone()]
    );

    // LVs are dm devices, but list_dm_devices leaves them to lvs.
    let mapped = format!("{}-renamed", vg.replace('-', "--"));
    assert!(run("dmsetup", &["ls"]).contains(&mapped));
    let dm = list_dm_devices(d, &mut io, calls::list_dm_devices::Args {}).unwrap();
    assert!(!dm.iter().any(|n| n.contains(&vg)), "{dm:?}");
    let a = calls::lvm_canonical_lv_name::Args {
        lvname: dev(&format!("/dev/mapper/{mapped}")),
    };
    assert_eq!(lvm_canonical_lv_name(d, &mut io, a).unwrap(), renamed);

    // Deactivate and activate again.
    let a = calls::vg_activate::Args {
        activate: false,
        volgroups: vec![vg.clone()],
    };
    vg_activate(d, &mut io, a).unwrap();
    assert!(!std::path::Path::new(&renamed).exists());
    assert!(!run("dmsetup", &["ls"]).contains(&mapped));
    vg_activate_all(d, &mut io, calls::vg_activate_all::Args { activate: true }).unwrap();
    assert!(std::path::Path::new(&renamed).exists());

    // vgrename with active LVs; vgremove takes them away.
    let vg2 = format!("{vg}r");
    let a = calls::vgrename::Args {
        volgroup: vg.clone(),
        newvolgroup: vg2.clone(),
    };
    vgrename(d, &mut io, a).unwrap();
    let moved = format!("/dev/{vg2}/renamed");
    assert_eq!(
        run("blkid", &["-o", "value", "-s", "LABEL", &moved]),
        "lvdata"
    );
    vgremove(
        d,
        &mut io,
        calls::vgremove::Args {
            vgname: vg2.clone(),
        },
    )
    .unwrap();
    assert!(!std::path::Path::new(&moved).exists());
    assert!(lvs(d, &mut io, calls::lvs::Args {}).unwrap().is_empty());
}

/// A read-only loop device, detached on drop.
struct RoLoop(String);

impl Drop for RoLoop {
    fn drop(&mut self) {
        let _ = Command::new("losetup").args(["-d", &self.0]).status();
    }
}

#[test]
fn read_only_activation_writes_nothing() {
    if !with_dm("read_only_activation_writes_nothing") {
        return;
    }
    let mut f = Fixture::new(1, 32);
    f.pvs_and_vg();
    let vg = f.vg.clone();
    let mut io = TestIo::default();
    let a = calls::lvcreate::Args {
        logvol: "root".into(),
        volgroup: vg.clone(),
        mbytes: 8,
    };
    lvcreate(&mut f.d, &mut io, a).unwrap();
    let lv = format!("/dev/{vg}/root");
    run("mkfs.ext4", &["-q", "-F", &lv]);
    let a = calls::vg_activate::Args {
        activate: false,
        volgroups: vec![vg.clone()],
    };
    vg_activate(&mut f.d, &mut io, a).unwrap();
    run("blockdev", &["--flushbufs", &f.loops[0].device]);
    rustix::fs::sync();

    // The same image again, read-only; the daemon sees only that copy.
    let image = f.loops[0]
        .image
        .path()
        .to_str()
        .expect("utf-8 path")
        .to_owned();
    let ro = RoLoop(run("losetup", &["-r", "-f", "--show", &image]));
    let before = run("sha256sum", &[&image]);
    let d = &mut f.d;
    d.lvm.filter = Some(vec![ro.0.clone()]);
    d.lvm.activated = false;
    assert!(internal_lvm_pending(d, &mut io, calls::internal_lvm_pending::Args {}).unwrap());
    internal_lvm_activate(d, &mut io, calls::internal_lvm_activate::Args {}).unwrap();
    assert!(!internal_lvm_pending(d, &mut io, calls::internal_lvm_pending::Args {}).unwrap());
    assert!(std::path::Path::new(&lv).exists(), "{lv} after activation");
    assert_eq!(
        run("blockdev", &["--getro", &lv]),
        "1",
        "a read-only mapping"
    );
    let fs = filesystem_candidates(d).unwrap();
    assert!(
        fs.iter().any(|e| e.device == lv && e.fstype == "ext4"),
        "{fs:?}"
    );
    vg_activate_all(d, &mut io, calls::vg_activate_all::Args { activate: false }).unwrap();
    rustix::fs::sync();
    assert_eq!(
        run("sha256sum", &[&image]),
        before,
        "the read-only image changed"
    );
}

#[test]
fn filter_and_scan_on_device_mapper() {
    if !with_dm("filter_and_scan_on_device_mapper") {
        return;
    }
    // Two VGs, one per loop; the filter then shows only the first.
    let mut a = Fixture::new(1, 16);
    a.pvs_and_vg();
    a.lv("one", 4);
    let mut b = Fixture::new(1, 16);
    b.pvs_and_vg();
    b.lv("two", 4);
    let mut io = TestIo::default();
    let both = [a.loops[0].device.clone(), b.loops[0].device.clone()];
    let d = &mut a.d;
    d.lvm.filter = Some(both.to_vec());
    let mut vgs_both = vec![a.vg.clone(), b.vg.clone()];
    vgs_both.sort();
    assert_eq!(vgs(d, &mut io, calls::vgs::Args {}).unwrap(), vgs_both);
    let two = format!("/dev/{}/two", b.vg);
    assert!(std::path::Path::new(&two).exists());

    let a_only = vec![both[0].clone()];
    lvm_set_filter(
        d,
        &mut io,
        calls::lvm_set_filter::Args {
            devices: a_only.clone(),
        },
    )
    .unwrap();
    assert_eq!(
        vgs(d, &mut io, calls::vgs::Args {}).unwrap(),
        vec![a.vg.clone()]
    );
    assert_eq!(pvs(d, &mut io, calls::pvs::Args {}).unwrap(), a_only);
    assert!(
        !std::path::Path::new(&two).exists(),
        "hidden VG deactivated"
    );
    assert!(
        std::path::Path::new(&format!("/dev/{}/one", a.vg)).exists(),
        "shown VG active"
    );
    let bad = vec!["/etc/passwd".to_owned()];
    assert!(lvm_set_filter(d, &mut io, calls::lvm_set_filter::Args { devices: bad }).is_err());

    // Back to both: lvm_scan(true) activates what it finds.
    d.lvm.filter = Some(both.to_vec());
    lvm_scan(d, &mut io, calls::lvm_scan::Args { activate: false }).unwrap();
    assert!(!std::path::Path::new(&two).exists());
    lvm_scan(d, &mut io, calls::lvm_scan::Args { activate: true }).unwrap();
    assert!(std::path::Path::new(&two).exists());
}
