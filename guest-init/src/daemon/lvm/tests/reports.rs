//! The reports (pvs, vgs, lvs, _full, UUIDs) and canonical names,
//! against the host's lvm; LVs metadata-only where there is no device-mapper.

use protocol::calls;

use super::super::super::tests::TestIo;
use super::super::*;
use super::{dev, host_lvm, Fixture};

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
