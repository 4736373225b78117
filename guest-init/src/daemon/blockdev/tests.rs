//! The blockdev calls on real loop devices (partition scanning on, so
//! the re-read after a write is seen in sysfs), checked against the
//! image file behind the device and against blockdev(8).

mod copy;

use std::os::unix::fs::FileExt;

use super::*;
use crate::daemon::root::Root;
use crate::daemon::tests::{run, TestIo};

/// A blank image on a loop device (`losetup -P`), detached on drop.
pub(super) struct Blank {
    pub(super) image: tempfile::NamedTempFile,
    pub(super) device: String,
}

impl Blank {
    pub(super) fn new(size_mib: u64) -> Blank {
        let image = tempfile::NamedTempFile::new().expect("temp image");
        image
            .as_file()
            .set_len(size_mib << 20)
            .expect("size the image");
        let path = image.path().to_str().expect("utf-8 temp path").to_owned();
        let device = run("losetup", &["-f", "-P", "--show", &path]);
        // The read-only flag outlives a detach: clear what a failed
        // test may have left on this loop device.
        run("blockdev", &["--setrw", &device]);
        Blank { image, device }
    }

    pub(super) fn dev(&self) -> Device {
        Device::new(self.device.as_str()).expect("device")
    }

    /// What the image file holds at `offset` (the device's contents,
    /// once written through).
    pub(super) fn image_at(&self, offset: u64, len: usize) -> Vec<u8> {
        let mut buf = vec![0u8; len];
        self.image
            .as_file()
            .read_exact_at(&mut buf, offset)
            .expect("read image");
        buf
    }

    pub(super) fn fill(&self, offset: u64, data: &[u8]) {
        self.image
            .as_file()
            .write_all_at(data, offset)
            .expect("write image");
        self.image.as_file().sync_all().expect("sync image");
        run("blockdev", &["--flushbufs", &self.device]);
    }
}

impl Drop for Blank {
    fn drop(&mut self) {
        let _ = std::process::Command::new("losetup")
            .args(["-d", &self.device])
            .status();
    }
}

pub(super) fn d() -> GuestDaemon {
    GuestDaemon::new(Root::new("/nonexistent-root"))
}

fn blockdev(opt: &str, device: &str) -> i64 {
    run("blockdev", &[opt, device]).parse().expect("a number")
}

#[test]
fn getters_agree_with_blockdev() {
    let b = Blank::new(8);
    let (mut d, mut io) = (d(), TestIo::default());
    let ss = blockdev_getss(
        &mut d,
        &mut io,
        calls::blockdev_getss::Args { device: b.dev() },
    );
    assert_eq!(ss.expect("getss"), blockdev("--getss", &b.device));
    let bsz = blockdev_getbsz(
        &mut d,
        &mut io,
        calls::blockdev_getbsz::Args { device: b.dev() },
    );
    assert_eq!(bsz.expect("getbsz"), blockdev("--getbsz", &b.device));
    let sz = blockdev_getsz(
        &mut d,
        &mut io,
        calls::blockdev_getsz::Args { device: b.dev() },
    );
    assert_eq!(sz.expect("getsz"), 8 * 2048);
    assert_eq!(blockdev("--getsz", &b.device), 8 * 2048);
}

#[test]
fn read_only_flag_and_readahead() {
    let b = Blank::new(8);
    let (mut d, mut io) = (d(), TestIo::default());
    let getro = |d: &mut GuestDaemon, io: &mut TestIo| {
        blockdev_getro(d, io, calls::blockdev_getro::Args { device: b.dev() }).expect("getro")
    };
    assert!(!getro(&mut d, &mut io));
    blockdev_setro(
        &mut d,
        &mut io,
        calls::blockdev_setro::Args { device: b.dev() },
    )
    .expect("setro");
    assert!(getro(&mut d, &mut io));
    assert_eq!(blockdev("--getro", &b.device), 1);
    let args = calls::pwrite_device::Args {
        device: b.dev(),
        content: b"x".to_vec(),
        offset: 0,
    };
    let err = pwrite_device(&mut d, &mut io, args).unwrap_err();
    assert!([libc::EPERM, libc::EACCES].contains(&err.errno), "{err}");
    blockdev_setrw(
        &mut d,
        &mut io,
        calls::blockdev_setrw::Args { device: b.dev() },
    )
    .expect("setrw");
    assert!(!getro(&mut d, &mut io));

    let args = calls::blockdev_setra::Args {
        device: b.dev(),
        sectors: 1024,
    };
    blockdev_setra(&mut d, &mut io, args).expect("setra");
    assert_eq!(blockdev("--getra", &b.device), 1024);
    let args = calls::blockdev_setra::Args {
        device: b.dev(),
        sectors: -1,
    };
    let err = blockdev_setra(&mut d, &mut io, args).unwrap_err();
    assert_eq!(err.kind, ErrorKind::InvalidArgument);

    let args = calls::blockdev_flushbufs::Args { device: b.dev() };
    blockdev_flushbufs(&mut d, &mut io, args).expect("flushbufs");
    let args = calls::blockdev_rereadpt::Args { device: b.dev() };
    blockdev_rereadpt(&mut d, &mut io, args).expect("rereadpt");
    let args = calls::blkdiscardzeroes::Args { device: b.dev() };
    blkdiscardzeroes(&mut d, &mut io, args).expect("blkdiscardzeroes");
}

