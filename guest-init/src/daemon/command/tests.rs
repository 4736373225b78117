//! command and sh on a real ext4 guest tree holding the host's /bin/sh
//! and the libraries ldd names (no busybox on the build hosts).

use std::fs;
use std::os::unix::fs::symlink;
use std::path::Path;

use protocol::{calls, Daemon, ErrorKind, ErrorReply};

use crate::daemon::state::GuestDaemon;
use crate::daemon::tests::{run, LoopFs, TestIo};

/// Copies a host binary and its shared libraries to the same paths in
/// the tree.
fn install(root: &Path, binary: &str) {
    let mut files = vec![binary.to_owned()];
    for line in run("ldd", &[binary]).lines() {
        // "libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x…)" or
        // "/lib64/ld-linux-x86-64.so.2 (0x…)"
        let path = line
            .split("=>")
            .last()
            .unwrap_or("")
            .split_whitespace()
            .next();
        if let Some(path) = path.filter(|p| p.starts_with('/')) {
            files.push(path.to_owned());
        }
    }
    for f in files {
        let dest = root.join(f.trim_start_matches('/'));
        fs::create_dir_all(dest.parent().unwrap()).unwrap();
        fs::copy(fs::canonicalize(&f).unwrap(), &dest).unwrap();
    }
}

/// An ext4 guest tree with /bin/sh, /dev, /proc and /sys.
fn guest() -> (LoopFs, GuestDaemon) {
    let mut fs = LoopFs::new("ext4", 64, "CMD");
    let d = fs.daemon();
    let root = d.root.path().to_path_buf();
    install(&root, "/bin/sh");
    for dir in ["dev", "proc", "sys", "tmp"] {
        fs::create_dir(root.join(dir)).unwrap();
    }
    (fs, d)
}

fn sh(d: &mut GuestDaemon, command: &str) -> Result<String, ErrorReply> {
    let args = calls::sh::Args {
        command: command.into(),
    };
    d.sh(&mut TestIo::default(), args)
}

fn command(d: &mut GuestDaemon, argv: &[&str]) -> Result<String, ErrorReply> {
    let args = calls::command::Args {
        arguments: argv.iter().map(|s| s.to_string()).collect(),
    };
    d.command(&mut TestIo::default(), args)
}

/// The appliance mounts under the guest root, from mountinfo.
fn mounts_under(root: &Path) -> Vec<String> {
    let root = fs::canonicalize(root).unwrap();
    let prefix = format!("{}/", root.display());
    fs::read_to_string("/proc/self/mountinfo")
        .unwrap()
        .lines()
        .filter_map(|l| l.split(' ').nth(4).map(str::to_owned))
        .filter(|m| m.starts_with(&prefix))
        .collect()
}

#[test]
fn runs_in_the_guest_tree_with_binds() {
    let (_fs, mut d) = guest();
    let root = d.root.path().to_path_buf();
    assert_eq!(sh(&mut d, "echo hello; echo noise >&2").unwrap(), "hello\n");
    // Chrooted: / is the guest tree.
    sh(&mut d, "echo x > /marker").unwrap();
    assert_eq!(fs::read_to_string(root.join("marker")).unwrap(), "x\n");
    // /dev, /proc and /sys are the appliance's during the run ...
    let got = sh(
        &mut d,
        "echo ok > /dev/null && [ -d /proc/self ] && [ -d /sys/kernel ] && echo bound",
    )
    .unwrap();
    assert_eq!(got, "bound\n");
    // ... and gone after it.
    assert_eq!(mounts_under(&root), Vec::<String>::new());
    assert!(!root.join("proc/self").exists());
    // Arguments are passed as they are, no shell in between.
    let got = command(
        &mut d,
        &["/bin/sh", "-c", "echo \"$1|$2\"", "sh", "a b", "$c"],
    )
    .unwrap();
    assert_eq!(got, "a b|$c\n");
    // PATH lookup happens inside the guest.
    assert_eq!(
        command(&mut d, &["sh", "-c", "echo $PATH"]).unwrap().trim(),
        protocol::tools::SEARCH_DIRS.join(":")
    );
}

