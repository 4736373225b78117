//! setfiles and selinux_relabel on a loop-mounted ext4, checked with the
//! security.selinux xattrs getfattr reads; dmesg and utsname against the
//! host's dmesg and uname. Needs root.

use protocol::types::Pathname;
use protocol::{calls, ErrorReply};

use super::{selinux_relabel, setfiles};
use crate::daemon::kernel::{dmesg, utsname};
use crate::daemon::tests::{run, LoopFs, TestIo};

fn label(path: &std::path::Path) -> String {
    let out = run(
        "getfattr",
        &[
            "--absolute-names",
            "--only-values",
            "-n",
            "security.selinux",
            &path.to_string_lossy(),
        ],
    );
    out.trim_end_matches('\0').to_owned()
}

fn ok<T>(what: &str, r: Result<T, ErrorReply>) -> T {
    r.unwrap_or_else(|e| panic!("{what}: {e:?}"))
}

#[test]
fn setfiles_labels_as_the_spec_says() {
    let mut fs = LoopFs::new("ext4", 64, "SEL");
    let mut d = fs.daemon();
    let root = d.root.path().to_path_buf();
    std::fs::create_dir_all(root.join("etc/selinux")).expect("mkdir");
    std::fs::create_dir_all(root.join("srv/data")).expect("mkdir");
    std::fs::create_dir_all(root.join("proc")).expect("mkdir");
    std::fs::write(root.join("etc/hostname"), "h\n").expect("write");
    std::fs::write(root.join("srv/data/f"), "x").expect("write");
    std::fs::write(root.join("proc/skipped"), "x").expect("write");
    std::fs::write(
        root.join("etc/selinux/file_contexts"),
        "/.*\tsystem_u:object_r:default_t:s0\n/etc(/.*)?\tsystem_u:object_r:etc_t:s0\n/srv(/.*)?\tsystem_u:object_r:var_t:s0\n",
    )
    .expect("spec");
    let spec = Pathname::new("/etc/selinux/file_contexts").expect("path");
    let a = calls::setfiles::Args {
        specfile: spec.clone(),
        paths: vec!["/etc".into(), "/srv".into(), "/proc".into()],
        force: None,
    };
    ok("setfiles", setfiles(&mut d, &mut TestIo::default(), a));
    assert_eq!(
        label(&root.join("etc/hostname")),
        "system_u:object_r:etc_t:s0"
    );
    assert_eq!(
        label(&root.join("srv/data/f")),
        "system_u:object_r:var_t:s0"
    );
    // /proc is excluded, as libguestfs excludes it.
    let proc_label = std::process::Command::new("getfattr")
        .args(["-n", "security.selinux", "--absolute-names"])
        .arg(root.join("proc/skipped"))
        .output()
        .expect("getfattr");
    assert!(!proc_label.status.success(), "{proc_label:?}");

    // Without force only the type changes; with force the whole context.
    std::fs::write(
        root.join("etc/selinux/file_contexts"),
        "/.*\tother_u:other_r:tmp_t:s0\n",
    )
    .expect("spec");
    let a = calls::selinux_relabel::Args {
        specfile: spec.clone(),
        path: Pathname::new("/etc/hostname").expect("path"),
        force: None,
    };
    ok(
        "selinux_relabel",
        selinux_relabel(&mut d, &mut TestIo::default(), a),
    );
    assert_eq!(
        label(&root.join("etc/hostname")),
        "system_u:object_r:tmp_t:s0"
    );
    let a = calls::selinux_relabel::Args {
        specfile: spec.clone(),
        path: Pathname::new("/etc/hostname").expect("path"),
        force: Some(true),
    };
    ok(
        "selinux_relabel force",
        selinux_relabel(&mut d, &mut TestIo::default(), a),
    );
    assert_eq!(
        label(&root.join("etc/hostname")),
        "other_u:other_r:tmp_t:s0"
    );

    // A symlink out of the guest stays inside it; a missing path is an error.
    std::os::unix::fs::symlink("/etc/passwd", root.join("srv/out")).expect("symlink");
    let a = calls::setfiles::Args {
        specfile: spec.clone(),
        paths: vec!["/missing".into()],
        force: None,
    };
    assert!(setfiles(&mut d, &mut TestIo::default(), a).is_err());
    let a = calls::setfiles::Args {
        specfile: spec,
        paths: vec![],
        force: None,
    };
    assert!(setfiles(&mut d, &mut TestIo::default(), a).is_err());
}

#[test]
fn dmesg_and_utsname_are_the_kernels() {
    let mut fs = LoopFs::new("ext4", 16, "");
    let mut d = fs.daemon();
    let log = ok(
        "dmesg",
        dmesg(&mut d, &mut TestIo::default(), calls::dmesg::Args {}),
    );
    let real = run("dmesg", &[]);
    // The ring moves on: the first line dmesg printed is in ours, or the
    // oldest record was dropped between the two reads.
    let first = real.lines().next().unwrap_or_default();
    assert!(!log.is_empty());
    assert!(
        log.lines().all(|l| l.starts_with('[') && l.contains("] ")),
        "{log}"
    );
    assert!(
        log.contains(first) || log.len() > 1 << 20,
        "{first:?} not in our dmesg"
    );

    let u = ok(
        "utsname",
        utsname(&mut d, &mut TestIo::default(), calls::utsname::Args {}),
    );
    assert_eq!(u.uts_sysname, run("uname", &["-s"]));
    assert_eq!(u.uts_release, run("uname", &["-r"]));
    assert_eq!(u.uts_version, run("uname", &["-v"]));
    assert_eq!(u.uts_machine, run("uname", &["-m"]));
}
