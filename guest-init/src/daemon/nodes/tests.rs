//! Special files, modes and the umask on real filesystems.

use std::fs;
use std::os::unix::fs::{symlink, FileTypeExt, MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::Command;

use protocol::{calls, Daemon, ErrorKind};

use crate::daemon::state::GuestDaemon;
use crate::daemon::tests::{each_fs, p, LoopFs, TestIo};

fn io() -> TestIo {
    TestIo::default()
}

/// The test process's umask (other tests in this process do not change
/// it: the umask test runs in a child process).
fn current_umask(d: &mut GuestDaemon) -> u32 {
    d.get_umask(&mut io(), calls::get_umask::Args {}).unwrap() as u32
}

fn is(d: &mut GuestDaemon, call: &str, path: &str, follow: Option<bool>) -> bool {
    let path = p(path);
    match call {
        "blk" => d.is_blockdev(
            &mut io(),
            calls::is_blockdev::Args {
                path,
                followsymlinks: follow,
            },
        ),
        "chr" => d.is_chardev(
            &mut io(),
            calls::is_chardev::Args {
                path,
                followsymlinks: follow,
            },
        ),
        "fifo" => d.is_fifo(
            &mut io(),
            calls::is_fifo::Args {
                path,
                followsymlinks: follow,
            },
        ),
        "sock" => d.is_socket(
            &mut io(),
            calls::is_socket::Args {
                path,
                followsymlinks: follow,
            },
        ),
        other => panic!("{other}"),
    }
    .unwrap()
}

fn mode_of(path: &Path) -> u32 {
    fs::symlink_metadata(path).unwrap().mode() & 0o7777
}

#[test]
fn device_nodes_fifos_and_sockets() {
    each_fs(|fstype, d, root| {
        let mask = current_umask(d);
        let blk = d.mknod_b(
            &mut io(),
            calls::mknod_b::Args {
                mode: 0o660,
                devmajor: 8,
                devminor: 1,
                path: p("/blk"),
            },
        );
        if fstype == "vfat" {
            // No device nodes on FAT.
            assert!(blk.is_err(), "{blk:?}");
            assert!(!is(d, "blk", "/nope", None));
            return;
        }
        blk.unwrap();
        d.mknod_c(
            &mut io(),
            calls::mknod_c::Args {
                mode: 0o666,
                devmajor: 1,
                devminor: 3,
                path: p("/chr"),
            },
        )
        .unwrap();
        d.mkfifo(
            &mut io(),
            calls::mkfifo::Args {
                mode: 0o640,
                path: p("/fifo"),
            },
        )
        .unwrap();
        let sock_mode = i64::from(libc::S_IFSOCK | 0o755);
        d.mknod(
            &mut io(),
            calls::mknod::Args {
                mode: sock_mode,
                devmajor: 0,
                devminor: 0,
                path: p("/sock"),
            },
        )
        .unwrap();
        let chr_mode = i64::from(libc::S_IFCHR | 0o600);
        d.mknod(
            &mut io(),
            calls::mknod::Args {
                mode: chr_mode,
                devmajor: 4,
                devminor: 64,
                path: p("/tty"),
            },
        )
        .unwrap();
        symlink("/blk", root.join("lblk")).unwrap();

        let m = fs::symlink_metadata(root.join("blk")).unwrap();
        assert!(m.file_type().is_block_device(), "{fstype}");
        assert_eq!(m.rdev(), libc::makedev(8, 1), "{fstype}");
        assert_eq!(mode_of(&root.join("blk")), 0o660 & !mask);
        let m = fs::symlink_metadata(root.join("chr")).unwrap();
        assert!(m.file_type().is_char_device());
        assert_eq!(m.rdev(), libc::makedev(1, 3));
        assert_eq!(mode_of(&root.join("chr")), 0o666 & !mask);
        assert_eq!(
            fs::symlink_metadata(root.join("tty")).unwrap().rdev(),
            libc::makedev(4, 64)
        );
        assert!(fs::symlink_metadata(root.join("fifo"))
            .unwrap()
            .file_type()
            .is_fifo());
        assert_eq!(mode_of(&root.join("fifo")), 0o640 & !mask);
        assert!(fs::symlink_metadata(root.join("sock"))
            .unwrap()
            .file_type()
            .is_socket());

        assert!(is(d, "blk", "/blk", None));
        assert!(!is(d, "blk", "/chr", None));
        assert!(is(d, "chr", "/chr", None) && is(d, "chr", "/tty", None));
        assert!(is(d, "fifo", "/fifo", None) && !is(d, "fifo", "/sock", None));
        assert!(is(d, "sock", "/sock", None));
        // A symlink is not what it points to unless followed.
        assert!(!is(d, "blk", "/lblk", None));
        assert!(!is(d, "blk", "/lblk", Some(false)));
        assert!(is(d, "blk", "/lblk", Some(true)));
        // Missing paths are false, not errors.
        assert!(!is(d, "sock", "/missing", None));
        assert!(!is(d, "fifo", "/blk/below", None));

        // Type bits where only permissions belong, and unknown types.
        let bad = d.mknod_b(
            &mut io(),
            calls::mknod_b::Args {
                mode: i64::from(libc::S_IFBLK | 0o600),
                devmajor: 1,
                devminor: 1,
                path: p("/x"),
            },
        );
        assert_eq!(bad.unwrap_err().kind, ErrorKind::InvalidArgument);
        let bad = d.mknod(
            &mut io(),
            calls::mknod::Args {
                mode: 0o600,
                devmajor: 1,
                devminor: 1,
                path: p("/x"),
            },
        );
        assert_eq!(bad.unwrap_err().kind, ErrorKind::InvalidArgument);
        let bad = d.mknod(
            &mut io(),
            calls::mknod::Args {
                mode: i64::from(libc::S_IFDIR | 0o700),
                devmajor: 0,
                devminor: 0,
                path: p("/x"),
            },
        );
        assert_eq!(bad.unwrap_err().kind, ErrorKind::InvalidArgument);
        let e = d
            .mkfifo(
                &mut io(),
                calls::mkfifo::Args {
                    mode: 0o600,
                    path: p("/fifo"),
                },
            )
            .unwrap_err();
        assert_eq!(e.errno, libc::EEXIST);
        assert!(!root.join("x").exists());
    });
}

#[test]
fn mkdir_mode_and_mkdtemp() {
    each_fs(|fstype, d, root| {
        let mask = current_umask(d);
        d.mkdir_mode(
            &mut io(),
            calls::mkdir_mode::Args {
                path: p("/m"),
                mode: 0o751,
            },
        )
        .unwrap();
        let m = fs::metadata(root.join("m")).unwrap();
        assert!(m.is_dir());
        if fstype != "vfat" {
            assert_eq!(m.permissions().mode() & 0o7777, 0o751 & !mask, "{fstype}");
        }
        let e = d.mkdir_mode(
            &mut io(),
            calls::mkdir_mode::Args {
                path: p("/m2"),
                mode: 0o10000,
            },
        );
        assert_eq!(e.unwrap_err().kind, ErrorKind::InvalidArgument);

        fs::create_dir(root.join("tmp")).unwrap();
        let mut made = Vec::new();
        for _ in 0..3 {
            let got = d
                .mkdtemp(
                    &mut io(),
                    calls::mkdtemp::Args {
                        tmpl: p("/tmp/workXXXXXX"),
                    },
                )
                .unwrap();
            assert!(
                got.starts_with("/tmp/work") && got.len() == "/tmp/workXXXXXX".len(),
                "{got}"
            );
            assert!(!got.ends_with("XXXXXX"), "{got}");
            let m = fs::metadata(root.join(got.trim_start_matches('/'))).unwrap();
            assert!(m.is_dir(), "{got}");
            if fstype != "vfat" {
                assert_eq!(m.permissions().mode() & 0o777, 0o700 & !mask);
            }
            made.push(got);
        }
        made.sort();
        made.dedup();
        assert_eq!(made.len(), 3, "{made:?}");
        let e = d.mkdtemp(
            &mut io(),
            calls::mkdtemp::Args {
                tmpl: p("/tmp/workXXXXX"),
            },
        );
        assert_eq!(e.unwrap_err().kind, ErrorKind::InvalidArgument);
        let e = d.mkdtemp(
            &mut io(),
            calls::mkdtemp::Args {
                tmpl: p("/nodir/XXXXXX"),
            },
        );
        assert_eq!(e.unwrap_err().errno, libc::ENOENT);
    });
}

/// The umask is process-wide: this test runs itself again in a child
/// process (alone), so the other tests' file modes are not disturbed.
#[test]
fn umask_applies_to_later_files() {
    const CHILD: &str = "GUEST_INIT_UMASK_TEST_CHILD";
    if std::env::var_os(CHILD).is_none() {
        let exe = std::env::current_exe().unwrap();
        let name = "daemon::nodes::tests::umask_applies_to_later_files";
        let out = Command::new(exe)
            .args([name, "--exact", "--test-threads=1", "--nocapture"])
            .env(CHILD, "1")
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{text}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(text.contains("1 passed"), "{text}");
        return;
    }
    let mut fs = LoopFs::new("ext4", 64, "UMASK");
    let mut d = fs.daemon();
    let root = fs.mountpoint.as_ref().unwrap().path().to_path_buf();
    let before = current_umask(&mut d);
    let old = d
        .umask(&mut io(), calls::umask::Args { mask: 0o077 })
        .unwrap();
    assert_eq!(old as u32, before);
    assert_eq!(current_umask(&mut d), 0o077);
    d.write(
        &mut io(),
        calls::write::Args {
            path: p("/f"),
            content: b"x".to_vec(),
        },
    )
    .unwrap();
    assert_eq!(mode_of(&root.join("f")), 0o600);
    d.mkdir(&mut io(), calls::mkdir::Args { path: p("/d") })
        .unwrap();
    assert_eq!(mode_of(&root.join("d")), 0o700);
    let old = d
        .umask(&mut io(), calls::umask::Args { mask: 0o002 })
        .unwrap();
    assert_eq!(old, 0o077);
    d.mkdir_mode(
        &mut io(),
        calls::mkdir_mode::Args {
            path: p("/e"),
            mode: 0o777,
        },
    )
    .unwrap();
    assert_eq!(mode_of(&root.join("e")), 0o775);
    let e = d.umask(&mut io(), calls::umask::Args { mask: 0o1000 });
    assert_eq!(e.unwrap_err().kind, ErrorKind::InvalidArgument);
    let e = d.umask(&mut io(), calls::umask::Args { mask: -1 });
    assert_eq!(e.unwrap_err().kind, ErrorKind::InvalidArgument);
    d.umask(
        &mut io(),
        calls::umask::Args {
            mask: i64::from(before),
        },
    )
    .unwrap();
}
