//! zero_free_space and fstrim on loop devices.

use std::path::Path;

use protocol::{calls, ErrorKind};

use super::*;
use crate::daemon::tests::{p, run as sh, LoopFs, TestIo};

const MARKER: &[u8; 16] = b"LIBGUEST-MARKER!";

fn image_has_marker(image: &Path) -> bool {
    let data = std::fs::read(image).unwrap();
    data.chunks(4096).any(|block| block.starts_with(MARKER))
}

fn free_blocks(d: &GuestDaemon) -> u64 {
    rustix::fs::statvfs(d.root.path()).unwrap().f_bfree
}

/// Deleted data is gone from the image afterwards, and so are the files.
/// (xfs keeps a reserved pool that no write can reach, so there only the
/// space accounting is checked.)
#[test]
fn zero_free_space_overwrites_deleted_data() {
    for fstype in ["ext4", "xfs"] {
        let size = if fstype == "xfs" { 300 } else { 48 };
        let mut fs = LoopFs::new(fstype, size, "");
        let mut d = fs.daemon();
        let file = d.root.path().join("secret");
        std::fs::write(&file, MARKER.repeat(1 << 18)).unwrap();
        rustix::fs::sync();
        std::fs::remove_file(&file).unwrap();
        rustix::fs::sync();
        assert!(
            image_has_marker(fs.image.path()),
            "{fstype}: the marker was never written"
        );
        let before = free_blocks(&d);
        // Cancelled at once: an error, and nothing left behind.
        let mut cancel = TestIo {
            cancel: true,
            ..Default::default()
        };
        let args = calls::zero_free_space::Args { directory: p("/") };
        assert_eq!(
            zero_free_space(&mut d, &mut cancel, args.clone())
                .unwrap_err()
                .kind,
            ErrorKind::Cancelled
        );
        zero_free_space(&mut d, &mut TestIo::default(), args).unwrap();
        // xfs frees the blocks of unlinked files in the background.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while free_blocks(&d) + 16 < before && std::time::Instant::now() < deadline {
            rustix::fs::sync();
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        assert!(
            free_blocks(&d) + 16 >= before,
            "{fstype}: space not given back ({} free blocks, {before} before)",
            free_blocks(&d)
        );
        assert_eq!(
            std::fs::read_dir(d.root.path())
                .unwrap()
                .filter_map(|e| e.ok())
                .filter(|e| e.file_name().to_string_lossy().starts_with(".libguest"))
                .count(),
            0
        );
        sh("umount", &[d.root.path().to_str().unwrap()]);
        fs.mountpoint = None;
        if fstype == "ext4" {
            assert!(
                !image_has_marker(fs.image.path()),
                "{fstype}: deleted data is still there"
            );
        }
    }
}

#[test]
fn fstrim_discards_freed_blocks() {
    let mut fs = LoopFs::new("ext4", 64, "");
    let mut d = fs.daemon();
    std::fs::write(d.root.path().join("big"), MARKER.repeat(1 << 20)).unwrap();
    rustix::fs::sync();
    std::fs::remove_file(d.root.path().join("big")).unwrap();
    let allocated =
        || std::os::unix::fs::MetadataExt::blocks(&fs.image.as_file().metadata().unwrap()) * 512;
    let before = allocated();
    let args = calls::fstrim::Args { mountpoint: p("/") };
    fstrim(&mut d, &mut TestIo::default(), args).unwrap();
    assert!(
        allocated() + (12 << 20) < before,
        "the image did not shrink: {before} -> {}",
        allocated()
    );
    let args = calls::fstrim::Args {
        mountpoint: p("/no-such-dir"),
    };
    assert_eq!(
        fstrim(&mut d, &mut TestIo::default(), args)
            .unwrap_err()
            .errno,
        libc::ENOENT
    );
}
