//! The daemon's host-side tests (guest-init's unit tests on real ext4, xfs
//! and vfat filesystems on loop devices), run inside the test host: its
//! kernel has every filesystem the appliance has, which the build
//! machine's kernel may not (this one has no vfat).

use std::path::{Path, PathBuf};
use std::process::Command;

use libguest_tests::testhost::{which, TestHost};

/// The guest-init unit-test binary cargo built for this workspace.
fn guest_init_test_binary() -> PathBuf {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args([
            "test",
            "-p",
            "guest-init",
            "--no-run",
            "--message-format=json",
        ])
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
        .output()
        .expect("run cargo");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.contains("\"test\":true") && l.contains("\"name\":\"guest-init\""))
        .find_map(|l| {
            let start = l.find("\"executable\":\"")? + "\"executable\":\"".len();
            let end = l[start..].find('"')? + start;
            Some(PathBuf::from(&l[start..end]))
        })
        .expect("guest-init's test executable in cargo's output")
}

#[test]
fn daemon_tests_on_ext4_xfs_vfat_inside_the_test_host() {
    let bin = guest_init_test_binary();
    let init = Path::new(env!("CARGO_BIN_EXE_testhost-init"));
    let mut host = TestHost::new(init).unwrap_or_else(|e| panic!("{e}"));
    let tools = [
        "losetup",
        "mount",
        "umount",
        "blkid",
        "modprobe",
        "mke2fs",
        "mkfs.ext2",
        "mkfs.ext3",
        "mkfs.ext4",
        "mkfs.xfs",
        "mkfs.vfat",
        "mkfs.fat",
        "mkfs.btrfs",
        "mkswap",
        "e2fsck",
        "resize2fs",
        "tune2fs",
        "e2label",
        "fatlabel",
        "btrfs",
        "btrfstune",
        "dmsetup",
        "xfs_admin",
        "xfs_db",
        "sh",
        "mkfifo",
        "sfdisk",
        "true",
        "cat",
        "mkntfs",
        "ntfs-3g",
        "debugfs",
        "xfs_repair",
        "fsck.fat",
        "mknod",
        "touch",
        "fsck",
        "tar",
        "blockdev",
        "sha256sum",
        "md5sum",
        "sgdisk",
        // The paths, files, commands, outputs and fstools calls' tests.
        "bash",
        "ldd",
        "ln",
        "ls",
        "stat",
        "find",
        "cpio",
        "gzip",
        "xz",
        "bzip2",
        "lzop",
        "compress",
        "xargs",
        "base64",
        "file",
        "strings",
        "hexdump",
        "zerofree",
        "wipefs",
        "swapon",
        "swapoff",
        "swaplabel",
        "findfs",
        "lsattr",
        "chattr",
        "dumpe2fs",
        "xfs_info",
        "xfs_growfs",
        "xfs_spaceman",
        "xfs_io",
        "mksquashfs",
        "unsquashfs",
        "ntfsresize",
        "ntfsfix",
        "ntfslabel",
        "mkfs.ntfs",
        "ntfs-3g.probe",
        "getfacl",
        "setfacl",
        "getcap",
        "setcap",
        "debugfs",
        // setfiles, xfs_info2, dmesg and utsname's tests.
        "setfiles",
        "getfattr",
        "xfs_info",
        "dmesg",
        "uname",
        // The LUKS and md RAID calls' tests.
        "cryptsetup",
        "mdadm",
        // The LVM calls' tests.
        "lvm",
    ];
    for tool in tools {
        if let Some(path) = which(tool) {
            host.add_program(&path, &path.to_string_lossy())
                .unwrap_or_else(|e| panic!("{e}"));
        }
    }
    // file(1)'s database, at the paths libmagic opens.
    for path in protocol::tools::DATA_FILES.iter().map(|(_, p, _)| *p) {
        if let Ok(real) = std::fs::canonicalize(path) {
            host.add_file(&real, path, 0o644);
        }
    }
    // Scripts (ldd, gzip's helpers) name their interpreter by /bin path.
    for shell in ["sh", "bash"] {
        if let Some(path) = which(shell) {
            host.add_program(&path, &format!("/bin/{shell}"))
                .unwrap_or_else(|e| panic!("{e}"));
        }
    }
    // Tests copy /bin/true as a guest's ELF binary.
    if let Some(t) = which("true") {
        host.add_program(&t, "/bin/true")
            .unwrap_or_else(|e| panic!("{e}"));
    }
    host.set_env(
        "PATH",
        "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    );
    let outcome = host
        .run(
            &bin,
            &[
                "daemon::",
                "--test-threads=2",
                // These build real rpm databases with rpmbuild, rpm and
                // db5.3_load, which this minimal host lacks; they need no
                // kernel feature and run on the build host, in
                // `cargo test --workspace`.
                "--skip",
                "daemon::inspect::tests::rpm::",
                "--skip",
                "daemon::inspect::tests::two_operating_systems_two_roots",
            ],
        )
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        outcome.exit_code,
        Some(0),
        "guest-init's daemon tests failed inside the test host; output above"
    );
    let summary = outcome
        .output
        .lines()
        .find(|l| l.contains("test result: ok."))
        .unwrap_or_else(|| {
            panic!(
                "no test summary from inside the test host:\n{}",
                outcome.output
            )
        });
    println!("inside the test host: {summary}");
    assert!(
        !outcome.output.contains("cannot mount vfat"),
        "the test host's kernel should mount vfat"
    );
}
