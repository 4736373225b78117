//! The LVM calls on real loop devices, checked against the host's own
//! lvm. Each test makes its own VG (unique name) on its own loops, with
//! the daemon's filter set to those loops only, and removes it on drop.
//! LVs need device-mapper: where the kernel has none (this build host),
//! the LV tests say so and create LVs metadata-only with the host's lvm.

use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

use protocol::calls;
use protocol::types::Device;

use super::super::root::Root;
use super::super::state::GuestDaemon;
use super::super::tests::{run, LoopFs, TestIo};
use super::run::config;
use super::*;

static NEXT: AtomicU32 = AtomicU32::new(0);

/// The host's lvm with the daemon's configuration; its trimmed stdout.
fn host_lvm(cfg: &str, args: &[&str]) -> String {
    let out = Command::new("lvm")
        .arg(args[0])
        .arg("--config")
        .arg(cfg)
        .args(&args[1..])
        .env("LVM_SYSTEM_DIR", "/run/libguest-lvm")
        .env("LVM_SUPPRESS_FD_WARNINGS", "1")
        .output()
        .expect("run lvm (install lvm2)");
    assert!(
        out.status.success(),
        "lvm {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

fn dm_available() -> bool {
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/mapper/control")
        .is_ok()
}

fn dev(s: &str) -> Device {
    Device::new(s).expect("valid device")
}

/// PVs on loop devices, a daemon that sees only them, and a VG name no
/// other test uses. Drop removes the VG and PVs, then the loops.
struct Fixture {
    vg: String,
    /// The daemon's --config, for the host's lvm.
    cfg: String,
    d: GuestDaemon,
    _root: tempfile::TempDir,
    loops: Vec<LoopFs>,
}

impl Fixture {
    fn new(disks: usize, size_mib: u64) -> Fixture {
        let vg = format!(
            "lgt{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::SeqCst)
        );
        let loops: Vec<LoopFs> = (0..disks)
            .map(|_| LoopFs::new("none", size_mib, ""))
            .collect();
        let root = tempfile::tempdir().expect("temp root");
        let mut d = GuestDaemon::new(Root::new(root.path()));
        d.lvm.filter = Some(loops.iter().map(|l| l.device.clone()).collect());
        let cfg = config(&d.lvm, run::Mode::Write, &[]);
        Fixture {
            vg,
            cfg,
            d,
            _root: root,
            loops,
        }
    }

    fn devices(&self) -> Vec<String> {
        self.loops.iter().map(|l| l.device.clone()).collect()
    }

    fn pvs_and_vg(&mut self) {
        let mut io = TestIo::default();
        for device in self.devices() {
            pvcreate(
                &mut self.d,
                &mut io,
                calls::pvcreate::Args {
                    device: dev(&device),
                },
            )
            .expect("pvcreate");
        }
        let a = calls::vgcreate::Args {
            volgroup: self.vg.clone(),
            physvols: self.devices(),
        };
        vgcreate(&mut self.d, &mut io, a).expect("vgcreate");
    }

    /// An LV: with device-mapper through the daemon, else metadata only.
    fn lv(&mut self, name: &str, mbytes: i64) {
        if dm_available() {
            let a = calls::lvcreate::Args {
                logvol: name.into(),
                volgroup: self.vg.clone(),
                mbytes,
            };
            lvcreate(&mut self.d, &mut TestIo::default(), a).expect("lvcreate");
        } else {
            let size = format!("{mbytes}m");
            let vg = self.vg.clone();
            host_lvm(
                &self.cfg,
                &[
                    "lvcreate",
                    "--driverloaded",
                    "n",
                    "-an",
                    "-Zn",
                    "-L",
                    &size,
                    "-n",
                    name,
                    &vg,
                ],
            );
        }
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        let cfg = self.cfg.clone();
        let lvm = |args: &[&str]| {
            let _ = Command::new("lvm")
                .arg(args[0])
                .arg("--config")
                .arg(&cfg)
                .args(&args[1..])
                .env("LVM_SYSTEM_DIR", "/run/libguest-lvm")
                .env("LVM_SUPPRESS_FD_WARNINGS", "1")
                .output();
        };
        // The VG may have been renamed: remove every VG these PVs hold.
        lvm(&["vgremove", "-f", "-S", "vg_name=~^lgt"]);
        for l in &self.loops {
            lvm(&["pvremove", "-ff", "-y", &l.device]);
        }
    }
}

#[test]
fn filter_accepts_only_the_devices_given() {
    let state = LvmState {
        filter: Some(vec!["/dev/loop7".into(), "/dev/md0p1".into()]),
        activated: false,
    };
    let c = config(&state, run::Mode::Read, &["vg1".into()]);
    assert!(
        c.contains(r#"filter=["a|^/dev/loop7$|","a|^/dev/md0p1$|","r|.*|"]"#),
        "{c}"
    );
    assert!(c.contains(r#"read_only_volume_list=["vg1"]"#), "{c}");
    assert!(c.contains("metadata_read_only=1"), "{c}");
    assert!(
        c.contains("udev_sync=0") && c.contains("udev_rules=0"),
        "{c}"
    );
    let c = config(&LvmState::default(), run::Mode::Write, &[]);
    assert!(
        c.contains("metadata_read_only=0") && !c.contains("loop"),
        "{c}"
    );
    assert!(valid_name("t", "vg", "vg_01.a+b-c").is_ok());
    for bad in ["", "-x", "..", "a b", "a/b", "a|b"] {
        assert!(valid_name("t", "vg", bad).is_err(), "{bad}");
    }
}

#[test]
fn pvs_vgs_and_uuids_match_lvm() {
    let mut f = Fixture::new(2, 32);
    f.pvs_and_vg();
    let mut io = TestIo::default();
    let cfg = f.cfg.clone();
    let d = &mut f.d;
    let mut want = f.loops.iter().map(|l| l.device.clone()).collect::<Vec<_>>();
    want.sort();
    assert_eq!(pvs(d, &mut io, calls::pvs::Args {}).unwrap(), want);
    assert_eq!(
        vgs(d, &mut io, calls::vgs::Args {}).unwrap(),
        vec![f.vg.clone()]
    );

    let full = pvs_full(d, &mut io, calls::pvs_full::Args {}).unwrap();
    assert_eq!(full.len(), 2);
    for pv in &full {
        let host = host_lvm(
            &cfg,
            &[
                "pvs",
                "--noheadings",
                "--units",
                "b",
                "--nosuffix",
                "-o",
                "pv_uuid,pv_size,pe_start,pv_pe_count",
                &pv.pv_name,
            ],
        );
        let cols: Vec<&str> = host.split_whitespace().collect();
        assert_eq!(pv.pv_uuid, cols[0].replace('-', ""));
        assert_eq!(pv.pv_uuid.len(), 32);
        assert_eq!(pv.pv_size.to_string(), cols[1]);
        assert_eq!(pv.pe_start.to_string(), cols[2]);
        assert_eq!(pv.pv_pe_count.to_string(), cols[3]);
        assert_eq!(pv.pv_fmt, "lvm2");
        assert_eq!(pv.dev_size, 32 << 20);
        let u = pvuuid(
            d,
            &mut io,
            calls::pvuuid::Args {
                device: dev(&pv.pv_name),
            },
        )
        .unwrap();
        assert_eq!(u, cols[0]);
    }

    let vgf = vgs_full(d, &mut io, calls::vgs_full::Args {}).unwrap();
    assert_eq!(vgf.len(), 1);
    let host = host_lvm(
        &cfg,
        &[
            "vgs",
            "--noheadings",
            "--units",
            "b",
            "--nosuffix",
            "-o",
            "vg_uuid,vg_size,vg_extent_size,vg_extent_count,vg_seqno",
            &f.vg,
        ],
    );
    let cols: Vec<&str> = host.split_whitespace().collect();
    let v = &vgf[0];
    assert_eq!(
        (v.vg_name.as_str(), v.pv_count, v.lv_count),
        (f.vg.as_str(), 2, 0)
    );
    assert_eq!(v.vg_uuid, cols[0].replace('-', ""));
    assert_eq!(v.vg_size.to_string(), cols[1]);
    assert_eq!(v.vg_extent_size.to_string(), cols[2]);
    assert_eq!(v.vg_extent_count.to_string(), cols[3]);
    assert_eq!(v.vg_seqno.to_string(), cols[4]);
    assert_eq!(v.vg_free, v.vg_size);
    let u = vguuid(
        d,
        &mut io,
        calls::vguuid::Args {
            vgname: f.vg.clone(),
        },
    )
    .unwrap();
    assert_eq!(u, cols[0]);
    let mut pvu = vgpvuuids(
        d,
        &mut io,
        calls::vgpvuuids::Args {
            vgname: f.vg.clone(),
        },
    )
    .unwrap();
    pvu.sort();
    let mut host_pvu: Vec<String> =
        host_lvm(&cfg, &["vgs", "--noheadings", "-o", "pv_uuid", &f.vg])
            .lines()
            .map(|l| l.trim().to_owned())
            .collect();
    host_pvu.sort();
    assert_eq!(pvu, host_pvu);
    assert!(vguuid(
        d,
        &mut io,
        calls::vguuid::Args {
            vgname: "no_such_vg_lgt".into()
        }
    )
    .is_err());
    assert!(vguuid(
        d,
        &mut io,
        calls::vguuid::Args {
            vgname: "bad name".into()
        }
    )
    .is_err());

    // A PV in a VG is not removed; after vgremove it is.
    let pv0 = f.loops[0].device.clone();
    assert!(pvremove(d, &mut io, calls::pvremove::Args { device: dev(&pv0) }).is_err());
    vgremove(
        d,
        &mut io,
        calls::vgremove::Args {
            vgname: f.vg.clone(),
        },
    )
    .unwrap();
    assert!(vgs(d, &mut io, calls::vgs::Args {}).unwrap().is_empty());
    pvremove(d, &mut io, calls::pvremove::Args { device: dev(&pv0) }).unwrap();
    assert_eq!(
        pvs(d, &mut io, calls::pvs::Args {}).unwrap(),
        vec![f.loops[1].device.clone()]
    );
}

#[test]
fn lv_reports_names_and_uuids() {
    let mut f = Fixture::new(1, 64);
    f.pvs_and_vg();
    f.lv("root", 8);
    f.lv("home", 12);
    let mut io = TestIo::default();
    let vg = f.vg.clone();
    let cfg = f.cfg.clone();
    let d = &mut f.d;
    assert_eq!(
        lvs(d, &mut io, calls::lvs::Args {}).unwrap(),
        vec![format!("/dev/{vg}/home"), format!("/dev/{vg}/root")]
    );
    let full = lvs_full(d, &mut io, calls::lvs_full::Args {}).unwrap();
    assert_eq!(full.len(), 2);
    let root = full
        .iter()
        .find(|l| l.lv_name == "root")
        .expect("root in lvs_full");
    assert_eq!(root.lv_size, 8 << 20);
    assert_eq!(root.seg_count, 1);
    assert_eq!(root.snap_percent, -1.0);
    assert_eq!(root.lv_major, -1);
    let path = format!("/dev/{vg}/root");
    let host_uuid = host_lvm(&cfg, &["lvs", "--noheadings", "-o", "lv_uuid", &path]);
    assert_eq!(root.lv_uuid, host_uuid.replace('-', ""));
    assert_eq!(
        lvuuid(d, &mut io, calls::lvuuid::Args { device: dev(&path) }).unwrap(),
        host_uuid
    );
    let mut lvu = vglvuuids(d, &mut io, calls::vglvuuids::Args { vgname: vg.clone() }).unwrap();
    lvu.sort();
    let mut host_lvu: Vec<String> = host_lvm(&cfg, &["lvs", "--noheadings", "-o", "lv_uuid", &vg])
        .lines()
        .map(|l| l.trim().to_owned())
        .collect();
    host_lvu.sort();
    assert_eq!(lvu, host_lvu);

    // Canonical names: /dev/VG/LV and /dev/mapper/VG-LV (hyphens doubled).
    assert!(is_lv(
        d,
        &mut io,
        calls::is_lv::Args {
            mountable: dev(&path)
        }
    )
    .unwrap());
    let mapper = format!("/dev/mapper/{}-root", vg.replace('-', "--"));
    let a = calls::lvm_canonical_lv_name::Args {
        lvname: dev(&mapper),
    };
    assert_eq!(lvm_canonical_lv_name(d, &mut io, a).unwrap(), path);
    let pv = f.loops[0].device.clone();
    for not_lv in [
        pv.as_str(),
        "/dev/mapper/control",
        &format!("/dev/{vg}"),
        &format!("/dev/{vg}/nope"),
    ] {
        assert!(
            !is_lv(
                d,
                &mut io,
                calls::is_lv::Args {
                    mountable: dev(not_lv)
                }
            )
            .unwrap(),
            "{not_lv}"
        );
        let a = calls::lvm_canonical_lv_name::Args {
            lvname: dev(not_lv),
        };
        let e = lvm_canonical_lv_name(d, &mut io, a).unwrap_err();
        assert_eq!(e.errno, libc::EINVAL, "{not_lv}: {}", e.message);
    }

    // lvremove of one LV, then of a whole VG given as /dev/VG.
    lvremove(d, &mut io, calls::lvremove::Args { device: dev(&path) }).unwrap();
    assert_eq!(
        lvs(d, &mut io, calls::lvs::Args {}).unwrap(),
        vec![format!("/dev/{vg}/home")]
    );
    lvremove(
        d,
        &mut io,
        calls::lvremove::Args {
            device: dev(&format!("/dev/{vg}")),
        },
    )
    .unwrap();
    assert!(lvs(d, &mut io, calls::lvs::Args {}).unwrap().is_empty());
    assert_eq!(
        host_lvm(&cfg, &["lvs", "--noheadings", "-o", "lv_name", &vg]),
        ""
    );
}

#[test]
fn lvs_bad_arguments_are_refused_before_lvm() {
    let mut f = Fixture::new(1, 16);
    let mut io = TestIo::default();
    let d = &mut f.d;
    let a = calls::lvcreate::Args {
        logvol: "a/b".into(),
        volgroup: "vg".into(),
        mbytes: 4,
    };
    assert!(lvcreate(d, &mut io, a)
        .unwrap_err()
        .message
        .contains("not a valid"));
    let a = calls::lvcreate::Args {
        logvol: "a".into(),
        volgroup: "vg".into(),
        mbytes: 0,
    };
    assert!(lvcreate(d, &mut io, a)
        .unwrap_err()
        .message
        .contains("mbytes"));
    let a = calls::lvcreate_free::Args {
        logvol: "a".into(),
        volgroup: "vg".into(),
        percent: 101,
    };
    assert!(lvcreate_free(d, &mut io, a)
        .unwrap_err()
        .message
        .contains("percent"));
    let a = calls::vgcreate::Args {
        volgroup: "vg".into(),
        physvols: vec!["/etc/passwd".into()],
    };
    assert!(vgcreate(d, &mut io, a).is_err());
    let a = calls::vgcreate::Args {
        volgroup: "vg".into(),
        physvols: vec![],
    };
    assert!(vgcreate(d, &mut io, a).is_err());
}

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
fn pvresize_grows_with_its_device() {
    let mut f = Fixture::new(1, 16);
    f.pvs_and_vg();
    let mut io = TestIo::default();
    let (cfg, pv) = (f.cfg.clone(), f.loops[0].device.clone());
    let size = || {
        host_lvm(
            &cfg,
            &[
                "pvs",
                "--noheadings",
                "--units",
                "b",
                "--nosuffix",
                "-o",
                "pv_size",
                &pv,
            ],
        )
    };
    let small: u64 = size().parse().unwrap();
    f.loops[0].image.as_file().set_len(32 << 20).unwrap();
    run("losetup", &["-c", &pv]);
    pvresize(
        &mut f.d,
        &mut io,
        calls::pvresize::Args { device: dev(&pv) },
    )
    .unwrap();
    let big: u64 = size().parse().unwrap();
    assert_eq!(big - small, 16 << 20, "{small} -> {big}");
    let full = pvs_full(&mut f.d, &mut io, calls::pvs_full::Args {}).unwrap();
    assert_eq!(full[0].pv_size as u64, big);
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
