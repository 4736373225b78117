//! e2e: the API through the real appliance. Each scenario runs on the main
//! path (our VMM; in the test host here) and on the qemu TCG fallback.

use std::os::unix::fs::MetadataExt;
use std::path::Path;

use libguest::{calls, Backend, Compression, Error, Guest};
use libguest_tests::images::{partitioned_ext4, MIB};
use sha2::{Digest, Sha256};

const UUID: &str = "4c475354-0000-4000-8000-0000000000e2";

fn launched(backend: Backend, image: &Path, readonly: bool) -> Guest {
    let mut g = Guest::new().unwrap();
    g.set_backend(backend).unwrap();
    if readonly {
        g.add_drive_ro(image).unwrap();
    } else {
        g.add_drive(image).unwrap();
    }
    if let Err(e) = g.launch() {
        panic!("launch: {e}\n{}", g.console_log());
    }
    g
}

fn image(dir: &Path) -> std::path::PathBuf {
    let path = dir.join("disk.img");
    partitioned_ext4(&path, 64, "e2eroot", UUID);
    path
}

/// List and mount a partitioned ext4 image; write, read back, checksum;
/// the data is in the image after shutdown.
fn list_mount_write_read(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let img = image(dir.path());
    let mut g = launched(backend, &img, false);
    assert_eq!(g.list_devices().unwrap(), ["/dev/sda"]);
    assert_eq!(g.list_partitions().unwrap(), ["/dev/sda1"]);
    let fs = g.list_filesystems().unwrap();
    assert!(
        fs.iter()
            .any(|f| f.device == "/dev/sda1" && f.fstype == "ext4"),
        "{fs:?}"
    );
    assert_eq!(g.vfs_type("/dev/sda1").unwrap(), "ext4");
    assert_eq!(g.vfs_label("/dev/sda1").unwrap(), "e2eroot");
    assert_eq!(g.vfs_uuid("/dev/sda1").unwrap(), UUID);
    assert_eq!(g.blockdev_getsize64("/dev/sda").unwrap(), 64 * MIB as i64);

    g.mount("/dev/sda1", "/").unwrap();
    assert_eq!(g.mounts().unwrap(), ["/dev/sda1"]);
    assert!(g.ls("/").unwrap().contains(&"lost+found".to_string()));
    g.mkdir_p("/srv/data/deep").unwrap();
    let content: Vec<u8> = (0..300_000u32).flat_map(|i| i.to_le_bytes()).collect();
    g.write("/srv/data/blob", &content[..]).unwrap();
    assert_eq!(g.read_file("/srv/data/blob").unwrap(), content);
    let expected = format!("{:x}", Sha256::digest(&content));
    assert_eq!(g.checksum("sha256", "/srv/data/blob").unwrap(), expected);
    g.write("/srv/data/hello.txt", "hello\nworld\n").unwrap();
    g.write_append("/srv/data/hello.txt", "again\n").unwrap();
    assert_eq!(
        g.cat("/srv/data/hello.txt").unwrap(),
        "hello\nworld\nagain\n"
    );
    assert_eq!(
        g.read_lines("/srv/data/hello.txt").unwrap(),
        ["hello", "world", "again"]
    );
    assert_eq!(
        g.grep("o", "/srv/data/hello.txt", Default::default())
            .unwrap(),
        ["hello", "world"]
    );
    let st = g.statns("/srv/data/blob").unwrap();
    assert_eq!(st.st_size, content.len() as i64);
    assert!(g.is_dir("/srv/data", Default::default()).unwrap());
    assert!(g.is_file("/srv/data/blob", Default::default()).unwrap());
    assert_eq!(
        g.find("/srv").unwrap(),
        ["/data", "/data/blob", "/data/deep", "/data/hello.txt"],
        "as libguestfs: \"/srv\" cut off the full paths"
    );
    assert_eq!(g.find("/srv/").unwrap()[0], "data");
    g.ln_s("hello.txt", "/srv/data/link").unwrap();
    assert_eq!(g.readlink("/srv/data/link").unwrap(), "hello.txt");
    g.cp("/srv/data/hello.txt", "/srv/copy.txt").unwrap();
    g.mv("/srv/copy.txt", "/srv/moved.txt").unwrap();
    g.chmod(0o600, "/srv/moved.txt").unwrap();
    assert_eq!(g.statns("/srv/moved.txt").unwrap().st_mode & 0o777, 0o600);
    g.rm("/srv/moved.txt").unwrap();
    assert!(!g.exists("/srv/moved.txt").unwrap());
    let vfs = g.statvfs("/").unwrap();
    assert!(vfs.blocks > 0 && vfs.bfree <= vfs.blocks);

    // Streams: upload and download a file bigger than a chunk.
    let big: Vec<u8> = (0..3 * MIB as u32 + 12345)
        .map(|i| (i * 7 + i / 4096) as u8)
        .collect();
    let host_big = dir.path().join("big.bin");
    std::fs::write(&host_big, &big).unwrap();
    g.upload(&host_big, "/srv/big.bin").unwrap();
    let back = dir.path().join("back.bin");
    g.download("/srv/big.bin", &back).unwrap();
    assert_eq!(std::fs::read(&back).unwrap(), big);
    g.shutdown().unwrap();

    // Nothing lost: a new appliance sees the writes in the image.
    let mut g = launched(backend, &img, true);
    g.mount_ro("/dev/sda1", "/").unwrap();
    assert_eq!(g.checksum("sha256", "/srv/data/blob").unwrap(), expected);
    assert_eq!(
        g.cat("/srv/data/hello.txt").unwrap(),
        "hello\nworld\nagain\n"
    );
    g.shutdown().unwrap();
}

