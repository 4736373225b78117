use std::path::Path;

use protocol::calls;

use crate::{Error, Guest};

#[test]
fn properties_round_trip_and_bad_values_are_refused() {
    let mut g = Guest::new().unwrap();
    assert_eq!(g.get_memsize().unwrap(), 512);
    g.set_memsize(1024).unwrap();
    assert_eq!(g.get_memsize().unwrap(), 1024);
    for bad in [-1, 0, 127, 65537, i64::MAX] {
        let err = g.set_memsize(bad).unwrap_err();
        assert!(
            matches!(&err, Error::InvalidArgument { call: "set_memsize", message } if message.contains("128 to 65536")),
            "{err}"
        );
    }
    assert_eq!(
        g.get_memsize().unwrap(),
        1024,
        "a refused value changes nothing"
    );
    g.set_memsize(128).unwrap();
    g.set_memsize(65536).unwrap();
    assert_eq!(g.get_memsize().unwrap(), 65536);
    assert_eq!(g.get_smp().unwrap(), 1);
    g.set_smp(4).unwrap();
    assert_eq!(g.get_smp().unwrap(), 4);
    g.set_smp(16).unwrap();
    for bad in [0, 17, 256, -1] {
        assert!(g.set_smp(bad).is_err(), "{bad}");
    }
    assert_eq!(g.get_smp().unwrap(), 16);
    g.set_append(Some("foo=1".into())).unwrap();
    assert_eq!(g.get_append().unwrap().as_deref(), Some("foo=1"));
    g.set_append(Some(String::new())).unwrap();
    assert_eq!(g.get_append().unwrap(), None);
    for (name, is) in [
        ("direct", "kvm"),
        ("kvm", "kvm"),
        ("qemu", "tcg"),
        ("tcg", "tcg"),
        ("auto", "auto"),
        ("", "auto"),
    ] {
        g.set_backend(name).unwrap();
        assert_eq!(g.get_backend().unwrap(), is, "{name}");
    }
    g.set_backend(crate::Backend::Tcg).unwrap();
    assert_eq!(g.get_backend().unwrap(), "tcg");
    for bad in ["libvirt", "uml", "unix:/tmp/s", "KVM "] {
        let err = g.set_backend(bad).unwrap_err().to_string();
        assert!(err.contains("auto") && err.contains("tcg"), "{err}");
    }
    assert_eq!(g.get_backend().unwrap(), "tcg");
    assert!(g.get_autosync().unwrap());
    g.set_autosync(false).unwrap();
    assert!(!g.get_autosync().unwrap());
    assert_eq!(g.get_identifier().unwrap(), "");
    g.set_identifier("disk-1_a").unwrap();
    assert_eq!(g.get_identifier().unwrap(), "disk-1_a");
    for bad in ["a b", "a:b", "é", "a\n", "a/b", "a.b"] {
        let err = g.set_identifier(bad).unwrap_err().to_string();
        assert!(err.contains("ASCII letters, digits, _ and -"), "{err}");
    }
    assert_eq!(g.get_identifier().unwrap(), "disk-1_a");
    g.set_identifier("").unwrap();
    assert_eq!(g.get_identifier().unwrap(), "");
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
    assert_eq!(g.get_state().unwrap(), 0);

    // A handle whose appliance is gone is back in config, as in
    // libguestfs, but a libguest handle launches once: settings refused.
    g.kill_handle().kill();
    assert!(matches!(g.launch(), Err(Error::Killed { .. })));
    assert_eq!(g.get_state().unwrap(), 0);
    assert!(g.is_config().unwrap() && !g.is_ready().unwrap());
    assert!(matches!(
        g.set_memsize(1024),
        Err(Error::State {
            call: "set_memsize",
            ..
        })
    ));
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

/// `qemu-img info --output=json`, or None where qemu-img is not
/// installed (qemu-utils): the cross-check is then skipped.
fn qemu_img_info(path: &Path) -> Option<String> {
    match std::process::Command::new("qemu-img")
        .args(["info", "--output=json"])
        .arg(path)
        .output()
    {
        Ok(out) => Some(String::from_utf8_lossy(&out.stdout).into_owned()),
        Err(_) => {
            eprintln!("qemu-img not installed (qemu-utils): cross-check skipped");
            None
        }
    }
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
    if let Some(info) = qemu_img_info(&top) {
        assert!(info.contains("\"virtual-size\": 1048576"), "{info}");
        assert!(
            info.contains("\"backing-filename\": \"base.raw\""),
            "{info}"
        );
        assert!(
            info.contains("\"backing-filename-format\": \"raw\""),
            "{info}"
        );
    }

    // qcow2 sizes round up to a sector as qemu-img's do; raw ones are exact.
    let odd = dir.path().join("odd.qcow2");
    let meta = calls::disk_create::Opts {
        preallocation: Some("metadata".into()),
        compat: Some("1.1".into()),
        clustersize: Some(65536),
        ..Default::default()
    };
    g.disk_create(&odd, "qcow2", 1000, meta).unwrap();
    assert_eq!(g.disk_virtual_size(&odd).unwrap(), 1024);
    if let Some(info) = qemu_img_info(&odd) {
        assert!(info.contains("\"virtual-size\": 1024"), "{info}");
        assert!(info.contains("\"compat\": \"1.1\""), "{info}");
    }
    // Without backingformat the backing file's format is detected, as
    // libguestfs does, and recorded.
    let detected = dir.path().join("detected.qcow2");
    let opts = calls::disk_create::Opts {
        backingfile: Some("odd.qcow2".into()),
        ..Default::default()
    };
    g.disk_create(&detected, "qcow2", -1, opts).unwrap();
    assert_eq!(g.disk_virtual_size(&detected).unwrap(), 1024);
    if let Some(info) = qemu_img_info(&detected) {
        assert!(
            info.contains("\"backing-filename-format\": \"qcow2\""),
            "{info}"
        );
    }
    let old = dir.path().join("old.qcow2");
    let v2 = calls::disk_create::Opts {
        compat: Some("0.10".into()),
        ..Default::default()
    };
    g.disk_create(&old, "qcow2", 1 << 20, v2).unwrap();
    assert_eq!(g.disk_format(&old).unwrap(), "qcow2");
    if let Some(info) = qemu_img_info(&old) {
        assert!(info.contains("\"compat\": \"0.10\""), "{info}");
    }
    let exact = dir.path().join("exact.raw");
    g.disk_create(&exact, "raw", 1000, calls::disk_create::Opts::default())
        .unwrap();
    assert_eq!(std::fs::metadata(&exact).unwrap().len(), 1000);
    // qemu-img (so libguestfs) reports a raw file in whole sectors.
    assert_eq!(g.disk_virtual_size(&exact).unwrap(), 1024);

    let x = dir.path().join("x");
    let cases: Vec<(&str, i64, calls::disk_create::Opts, &str)> = vec![
        ("vmdk", 512, Default::default(), "raw or qcow2"),
        ("raw", -2, Default::default(), "size -2"),
        (
            "raw",
            512,
            calls::disk_create::Opts {
                preallocation: Some("metadata".into()),
                ..Default::default()
            },
            "off, sparse or full",
        ),
        (
            "qcow2",
            512,
            calls::disk_create::Opts {
                preallocation: Some("falloc".into()),
                ..Default::default()
            },
            "metadata",
        ),
        (
            "qcow2",
            512,
            calls::disk_create::Opts {
                compat: Some("0.9".into()),
                ..Default::default()
            },
            "0.10 or 1.1",
        ),
        (
            "qcow2",
            512,
            calls::disk_create::Opts {
                compat: Some("0.10".into()),
                preallocation: Some("metadata".into()),
                ..Default::default()
            },
            "version-3 images only",
        ),
        (
            "raw",
            512,
            calls::disk_create::Opts {
                compat: Some("1.1".into()),
                ..Default::default()
            },
            "qcow2 only",
        ),
        (
            "qcow2",
            512,
            calls::disk_create::Opts {
                clustersize: Some(1000),
                ..Default::default()
            },
            "power of two",
        ),
        (
            "qcow2",
            512,
            calls::disk_create::Opts {
                clustersize: Some(4 << 20),
                ..Default::default()
            },
            "power of two",
        ),
        (
            "raw",
            512,
            calls::disk_create::Opts {
                clustersize: Some(4096),
                ..Default::default()
            },
            "qcow2 only",
        ),
        (
            "raw",
            512,
            calls::disk_create::Opts {
                backingfile: Some("base.raw".into()),
                backingformat: Some("raw".into()),
                ..Default::default()
            },
            "need format qcow2",
        ),
        (
            "raw",
            512,
            calls::disk_create::Opts {
                backingformat: Some("raw".into()),
                ..Default::default()
            },
            "need format qcow2",
        ),
        (
            "qcow2",
            512,
            calls::disk_create::Opts {
                backingformat: Some("raw".into()),
                ..Default::default()
            },
            "without backingfile",
        ),
        (
            "qcow2",
            1 << 20,
            calls::disk_create::Opts {
                backingfile: Some("base.raw".into()),
                ..Default::default()
            },
            "must be -1",
        ),
        (
            "qcow2",
            -1,
            calls::disk_create::Opts {
                backingfile: Some("base.raw".into()),
                backingformat: Some("vmdk".into()),
                ..Default::default()
            },
            "raw or qcow2",
        ),
        ("raw", 0, Default::default(), "more than 0"),
        (
            "qcow2",
            -1,
            calls::disk_create::Opts {
                backingfile: Some("base.raw".into()),
                backingformat: Some("raw".into()),
                preallocation: Some("metadata".into()),
                ..Default::default()
            },
            "sparse only",
        ),
        ("qcow2", -1, Default::default(), "size -1"),
    ];
    for (format, size, opts, says) in cases {
        let err = g.disk_create(&x, format, size, opts).unwrap_err();
        assert!(
            matches!(&err, Error::InvalidArgument { call: "disk_create", message } if message.contains(says)),
            "{format} {size}: {err}"
        );
        assert!(!x.exists(), "a refused disk_create made {}", x.display());
    }
}

#[test]
fn other_formats_are_named_but_not_read() {
    let dir = tempfile::tempdir().unwrap();
    let vmdk = dir.path().join("d.vmdk");
    let mut bytes = b"KDMV".to_vec();
    bytes.resize(4096, 0);
    std::fs::write(&vmdk, &bytes).unwrap();
    let mut g = Guest::new().unwrap();
    assert_eq!(g.disk_format(&vmdk).unwrap(), "vmdk");
    for err in [
        g.disk_virtual_size(&vmdk).unwrap_err(),
        g.disk_has_backing_file(&vmdk).map(|_| 0).unwrap_err(),
    ] {
        assert!(err.to_string().contains("qemu-img convert"), "{err}");
    }
    let fifo = dir.path().join("fifo");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let err = g.disk_format(&fifo).unwrap_err();
    assert!(err.to_string().contains("FIFO"), "{err}");
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
    for label in ["", "a1", "a_b", "abcdefghijklmnopqrstu"] {
        let opts = calls::add_drive_opts::Opts {
            label: Some(label.into()),
            ..Default::default()
        };
        let err = g.add_drive_opts(&raw, opts).unwrap_err().to_string();
        assert!(err.contains("1 to 20 ASCII letters"), "{label:?}: {err}");
    }
    let opts = calls::add_drive_opts::Opts {
        label: Some("abcdefghijklmnopqrst".into()),
        blocksize: Some(0),
        readonly: Some(true),
        ..Default::default()
    };
    g.add_drive_opts(&raw, opts).unwrap();
    let scratch = calls::add_drive_scratch::Opts {
        label: Some("scratch".into()),
        blocksize: Some(512),
    };
    g.add_drive_scratch(1 << 20, scratch).unwrap();
    assert_eq!(g.drives()[2].options.label.as_deref(), Some("scratch"));
    assert_eq!(g.drives()[2].size(), 1 << 20);
    assert!(g
        .add_drive_scratch(-1, calls::add_drive_scratch::Opts::default())
        .is_err());
    let bad = calls::add_drive_scratch::Opts {
        blocksize: Some(4096),
        ..Default::default()
    };
    assert!(g.add_drive_scratch(1 << 20, bad).is_err());
    assert_eq!(g.drives().len(), 3);
}

/// libguestfs's `discard`: default disable, enable refused where the
/// drive cannot discard (with libguestfs's words, and the file), besteffort
/// quietly off there; `copyonread` recorded; a bad value named.
#[test]
fn discard_and_copyonread_follow_libguestfs() {
    let dir = tempfile::tempdir().unwrap();
    let raw = dir.path().join("d.raw");
    std::fs::write(&raw, vec![0u8; 1 << 20]).unwrap();
    let mut g = Guest::new().unwrap();
    let opts = |discard: Option<&str>, readonly: bool, overlay: Option<bool>| {
        calls::add_drive_opts::Opts {
            discard: discard.map(Into::into),
            readonly: Some(readonly),
            overlay,
            copyonread: Some(true),
            ..Default::default()
        }
    };
    g.add_drive_opts(&raw, opts(None, false, None)).unwrap();
    g.add_drive_opts(&raw, opts(Some("disable"), false, None))
        .unwrap();
    g.add_drive_opts(&raw, opts(Some("enable"), false, None))
        .unwrap();
    g.add_drive_opts(&raw, opts(Some("besteffort"), false, None))
        .unwrap();
    g.add_drive_opts(&raw, opts(Some("besteffort"), true, None))
        .unwrap();
    g.add_drive_opts(&raw, opts(Some("besteffort"), false, Some(true)))
        .unwrap();
    let found: Vec<bool> = g.drives().iter().map(|d| d.discards()).collect();
    assert_eq!(found, [false, false, true, true, false, false]);
    assert!(g.drives().iter().all(|d| d.options.copy_on_read));

    let err = g
        .add_drive_opts(&raw, opts(Some("enable"), true, None))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("discard support cannot be enabled on read-only drives")
            && err.contains("d.raw"),
        "{err}"
    );
    let err = g
        .add_drive_opts(&raw, opts(Some("enable"), false, Some(true)))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("discard cannot be enabled on this drive: the drive has a read-only overlay"),
        "{err}"
    );
    let err = g
        .add_drive_opts(&raw, opts(Some("on"), false, None))
        .unwrap_err()
        .to_string();
    assert!(err.contains("'disable', 'enable' or 'besteffort'"), "{err}");
    assert_eq!(g.drives().len(), 6);
    // A scratch disk is libguest's own: its discards free its space.
    g.add_drive_scratch(1 << 20, calls::add_drive_scratch::Opts::default())
        .unwrap();
    assert!(g.drives()[6].discards());
}

#[test]
fn generic_callers_reach_host_calls() {
    let mut g = Guest::new().unwrap();
    let args = calls::set_memsize::Args { memsize: 768 };
    g.call::<calls::set_memsize::Call>(&args, crate::Stream::None)
        .unwrap();
    assert_eq!(g.get_memsize().unwrap(), 768);
}