#[test]
fn not_block_devices_are_refused_before_open() {
    let (mut d, mut io) = (d(), TestIo::default());
    for name in ["/dev/null", "/dev/zero"] {
        let args = calls::blockdev_getss::Args {
            device: Device::new(name).expect("name"),
        };
        let err = blockdev_getss(&mut d, &mut io, args).unwrap_err();
        assert!(err.message.contains("not a block device"), "{err}");
    }
    let args = calls::blockdev_getsz::Args {
        device: Device::new("/dev/no-such-disk").expect("name"),
    };
    let err = blockdev_getsz(&mut d, &mut io, args).unwrap_err();
    assert_eq!(err.errno, libc::ENOENT);
}

#[test]
fn pread_and_pwrite_device() {
    let b = Blank::new(4);
    let (mut d, mut io) = (d(), TestIo::default());
    let args = calls::pwrite_device::Args {
        device: b.dev(),
        content: b"hello device".to_vec(),
        offset: 1 << 20,
    };
    assert_eq!(pwrite_device(&mut d, &mut io, args).expect("pwrite"), 12);
    assert_eq!(b.image_at(1 << 20, 12), b"hello device");
    let args = calls::pread_device::Args {
        device: b.dev(),
        count: 5,
        offset: 1 << 20,
    };
    assert_eq!(
        pread_device(&mut d, &mut io, args).expect("pread"),
        b"hello"
    );
    // Past the end: short, then empty.
    let args = calls::pread_device::Args {
        device: b.dev(),
        count: 10,
        offset: (4 << 20) - 4,
    };
    assert_eq!(pread_device(&mut d, &mut io, args).expect("pread").len(), 4);
    let args = calls::pread_device::Args {
        device: b.dev(),
        count: 10,
        offset: 4 << 20,
    };
    assert!(pread_device(&mut d, &mut io, args)
        .expect("pread")
        .is_empty());
    let args = calls::pread_device::Args {
        device: b.dev(),
        count: 5 << 20,
        offset: 0,
    };
    assert_eq!(
        pread_device(&mut d, &mut io, args).unwrap_err().kind,
        ErrorKind::TooLarge
    );
    let args = calls::pread_device::Args {
        device: b.dev(),
        count: 1,
        offset: -1,
    };
    assert_eq!(
        pread_device(&mut d, &mut io, args).unwrap_err().kind,
        ErrorKind::InvalidArgument
    );
}

/// A minimal MBR with one Linux partition at sector 2048, 2048 sectors.
fn mbr() -> Vec<u8> {
    let mut mbr = vec![0u8; 512];
    let entry = &mut mbr[446..462];
    entry[4] = 0x83;
    entry[8..12].copy_from_slice(&2048u32.to_le_bytes());
    entry[12..16].copy_from_slice(&2048u32.to_le_bytes());
    mbr[510] = 0x55;
    mbr[511] = 0xaa;
    mbr
}

fn kernel_sees_partition(b: &Blank) -> bool {
    let name = b.device.trim_start_matches("/dev/");
    std::path::Path::new(&format!("/sys/class/block/{name}p1")).exists()
}

