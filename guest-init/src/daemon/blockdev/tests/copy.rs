//! The four copy calls: offsets, size, sparse, append, and the errors.

use super::*;
use crate::daemon::tests::{p, LoopFs};

fn ext4() -> (LoopFs, GuestDaemon, std::path::PathBuf) {
    let mut fs = LoopFs::new("ext4", 32, "COPY");
    let d = fs.daemon();
    let root = fs
        .mountpoint
        .as_ref()
        .expect("mounted")
        .path()
        .to_path_buf();
    (fs, d, root)
}

#[test]
fn device_to_device_with_offsets_and_size() {
    let (src, dest) = (Blank::new(2), Blank::new(2));
    src.fill(1000, b"0123456789");
    let (mut d, mut io) = (d(), TestIo::default());
    let args = calls::copy_device_to_device::Args {
        src: src.dev(),
        dest: dest.dev(),
        srcoffset: Some(1002),
        destoffset: Some(50),
        size: Some(5),
        sparse: None,
        append: None,
    };
    copy_device_to_device(&mut d, &mut io, args).expect("copy");
    assert_eq!(dest.image_at(48, 9), b"\0\x0023456\0\0");
    // Whole device by default.
    let args = calls::copy_device_to_device::Args {
        src: src.dev(),
        dest: dest.dev(),
        srcoffset: None,
        destoffset: None,
        size: None,
        sparse: None,
        append: None,
    };
    copy_device_to_device(&mut d, &mut io, args).expect("copy");
    assert_eq!(dest.image_at(0, 2 << 20), src.image_at(0, 2 << 20));
    // A size the source cannot supply; append on a device; negatives.
    let mut args = calls::copy_device_to_device::Args {
        src: src.dev(),
        dest: dest.dev(),
        srcoffset: Some((2 << 20) - 4),
        destoffset: None,
        size: Some(8),
        sparse: None,
        append: None,
    };
    let err = copy_device_to_device(&mut d, &mut io, args.clone()).unwrap_err();
    assert!(err.message.contains("unexpected end of file"), "{err}");
    args.size = Some(-1);
    let err = copy_device_to_device(&mut d, &mut io, args.clone()).unwrap_err();
    assert_eq!(err.kind, ErrorKind::InvalidArgument);
    args.size = None;
    args.append = Some(true);
    let err = copy_device_to_device(&mut d, &mut io, args.clone()).unwrap_err();
    assert!(err.message.contains("append"), "{err}");
    args.append = None;
    io.cancel = true;
    let err = copy_device_to_device(&mut d, &mut io, args).unwrap_err();
    assert_eq!(err.kind, ErrorKind::Cancelled);
}

#[test]
fn device_to_file_and_back() {
    let (_fs, mut d, root) = ext4();
    let mut io = TestIo::default();
    let dev = Blank::new(1);
    dev.fill(0, b"device bytes");
    let args = calls::copy_device_to_file::Args {
        src: dev.dev(),
        dest: p("/out"),
        srcoffset: None,
        destoffset: None,
        size: Some(12),
        sparse: None,
        append: None,
    };
    copy_device_to_file(&mut d, &mut io, args.clone()).expect("copy");
    assert_eq!(
        std::fs::read(root.join("out")).expect("read"),
        b"device bytes"
    );
    // Append adds after the end; without it the file is truncated first.
    let mut append = args.clone();
    append.append = Some(true);
    append.size = Some(6);
    copy_device_to_file(&mut d, &mut io, append).expect("append");
    assert_eq!(
        std::fs::read(root.join("out")).expect("read"),
        b"device bytesdevice"
    );
    copy_device_to_file(&mut d, &mut io, args).expect("copy");
    assert_eq!(
        std::fs::read(root.join("out")).expect("read"),
        b"device bytes"
    );

    std::fs::write(root.join("in"), b"FILE").expect("write");
    let args = calls::copy_file_to_device::Args {
        src: p("/in"),
        dest: dev.dev(),
        srcoffset: Some(1),
        destoffset: Some(4096),
        size: None,
        sparse: None,
        append: None,
    };
    copy_file_to_device(&mut d, &mut io, args).expect("copy");
    assert_eq!(dev.image_at(4095, 5), b"\0ILE\0");
    let args = calls::copy_file_to_device::Args {
        src: p("/"),
        dest: dev.dev(),
        srcoffset: None,
        destoffset: None,
        size: None,
        sparse: None,
        append: None,
    };
    let err = copy_file_to_device(&mut d, &mut io, args).unwrap_err();
    assert!(err.message.contains("not a regular file"), "{err}");
}

#[test]
fn file_to_file_sparse_and_inside_the_root() {
    let (_fs, mut d, root) = ext4();
    let mut io = TestIo::default();
    let mut data = vec![0u8; 3 << 20];
    data[0] = 1;
    *data.last_mut().expect("data") = 2;
    std::fs::write(root.join("src"), &data).expect("write");
    let args = calls::copy_file_to_file::Args {
        src: p("/src"),
        dest: p("/dest"),
        srcoffset: None,
        destoffset: None,
        size: None,
        sparse: Some(true),
        append: None,
    };
    copy_file_to_file(&mut d, &mut io, args).expect("copy");
    assert_eq!(std::fs::read(root.join("dest")).expect("read"), data);
    // The zero megabyte in the middle was not written: a hole.
    use std::os::unix::fs::MetadataExt;
    let blocks = std::fs::metadata(root.join("dest")).expect("stat").blocks();
    assert!(blocks * 512 < 3 << 20, "{blocks} blocks");
    // Trailing zeroes still make the file as long as the copy.
    let args = calls::copy_file_to_file::Args {
        src: p("/src"),
        dest: p("/short"),
        srcoffset: Some(1),
        destoffset: None,
        size: Some(1 << 20),
        sparse: Some(true),
        append: None,
    };
    copy_file_to_file(&mut d, &mut io, args).expect("copy");
    assert_eq!(
        std::fs::metadata(root.join("short")).expect("stat").len(),
        1 << 20
    );
    // A symlink out of the root resolves inside it.
    std::os::unix::fs::symlink("/etc/passwd", root.join("link")).expect("symlink");
    let args = calls::copy_file_to_file::Args {
        src: p("/link"),
        dest: p("/x"),
        srcoffset: None,
        destoffset: None,
        size: None,
        sparse: None,
        append: None,
    };
    let err = copy_file_to_file(&mut d, &mut io, args).unwrap_err();
    assert_eq!(err.errno, libc::ENOENT, "{err}");
}