#[test]
fn lines() {
    let (_fs, mut d) = guest();
    let lines = |d: &mut GuestDaemon, c: &str| {
        d.sh_lines(
            &mut TestIo::default(),
            calls::sh_lines::Args { command: c.into() },
        )
        .unwrap()
    };
    assert_eq!(lines(&mut d, "printf 'a\\nb\\n'"), ["a", "b"]);
    assert_eq!(lines(&mut d, "printf 'a\\n\\nb'"), ["a", "", "b"]);
    assert_eq!(lines(&mut d, "printf 'a\\n\\n'"), ["a", ""]);
    assert!(lines(&mut d, "true").is_empty());
    let args = calls::command_lines::Args {
        arguments: vec!["/bin/sh".into(), "-c".into(), "echo 1; echo 2".into()],
    };
    assert_eq!(
        d.command_lines(&mut TestIo::default(), args).unwrap(),
        ["1", "2"]
    );
}

#[test]
fn failures_carry_status_and_output() {
    let (_fs, mut d) = guest();
    let root = d.root.path().to_path_buf();
    let e = sh(&mut d, "echo partial; echo 'it broke' >&2; exit 3").unwrap_err();
    assert_eq!(e.kind, ErrorKind::CommandFailed);
    assert_eq!(e.errno, 3);
    assert!(
        e.message.starts_with("sh: /bin/sh exited with status 3"),
        "{}",
        e.message
    );
    assert!(e.message.contains("stderr:\nit broke"), "{}", e.message);
    assert!(e.message.contains("stdout:\npartial"), "{}", e.message);
    // Killed by a signal.
    let e = sh(&mut d, "kill -9 $$").unwrap_err();
    assert_eq!((e.kind, e.errno), (ErrorKind::CommandFailed, 137));
    assert!(e.message.contains("killed by signal 9"), "{}", e.message);
    // Terminal escapes in guest output are defused.
    let e = sh(&mut d, "printf '\\033[2J' >&2; exit 1").unwrap_err();
    assert!(e.message.contains("\\x1b[2J"), "{}", e.message);
    // A program the guest does not have.
    let e = command(&mut d, &["/bin/nonesuch"]).unwrap_err();
    assert_eq!((e.kind, e.errno), (ErrorKind::Errno, libc::ENOENT));
    let e = command(&mut d, &[]).unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidArgument);
    // No bind is left behind by any of these.
    assert_eq!(mounts_under(&root), Vec::<String>::new());
}

#[test]
fn output_over_one_message_and_over_the_reply_limit() {
    let (_fs, mut d) = guest();
    // 1 KiB lines: 5000 are over one message (its reply goes in parts),
    // 66,000 over the 64 MiB reply limit.
    let lines = |n: u32| {
        format!(
            "s=$(printf '%01023d' 0); i=0; while [ $i -lt {n} ]; do echo \"$s\"; i=$((i+1)); done"
        )
    };
    let out = sh(&mut d, &lines(5000)).unwrap();
    assert_eq!(out.len(), 5000 * 1024);
    assert!(out.lines().all(|l| l.len() == 1023));
    let args = calls::sh_lines::Args {
        command: lines(5000),
    };
    assert_eq!(
        d.sh_lines(&mut TestIo::default(), args).unwrap().len(),
        5000
    );
    let e = sh(&mut d, &lines(66_000)).unwrap_err();
    assert_eq!(e.kind, ErrorKind::TooLarge);
    assert!(e.message.contains("67584000 bytes"), "{}", e.message);
    assert!(e.message.contains("download"), "{}", e.message);
    // Lines: the list's encoding counts too.
    let args = calls::sh_lines::Args {
        command: lines(65_500),
    };
    let e = d.sh_lines(&mut TestIo::default(), args).unwrap_err();
    assert_eq!(e.kind, ErrorKind::TooLarge);
}

#[test]
fn hostile_tree_and_cancel() {
    let (_fs, mut d) = guest();
    let root = d.root.path().to_path_buf();
    // /proc and /sys as symlinks leading out of the tree: not bound.
    fs::remove_dir(root.join("proc")).unwrap();
    fs::remove_dir(root.join("sys")).unwrap();
    symlink("../../../../../../etc", root.join("proc")).unwrap();
    symlink("/tmp", root.join("sys")).unwrap();
    let got = sh(&mut d, "[ -d /proc/self ] || echo unbound").unwrap();
    assert_eq!(got, "unbound\n");
    assert_eq!(mounts_under(&root), Vec::<String>::new());
    // A cancel kills a program that never ends, and what it started.
    let mut io = TestIo {
        cancel: true,
        ..TestIo::default()
    };
    let args = calls::sh::Args {
        command: "while :; do :; done & while :; do :; done".into(),
    };
    let e = d.sh(&mut io, args).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Cancelled);
    assert_eq!(mounts_under(&root), Vec::<String>::new());
}