/// A write over the partition table is re-read by the kernel; zero takes
/// it away again.
#[test]
fn device_writes_reread_the_partition_table() {
    let b = Blank::new(4);
    let (mut d, mut io) = (d(), TestIo::default());
    let args = calls::pwrite_device::Args {
        device: b.dev(),
        content: mbr(),
        offset: 0,
    };
    assert_eq!(pwrite_device(&mut d, &mut io, args).expect("pwrite"), 512);
    if !kernel_sees_partition(&b) {
        eprintln!("this kernel does not read MBR partitions; re-read not checked");
        return;
    }
    zero(&mut d, &mut io, calls::zero::Args { device: b.dev() }).expect("zero");
    assert!(!kernel_sees_partition(&b));
}

#[test]
fn zero_zero_device_and_is_zero_device() {
    let b = Blank::new(4);
    let (mut d, mut io) = (d(), TestIo::default());
    let is_zero = |d: &mut GuestDaemon, io: &mut TestIo| {
        let args = calls::is_zero_device::Args { device: b.dev() };
        is_zero_device(d, io, args).expect("is_zero_device")
    };
    assert!(is_zero(&mut d, &mut io));
    b.fill(100, b"start");
    b.fill(300 << 10, b"past zero's reach");
    b.fill((4 << 20) - 3, b"end");
    assert!(!is_zero(&mut d, &mut io));
    zero(&mut d, &mut io, calls::zero::Args { device: b.dev() }).expect("zero");
    assert_eq!(b.image_at(100, 5), [0; 5]);
    assert_eq!(b.image_at(300 << 10, 4), b"past");
    assert!(!is_zero(&mut d, &mut io));
    // Chunks already zero are not written: of the four 1 MiB chunks,
    // only the two holding data are, and the image stays sparse elsewhere.
    let args = calls::zero_device::Args { device: b.dev() };
    zero_device(&mut d, &mut io, args).expect("zero_device");
    assert!(is_zero(&mut d, &mut io));
    use std::os::unix::fs::MetadataExt;
    let blocks = std::fs::metadata(b.image.path()).expect("stat").blocks();
    assert!(blocks * 512 <= (2 << 20) + (64 << 10), "{blocks} blocks");
    // Cancelled between chunks.
    b.fill(2 << 20, b"x");
    io.cancel = true;
    let args = calls::is_zero_device::Args { device: b.dev() };
    assert_eq!(
        is_zero_device(&mut d, &mut io, args).unwrap_err().kind,
        ErrorKind::Cancelled
    );
}

#[test]
fn checksum_device_matches_sha256sum() {
    let b = Blank::new(2);
    b.fill(12345, b"some data");
    let (mut d, mut io) = (d(), TestIo::default());
    let expected = run("sha256sum", &[&b.device]);
    let expected = expected.split_whitespace().next().expect("sum");
    let args = calls::checksum_device::Args {
        csumtype: "SHA256".into(),
        device: b.dev(),
    };
    assert_eq!(
        checksum_device(&mut d, &mut io, args).expect("checksum"),
        expected
    );
    let args = calls::checksum_device::Args {
        csumtype: "crc".into(),
        device: b.dev(),
    };
    let err = checksum_device(&mut d, &mut io, args).unwrap_err();
    assert_eq!(err.kind, ErrorKind::InvalidArgument);
}

#[test]
fn blkdiscard_discards() {
    let b = Blank::new(4);
    b.fill(1 << 20, &[0xab; 4096]);
    let (mut d, mut io) = (d(), TestIo::default());
    blkdiscard(&mut d, &mut io, calls::blkdiscard::Args { device: b.dev() }).expect("blkdiscard");
    // A loop device punches holes in its image: the data reads as zeroes.
    assert_eq!(b.image_at(1 << 20, 4096), vec![0; 4096]);
}

#[test]
fn device_index_and_nr_devices_follow_list_devices() {
    let (mut d, mut io) = (d(), TestIo::default());
    let list = super::super::devices::list_devices(&mut d, &mut io, calls::list_devices::Args {})
        .expect("list_devices");
    let n = nr_devices(&mut d, &mut io, calls::nr_devices::Args {}).expect("nr_devices");
    assert_eq!(n, list.len() as i64);
    for (i, name) in list.iter().enumerate() {
        let args = calls::device_index::Args {
            device: Device::new(name.as_str()).expect("name"),
        };
        assert_eq!(
            device_index(&mut d, &mut io, args).expect("index"),
            i as i64
        );
    }
    let args = calls::device_index::Args {
        device: Device::new("/dev/sdzz").expect("name"),
    };
    let err = device_index(&mut d, &mut io, args).unwrap_err();
    assert!(err.message.contains("device not found"), "{err}");
}
