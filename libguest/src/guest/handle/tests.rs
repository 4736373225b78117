use std::path::Path;

use protocol::calls;

use crate::{Error, Guest};

#[test]
fn properties_round_trip_and_bad_values_are_refused() {
    let mut g = Guest::new().unwrap();
    assert_eq!(g.get_memsize().unwrap(), 512);
    g.set_memsize(1024).unwrap();
    assert_eq!(g.get_memsize().unwrap(), 1024);
    assert!(matches!(
        g.set_memsize(1),
        Err(Error::InvalidArgument { .. })
    ));
    g.set_smp(4).unwrap();
    assert_eq!(g.get_smp().unwrap(), 4);
    assert!(g.set_smp(0).is_err() && g.set_smp(256).is_err());
    g.set_append(Some("foo=1".into())).unwrap();
    assert_eq!(g.get_append().unwrap().as_deref(), Some("foo=1"));
    g.set_append(Some(String::new())).unwrap();
    assert_eq!(g.get_append().unwrap(), None);
    g.set_backend("direct").unwrap();
    assert_eq!(g.get_backend().unwrap(), "kvm");
    g.set_backend("tcg").unwrap();
    assert_eq!(g.get_backend().unwrap(), "tcg");
    let err = g.set_backend("libvirt").unwrap_err().to_string();
    assert!(err.contains("libvirt") && err.contains("auto"), "{err}");
    assert!(g.get_autosync().unwrap());
    g.set_autosync(false).unwrap();
    assert!(!g.get_autosync().unwrap());
    g.set_identifier("disk-1_a").unwrap();
    assert_eq!(g.get_identifier().unwrap(), "disk-1_a");
    assert!(g.set_identifier("a b").is_err());
    g.set_program("prog").unwrap();
    assert_eq!(g.get_program().unwrap(), "prog");
    g.set_trace(true).unwrap();
    assert!(g.get_trace().unwrap());
    g.set_trace(false).unwrap();
    assert!(!g.get_network().unwrap());
    g.set_network(false).unwrap();
    assert!(g
        .set_network(true)
        .unwrap_err()
        .to_string()
        .contains("no network"));
}

#[test]
fn states_before_launch() {
    let mut g = Guest::new().unwrap();
    assert_eq!(g.get_state().unwrap(), 0);
    assert!(g.is_config().unwrap());
    assert!(!g.is_ready().unwrap() && !g.is_busy().unwrap() && !g.is_launching().unwrap());
    assert!(matches!(
        g.get_pid(),
        Err(Error::State {
            call: "get_pid",
            ..
        })
    ));
    g.user_cancel().unwrap();
    g.shutdown().unwrap();
}

#[test]
fn feature_groups_follow_the_table() {
    let mut g = Guest::new().unwrap();
    let all = g.available_all_groups().unwrap();
    assert!(all.iter().any(|n| n == "linuxxattrs") && all.iter().any(|n| n == "lvm2"));
    assert!(g.feature_available(vec!["linuxxattrs", "fstrim"]).unwrap());
    g.available(vec!["blkdiscard"]).unwrap();
    assert!(!g.feature_available(vec!["xz"]).unwrap());
    assert!(g
        .available(vec!["xz"])
        .unwrap_err()
        .to_string()
        .contains("txz_in"));
    assert!(g.feature_available(vec!["nosuchgroup"]).is_err());
}

fn qemu_img_info(path: &Path) -> String {
    let out = std::process::Command::new("qemu-img")
        .args(["info", "--output=json"])
        .arg(path)
        .output()
        .expect("qemu-img is needed for this test: apt-get install qemu-utils");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn disk_create_and_probe_agree_with_qemu_img() {
    let dir = tempfile::tempdir().unwrap();
    let raw = dir.path().join("base.raw");
    let top = dir.path().join("top.qcow2");
    let mut g = Guest::new().unwrap();
    g.disk_create(&raw, "raw", 1 << 20, calls::disk_create::Opts::default())
        .unwrap();
    let opts = calls::disk_create::Opts {
        backingfile: Some("base.raw".into()),
        backingformat: Some("raw".into()),
        ..Default::default()
    };
    g.disk_create(&top, "qcow2", -1, opts).unwrap();
    assert_eq!(g.disk_format(&raw).unwrap(), "raw");
    assert_eq!(g.disk_format(&top).unwrap(), "qcow2");
    assert_eq!(g.disk_virtual_size(&top).unwrap(), 1 << 20);
    assert!(g.disk_has_backing_file(&top).unwrap());
    assert!(!g.disk_has_backing_file(&raw).unwrap());
    let info = qemu_img_info(&top);
    assert!(info.contains("\"virtual-size\": 1048576"), "{info}");
    assert!(
        info.contains("\"backing-filename\": \"base.raw\""),
        "{info}"
    );
    assert!(
        info.contains("\"backing-filename-format\": \"raw\""),
        "{info}"
    );
    let bad = calls::disk_create::Opts {
        preallocation: Some("metadata".into()),
        ..Default::default()
    };
    assert!(g
        .disk_create(dir.path().join("x"), "qcow2", 512, bad)
        .is_err());
    assert!(g
        .disk_create(
            dir.path().join("x"),
            "vmdk",
            512,
            calls::disk_create::Opts::default()
        )
        .is_err());
}

#[test]
fn drives_record_labels_and_refuse_other_block_sizes() {
    let dir = tempfile::tempdir().unwrap();
    let raw = dir.path().join("d.raw");
    std::fs::write(&raw, vec![0u8; 1 << 20]).unwrap();
    let mut g = Guest::new().unwrap();
    let opts = calls::add_drive_opts::Opts {
        label: Some("data".into()),
        blocksize: Some(512),
        readonly: Some(true),
        format: Some("raw".into()),
        ..Default::default()
    };
    g.add_drive_opts(&raw, opts).unwrap();
    assert_eq!(g.drives()[0].options.label.as_deref(), Some("data"));
    assert!(g.drives()[0].options.readonly);
    let bad = calls::add_drive_opts::Opts {
        blocksize: Some(4096),
        ..Default::default()
    };
    assert!(g
        .add_drive_opts(&raw, bad)
        .unwrap_err()
        .to_string()
        .contains("512"));
    g.add_drive_scratch(1 << 20).unwrap();
    assert!(g.add_drive_scratch(-1).is_err());
    assert_eq!(g.drives().len(), 2);
}

#[test]
fn generic_callers_reach_host_calls() {
    let mut g = Guest::new().unwrap();
    let args = calls::set_memsize::Args { memsize: 768 };
    g.call::<calls::set_memsize::Call>(&args, crate::Stream::None)
        .unwrap();
    assert_eq!(g.get_memsize().unwrap(), 768);
}
