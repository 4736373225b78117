//! The capability calls on loop-mounted ext4 and xfs, checked against the
//! host's getcap and setcap (libcap2-bin) on the same files.

use std::path::Path;
use std::process::Command;

use super::*;
use crate::daemon::tests::{p, run, LoopFs, TestIo};

fn each(mut test: impl FnMut(&str, &mut GuestDaemon, &Path)) {
    for fstype in ["ext4", "xfs"] {
        let size = if fstype == "xfs" { 300 } else { 32 };
        let mut fs = LoopFs::new(fstype, size, "CAPS");
        let mut d = fs.daemon();
        let root = fs
            .mountpoint
            .as_ref()
            .expect("mounted")
            .path()
            .to_path_buf();
        test(fstype, &mut d, &root);
    }
}

/// What getcap prints after the file name ("" for no capabilities).
fn getcap(file: &Path, ns: bool) -> String {
    let f = file.to_str().expect("utf-8 path");
    let out = if ns {
        run("getcap", &["-n", f])
    } else {
        run("getcap", &[f])
    };
    match out.strip_prefix(f) {
        Some(rest) => rest.trim_start().to_owned(),
        None => {
            assert!(out.is_empty(), "getcap {f}: {out}");
            String::new()
        }
    }
}

fn setcap(args: &[&str]) -> bool {
    Command::new("setcap")
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("setcap: {e} (install libcap2-bin: see scripts/setup.sh)"))
        .status
        .success()
}

fn raw(file: &Path) -> Vec<u8> {
    let mut buf = vec![0u8; 64];
    let n = rustix::fs::getxattr(file, XATTR, &mut buf[..]).expect("host getxattr");
    buf.truncate(n);
    buf
}

fn get(d: &mut GuestDaemon, path: &str) -> Reply<String> {
    let args = calls::cap_get_file::Args { path: p(path) };
    cap_get_file(d, &mut TestIo::default(), args)
}

fn set(d: &mut GuestDaemon, path: &str, cap: &str) -> Reply<()> {
    let args = calls::cap_set_file::Args {
        path: p(path),
        cap: cap.into(),
    };
    cap_set_file(d, &mut TestIo::default(), args)
}

fn remove(d: &mut GuestDaemon, path: &str) -> Reply<()> {
    let args = calls::cap_remove_file::Args { path: p(path) };
    cap_remove_file(d, &mut TestIo::default(), args)
}

const SETS: [&str; 18] = [
    "cap_chown+e",
    "cap_chown+ep cap_kill+e",
    "cap_net_raw+ep",
    "cap_net_admin,cap_net_raw=ep",
    "cap_sys_admin+i",
    "cap_bpf+ep",
    "cap_chown,cap_bpf,cap_checkpoint_restore=eip",
    "cap_setuid=p cap_setgid+i",
    "cap_fowner+eip",
    "CAP_NET_RAW+pe",
    "12,13=ep",
    "0x15+i 040+p",
    "all=ep",
    "all=p cap_chown-p",
    "all+i cap_kill,cap_mknod-i cap_bpf+p",
    "=",
    "  cap_perfmon=i+p   cap_syslog=p-p ",
    "cap_sys_time,cap_audit_read=+p",
];

#[test]
fn set_matches_setcap_and_getcap() {
    each(|fstype, d, root| {
        for (k, text) in SETS.iter().enumerate() {
            let ours = format!("/ours{k}");
            let theirs = root.join(format!("theirs{k}"));
            std::fs::write(root.join(&ours[1..]), b"x").unwrap();
            std::fs::write(&theirs, b"x").unwrap();
            set(d, &ours, text).unwrap_or_else(|e| panic!("{fstype} {text:?}: {e}"));
            assert!(
                setcap(&[text, theirs.to_str().unwrap()]),
                "{fstype}: setcap {text:?}"
            );
            // The same bytes as libcap writes, the same text as it prints.
            assert_eq!(
                raw(&root.join(&ours[1..])),
                raw(&theirs),
                "{fstype} {text:?}"
            );
            let printed = getcap(&theirs, false);
            assert!(!printed.is_empty(), "{fstype} {text:?}");
            assert_eq!(get(d, &ours).unwrap(), printed, "{fstype} {text:?}");
            assert_eq!(
                get(d, &format!("/theirs{k}")).unwrap(),
                printed,
                "{fstype} {text:?}"
            );
            // And the printed form reads back as the same set (an
            // effective flag with nothing else set prints as "=" and is
            // lost, in libcap too).
            set(d, &ours, &printed).unwrap();
            assert_eq!(
                getcap(&root.join(&ours[1..]), false),
                printed,
                "{fstype} {printed:?}"
            );
        }
    });
}