/// tar_out (compressed) of a tree and tar_in into another directory give
/// the same tree; the host-side tarball is a real tar.
fn tar_round_trip(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let img = image(dir.path());
    let mut g = launched(backend, &img, false);
    g.mount("/dev/sda1", "/").unwrap();
    g.mkdir_p("/src/a/b").unwrap();
    g.write("/src/a/one", "1").unwrap();
    g.write("/src/a/b/two", vec![2u8; 200_000]).unwrap();
    g.ln_s("../one", "/src/a/b/link").unwrap();
    g.chmod(0o750, "/src/a/b").unwrap();
    for compress in [
        None,
        Some(Compression::Gzip),
        Some(Compression::Xz),
        Some(Compression::Zstd),
    ] {
        let tarball = dir.path().join("src.tar");
        g.tar_out(
            "/src",
            &tarball,
            calls::tar_out::Opts {
                compress,
                ..Default::default()
            },
        )
        .unwrap();
        let name = format!("/dst-{compress:?}");
        g.mkdir(&name).unwrap();
        g.tar_in(
            &tarball,
            &name,
            calls::tar_in::Opts {
                compress,
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(g.find(&name).unwrap(), g.find("/src").unwrap());
        assert_eq!(
            g.checksum("sha1", format!("{name}/a/b/two")).unwrap(),
            g.checksum("sha1", "/src/a/b/two").unwrap()
        );
        assert_eq!(g.readlink(format!("{name}/a/b/link")).unwrap(), "../one");
        assert_eq!(
            g.statns(format!("{name}/a/b")).unwrap().st_mode & 0o777,
            0o750
        );
        if compress.is_none() {
            let mut entries: Vec<String> =
                tar::Archive::new(std::fs::File::open(&tarball).unwrap())
                    .entries()
                    .unwrap()
                    .map(|e| e.unwrap().path().unwrap().to_string_lossy().into_owned())
                    .collect();
            entries.sort();
            assert!(
                entries.iter().any(|e| e.ends_with("a/b/two")),
                "{entries:?}"
            );
        }
    }
    g.shutdown().unwrap();
}

/// copy_out of a tree holding hostile symlinks writes only inside the
/// target directory and keeps the links as links.
fn copy_out_hostile_symlinks(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let img = image(dir.path());
    let outside = dir.path().join("outside");
    std::fs::create_dir(&outside).unwrap();
    std::fs::write(outside.join("sentinel"), "untouched").unwrap();
    let mut g = launched(backend, &img, false);
    g.mount("/dev/sda1", "/").unwrap();
    g.mkdir_p("/tree/sub").unwrap();
    g.write("/tree/sub/file", "data").unwrap();
    g.ln_s("/etc", "/tree/etc-link").unwrap();
    g.ln_s("../../../../../..", "/tree/up").unwrap();
    g.ln_s(outside.to_str().unwrap(), "/tree/escape").unwrap();
    g.ln_s(outside.join("sentinel").to_str().unwrap(), "/tree/sentinel")
        .unwrap();
    let dest = dir.path().join("dest");
    std::fs::create_dir(&dest).unwrap();
    g.copy_out("/tree", &dest).unwrap();
    assert_eq!(
        std::fs::read_to_string(dest.join("tree/sub/file")).unwrap(),
        "data"
    );
    for link in ["etc-link", "up", "escape", "sentinel"] {
        let meta = std::fs::symlink_metadata(dest.join("tree").join(link)).unwrap();
        assert!(meta.file_type().is_symlink(), "{link} is not a symlink");
    }
    assert_eq!(
        std::fs::read_to_string(outside.join("sentinel")).unwrap(),
        "untouched"
    );
    assert_eq!(std::fs::read_dir(&outside).unwrap().count(), 1);
    // A guest path through an absolute symlink resolves inside the guest:
    // the host's directory does not exist there.
    assert!(matches!(
        g.cat("/tree/sentinel"),
        Err(Error::NotFound { .. })
    ));
    // copy_in round trip of the copied tree (symlinks stay symlinks).
    g.mkdir("/back").unwrap();
    g.copy_in(dest.join("tree"), "/back").unwrap();
    assert_eq!(g.cat("/back/tree/sub/file").unwrap(), "data");
    assert_eq!(
        g.readlink("/back/tree/escape").unwrap(),
        outside.to_str().unwrap()
    );
    g.shutdown().unwrap();
}

/// A read-only drive mounted read-only refuses writes; the image file is
/// byte-for-byte and mtime unchanged.
fn readonly_mount_refuses_writes(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let img = image(dir.path());
    let before = std::fs::metadata(&img).unwrap();
    let before_bytes = std::fs::read(&img).unwrap();
    let mut g = launched(backend, &img, true);
    g.mount_ro("/dev/sda1", "/").unwrap();
    let err = g.write("/x", "nope").unwrap_err();
    assert!(matches!(err, Error::ReadOnly { .. }), "{err}");
    assert!(matches!(g.mkdir("/d").unwrap_err(), Error::ReadOnly { .. }));
    assert!(g.ls("/").unwrap().contains(&"lost+found".to_string()));
    g.shutdown().unwrap();
    let after = std::fs::metadata(&img).unwrap();
    assert_eq!(
        (after.mtime(), after.mtime_nsec()),
        (before.mtime(), before.mtime_nsec())
    );
    assert!(std::fs::read(&img).unwrap() == before_bytes);
}

/// Bad input gets clear typed errors and leaves the handle usable.
fn bad_input(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let img = image(dir.path());
    let mut g = launched(backend, &img, false);
    let err = g.ls("/").unwrap_err();
    assert!(matches!(err, Error::NotMounted { .. }), "{err}");
    assert!(err.to_string().contains("mount"), "{err}");
    let err = g.mount("sda1", "/").unwrap_err();
    assert!(matches!(err, Error::InvalidArgument { .. }), "{err}");
    let err = g.mount("/dev/sdz1", "/").unwrap_err();
    assert!(err.to_string().contains("/dev/sdz1"), "{err}");
    g.mount("/dev/sda1", "/").unwrap();
    let err = g.cat("etc/passwd").unwrap_err();
    assert!(matches!(err, Error::InvalidArgument { .. }), "{err}");
    let err = g.cat("/no/such/file").unwrap_err();
    assert!(matches!(err, Error::NotFound { .. }), "{err}");
    assert!(err.to_string().contains("/no/such/file"), "{err}");
    let err = g.write("/big", vec![0u8; 5 << 20]).unwrap_err();
    assert!(matches!(err, Error::TooLarge { .. }), "{err}");
    assert!(err.to_string().contains("upload"), "{err}");
    g.ping_daemon().unwrap();
    // Cancelling a download mid-stream: the call ends Cancelled and the
    // handle goes on working.
    let big = dir.path().join("big");
    std::fs::write(&big, vec![7u8; 16 << 20]).unwrap();
    g.upload(&big, "/big").unwrap();
    let cancel = g.cancel_handle().unwrap();
    let mut slow = SlowSink {
        cancel: Some(cancel),
        written: 0,
    };
    let err = g.download("/big", &mut slow).unwrap_err();
    assert!(matches!(err, Error::Cancelled { .. }), "{err}");
    assert!(slow.written < 16 << 20);
    g.ping_daemon().unwrap();
    assert_eq!(g.statns("/big").unwrap().st_size, 16 << 20);
    g.shutdown().unwrap();
}

/// Cancels after the first chunk it receives.
struct SlowSink {
    cancel: Option<libguest::CancelHandle>,
    written: usize,
}

impl std::io::Write for SlowSink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if let Some(c) = self.cancel.take() {
            c.cancel();
        }
        self.written += buf.len();
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// guest-init dying in the middle of a call: the call fails at once with
/// the console tail, the handle is cleanly dead.
fn guest_dies_mid_call(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let img = image(dir.path());
    let mut g = launched(backend, &img, false);
    let err = g.debug("exit-init", &[]).unwrap_err();
    let text = err.to_string();
    assert!(
        matches!(err, Error::KernelPanic { .. } | Error::GuestDied { .. }),
        "{text}"
    );
    assert!(text.contains("Attempted to kill init"), "{text}");
    let err = g.ping_daemon().unwrap_err();
    assert!(matches!(err, Error::State { .. }), "{err}");
    g.shutdown().unwrap();
}

libguest_tests::on_both_backends! {
    list_mount_write_read => e2e_api_list_mount_write_read, tcg_api_list_mount_write_read;
    tar_round_trip => e2e_api_tar_round_trip, tcg_api_tar_round_trip;
    copy_out_hostile_symlinks => e2e_api_copy_out_hostile_symlinks, tcg_api_copy_out_hostile_symlinks;
    readonly_mount_refuses_writes => e2e_api_readonly_mount_refuses_writes, tcg_api_readonly_mount_refuses_writes;
    bad_input => e2e_api_bad_input, tcg_api_bad_input;
    guest_dies_mid_call => e2e_api_guest_dies_mid_call, tcg_api_guest_dies_mid_call;
}
