//! The tools-layer unpacker on hand-made cpio streams.

use std::os::unix::fs::PermissionsExt;

use protocol::ErrorKind;

use super::unpack;
use crate::daemon::tests::TestIo;

/// One newc entry, as the library's writer makes them.
fn entry(out: &mut Vec<u8>, name: &str, mode: u32, data: &[u8]) {
    let fields = [
        1,
        mode,
        0,
        0,
        1,
        0,
        data.len() as u32,
        0,
        0,
        0,
        0,
        name.len() as u32 + 1,
        0,
    ];
    out.extend_from_slice(b"070701");
    for f in fields {
        out.extend_from_slice(format!("{f:08x}").as_bytes());
    }
    out.extend_from_slice(name.as_bytes());
    out.push(0);
    out.resize(out.len().div_ceil(4) * 4, 0);
    out.extend_from_slice(data);
    out.resize(out.len().div_ceil(4) * 4, 0);
}

fn trailer(out: &mut Vec<u8>) {
    entry(out, "TRAILER!!!", 0, &[]);
}

/// The stream in chunks of `size` bytes (boundaries anywhere).
fn io_of(bytes: &[u8], size: usize) -> TestIo {
    TestIo {
        input: bytes.chunks(size).map(<[u8]>::to_vec).collect(),
        ..Default::default()
    }
}

#[test]
fn unpack_writes_files_at_their_paths() {
    let mut s = Vec::new();
    entry(&mut s, "usr", 0o040755, &[]);
    entry(&mut s, "usr/sbin", 0o040755, &[]);
    entry(&mut s, "usr/sbin/mke2fs", 0o100755, b"\x7fELF tool");
    entry(&mut s, "lib64/ld-linux-x86-64.so.2", 0o100755, b"loader");
    entry(
        &mut s,
        "lib/x86_64-linux-gnu/libc.so.6",
        0o100644,
        &vec![7u8; 100_001],
    );
    trailer(&mut s);
    s.extend_from_slice(&[0u8; 512]); // padding after the trailer is ignored
    for chunk in [1, 7, 4096, s.len()] {
        let root = tempfile::tempdir().unwrap();
        // An older copy is replaced.
        std::fs::create_dir_all(root.path().join("usr/sbin")).unwrap();
        std::fs::write(root.path().join("usr/sbin/mke2fs"), b"old").unwrap();
        let done = unpack(&mut io_of(&s, chunk), root.path()).unwrap();
        assert_eq!(done.files, 3);
        assert_eq!(done.bytes, 9 + 6 + 100_001);
        assert_eq!(done.library_dirs, ["/lib64", "/lib/x86_64-linux-gnu"]);
        let tool = root.path().join("usr/sbin/mke2fs");
        assert_eq!(std::fs::read(&tool).unwrap(), b"\x7fELF tool");
        assert_eq!(
            std::fs::metadata(&tool).unwrap().permissions().mode() & 0o7777,
            0o755
        );
        let libc = root.path().join("lib/x86_64-linux-gnu/libc.so.6");
        assert_eq!(std::fs::read(&libc).unwrap(), vec![7u8; 100_001]);
        assert_eq!(
            std::fs::metadata(&libc).unwrap().permissions().mode() & 0o7777,
            0o644
        );
    }
}

fn refused(stream: &[u8]) -> String {
    let root = tempfile::tempdir().unwrap();
    let err = unpack(&mut io_of(stream, 64), root.path()).unwrap_err();
    assert_eq!(err.kind, ErrorKind::InvalidArgument, "{err:?}");
    // Nothing escaped into the parent directory.
    let parent = root.path().parent().unwrap();
    assert!(!parent.join("escaped").exists());
    err.message
}

#[test]
fn unpack_refuses_names_outside_the_system_directories() {
    for name in [
        "../escaped",
        "usr/../../escaped",
        "/sysroot/etc/passwd",
        "sysroot/x",
        "proc/sys/kernel/x",
        "init",
        "usr//sbin/x",
        "./usr/./x",
        "",
    ] {
        let mut s = Vec::new();
        entry(&mut s, name, 0o100644, b"x");
        trailer(&mut s);
        let message = refused(&s);
        assert!(
            message.contains("refusing") || message.contains("name"),
            "{name}: {message}"
        );
    }
}

#[test]
fn unpack_refuses_bad_streams() {
    // A symlink: not something the layer holds.
    let mut s = Vec::new();
    entry(&mut s, "usr/lib", 0o120777, b"/sysroot");
    trailer(&mut s);
    assert!(refused(&s).contains("unsupported entry type"));
    // No trailer; cut inside an entry; not cpio at all; absurd sizes.
    let mut s = Vec::new();
    entry(&mut s, "usr/x", 0o100644, b"data");
    assert!(refused(&s).contains("without a trailer"));
    assert!(refused(&s[..s.len() - 6]).contains("ends inside an entry"));
    assert!(refused(&[b'x'; 200]).contains("not a cpio"));
    let mut s = Vec::new();
    entry(&mut s, "usr/x", 0o100644, b"");
    s[6 + 6 * 8..6 + 7 * 8].copy_from_slice(b"7fffffff");
    assert!(refused(&s).contains("over the limit"));
    let mut s = Vec::new();
    entry(&mut s, "usr/x", 0o100644, b"");
    s[6 + 11 * 8..6 + 12 * 8].copy_from_slice(b"00100000");
    assert!(refused(&s).contains("entry name of"));
}

/// A symlink planted in the root (not by the layer) is not followed.
#[test]
fn unpack_does_not_follow_symlinks() {
    let root = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(outside.path(), root.path().join("usr")).unwrap();
    let mut s = Vec::new();
    entry(&mut s, "usr/x", 0o100644, b"data");
    trailer(&mut s);
    let err = unpack(&mut io_of(&s, 64), root.path()).unwrap_err();
    assert_eq!(err.errno, libc::ENOTDIR, "{err:?}");
    assert!(!outside.path().join("x").exists());
}
