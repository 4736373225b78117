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

mod dm;
mod native;
mod reports;

static NEXT: AtomicU32 = AtomicU32::new(0);

/// The host's lvm with the daemon's configuration; its trimmed stdout.
pub(super) fn host_lvm(cfg: &str, args: &[&str]) -> String {
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

pub(super) fn dm_available() -> bool {
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/mapper/control")
        .is_ok()
}

pub(super) fn dev(s: &str) -> Device {
    Device::new(s).expect("valid device")
}

/// PVs on loop devices, a daemon that sees only them, and a VG name no
/// other test uses. Drop removes the VG and PVs, then the loops.
pub(super) struct Fixture {
    pub(super) vg: String,
    /// The daemon's --config, for the host's lvm.
    pub(super) cfg: String,
    pub(super) d: GuestDaemon,
    _root: tempfile::TempDir,
    pub(super) loops: Vec<LoopFs>,
}

impl Fixture {
    pub(super) fn new(disks: usize, size_mib: u64) -> Fixture {
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

    pub(super) fn devices(&self) -> Vec<String> {
        self.loops.iter().map(|l| l.device.clone()).collect()
    }

    pub(super) fn pvs_and_vg(&mut self) {
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
    pub(super) fn lv(&mut self, name: &str, mbytes: i64) {
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