#[test]
fn none_remove_symlink_and_rootid() {
    each(|fstype, d, root| {
        std::fs::write(root.join("f"), b"x").unwrap();
        std::os::unix::fs::symlink("/f", root.join("l")).unwrap();
        assert_eq!(get(d, "/f").unwrap(), "", "{fstype}");
        set(d, "/l", "cap_net_raw+ep").unwrap();
        assert_eq!(getcap(&root.join("f"), false), "cap_net_raw=ep");
        assert_eq!(get(d, "/l").unwrap(), "cap_net_raw=ep");
        remove(d, "/f").unwrap();
        assert_eq!(getcap(&root.join("f"), false), "", "{fstype}");
        assert_eq!(get(d, "/f").unwrap(), "", "{fstype}");
        let e = remove(d, "/f").unwrap_err();
        assert_eq!(e.errno, libc::ENODATA, "{e}");
        assert!(e.to_string().contains("/f"), "{e}");
        assert_eq!(get(d, "/nothing").unwrap_err().errno, libc::ENOENT);
        // A namespaced (revision 3) value, as getcap -n prints it.
        let f = root.join("f");
        assert!(setcap(&[
            "-n",
            "1000",
            "cap_net_raw,cap_bpf+ep",
            f.to_str().unwrap()
        ]));
        assert_eq!(raw(&f).len(), 24, "{fstype}");
        let printed = getcap(&f, true);
        assert_eq!(printed, "cap_net_raw,cap_bpf=ep [rootid=1000]");
        assert_eq!(get(d, "/f").unwrap(), printed);
    });
}

#[test]
fn bad_text_is_refused_as_setcap_refuses_it() {
    let bad = [
        "cap_nonesuch+ep",
        "cap_chown+x",
        "+ep",
        "cap_chown",
        "cap_chown+",
        "64+ep",
        "cap_chown,+p",
        "cap_chown=+",
        "=+p",
        "cap_chown+ep cap_fowner+p",
        "cap_chown+p cap_kill+ep",
        "all=p cap_bpf+e",
        "cap_chown\u{0}+p",
    ];
    each(|fstype, d, root| {
        std::fs::write(root.join("f"), b"x").unwrap();
        set(d, "/f", "cap_kill+p").unwrap();
        for text in bad {
            let e = set(d, "/f", text).unwrap_err();
            assert_eq!(
                e.kind,
                protocol::ErrorKind::InvalidArgument,
                "{fstype} {text:?}: {e}"
            );
            assert!(e.to_string().contains("/f"), "{e}");
            if !text.contains('\0') {
                let f = root.join("f");
                assert!(
                    !setcap(&[text, f.to_str().unwrap()]),
                    "setcap took {text:?}"
                );
            }
            assert_eq!(get(d, "/f").unwrap(), "cap_kill=p", "{fstype} {text:?}");
        }
    });
}

#[test]
fn planted_malformed_value() {
    // debugfs writes the value raw: the kernel would refuse it in setxattr.
    let mut fs = LoopFs::new("ext4", 32, "CAPS");
    let dir = tempfile::tempdir().unwrap();
    let (file, value) = (dir.path().join("f"), dir.path().join("v"));
    std::fs::write(&file, b"x").unwrap();
    std::fs::write(&value, [0, 0, 0, 2, 1, 2, 3]).unwrap();
    let image = fs.image.path().to_str().unwrap().to_owned();
    let w = format!("write {} f", file.display());
    run("debugfs", &["-w", "-R", &w, &image]);
    let ea = format!("ea_set -f {} f security.capability", value.display());
    run("debugfs", &["-w", "-R", &ea, &image]);
    let mut d = fs.daemon();
    let e = get(&mut d, "/f").unwrap_err();
    assert!(
        e.to_string().contains("/f") && e.to_string().contains("malformed"),
        "{e}"
    );
    remove(&mut d, "/f").unwrap();
    assert_eq!(get(&mut d, "/f").unwrap(), "");
}

#[test]
fn decode_every_revision_and_refuse_the_rest() {
    let mut v1 = REVISION_1.to_le_bytes().to_vec();
    v1.extend(1u32.to_le_bytes());
    v1.extend(0u32.to_le_bytes());
    let fc = decode(&v1).unwrap();
    assert_eq!(describe(&fc, 41), "cap_chown=p");
    v1[0] = 1;
    assert_eq!(describe(&decode(&v1).unwrap(), 41), "cap_chown=ep");

    let mut v2 = encode(&Caps::from_text("cap_bpf,cap_kill=eip", 41).unwrap())
        .unwrap()
        .to_vec();
    assert_eq!(describe(&decode(&v2).unwrap(), 41), "cap_kill,cap_bpf=eip");
    // Bits the kernel does not know print as numbers, always as `+`.
    v2[15] = 0x80;
    assert_eq!(
        describe(&decode(&v2).unwrap(), 41),
        "cap_kill,cap_bpf=eip 63+ep"
    );
    assert_eq!(
        describe(&decode(&v2).unwrap(), 64),
        "cap_kill,cap_bpf=eip 63+ep"
    );

    let mut v3 = v2.clone();
    v3[0] = 0;
    v3[3] = 3;
    v3.extend(7u32.to_le_bytes());
    assert_eq!(
        describe(&decode(&v3).unwrap(), 41),
        "cap_kill,cap_bpf=ip 63+p [rootid=7]"
    );

    for bad in [
        &[][..],
        &[0, 0, 0][..],
        &v1[..11],
        &v2[..19],
        &v3[..20],
        &[0, 0, 0, 4, 0, 0, 0, 0][..],
        &[0u8; 20][..],
    ] {
        assert!(decode(bad).is_err(), "{bad:?}");
    }
    let mut long = v2.clone();
    long.push(0);
    assert!(decode(&long).is_err());
}

#[test]
fn text_round_trips() {
    for bits in [38u32, 41, 64] {
        for text in SETS {
            let caps = Caps::from_text(text, bits).unwrap();
            let printed = caps.to_text(bits);
            assert_eq!(
                Caps::from_text(&printed, bits).unwrap(),
                caps,
                "{text:?} {printed:?}"
            );
        }
    }
    assert_eq!(Caps::default().to_text(41), "=");
}
