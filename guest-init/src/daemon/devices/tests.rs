//! Listing on fake /sys/block and /dev trees (image files for device
//! nodes), and the vfs_* calls on real loop devices against blkid.

use std::path::PathBuf;

use super::*;
use crate::daemon::root::Root;
use crate::daemon::tests::{run, LoopFs, TestIo};
use protocol::types::Device;

#[test]
fn disk_names_and_order() {
    for disk in [
        "sda", "sdaa", "vdb", "hda", "xvda", "ubda", "nvme0n1", "nvme12n3", "mmcblk0",
    ] {
        assert!(is_disk(disk), "{disk}");
    }
    for other in [
        "loop0",
        "ram0",
        "zram0",
        "dm-0",
        "md127",
        "sr0",
        "sd",
        "sda1",
        "nvme0",
        "nvme0c0n1",
        "mmcblk0boot0",
        "mmcblk0rpmb",
        "vd1",
    ] {
        assert!(!is_disk(other), "{other}");
    }
    let mut names = vec![
        "sdaa",
        "vda",
        "sdb",
        "sda10",
        "sda2",
        "sdz",
        "sda",
        "hda",
        "nvme0n1p10",
        "nvme0n1p2",
        "xvda",
        "sda1",
    ];
    names.sort_by(|a, b| natural_cmp(a, b));
    assert_eq!(
        names,
        [
            "hda",
            "sda",
            "sda1",
            "sda2",
            "sda10",
            "sdb",
            "sdz",
            "sdaa",
            "vda",
            "xvda",
            "nvme0n1p2",
            "nvme0n1p10"
        ]
    );
}

/// A fake machine: `sys/block/<disk>[/<part>/partition]` and image files
/// in `dev/` standing for the device nodes.
struct FakeMachine {
    dir: tempfile::TempDir,
}

impl FakeMachine {
    fn new() -> FakeMachine {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir_all(dir.path().join("sys/block")).expect("mkdir");
        std::fs::create_dir_all(dir.path().join("dev")).expect("mkdir");
        FakeMachine { dir }
    }

    fn sys(&self) -> PathBuf {
        self.dir.path().join("sys/block")
    }

    fn dev(&self) -> PathBuf {
        self.dir.path().join("dev")
    }

    fn disk(&self, name: &str, partitions: &[(&str, u32)]) {
        std::fs::create_dir_all(self.sys().join(name).join("queue")).expect("mkdir");
        for (part, number) in partitions {
            let dir = self.sys().join(name).join(part);
            std::fs::create_dir_all(&dir).expect("mkdir");
            std::fs::write(dir.join("partition"), format!("{number}\n")).expect("write");
        }
    }

    /// The node `name`: `mib` MiB, made by `mkfs… <file>` (none: zeros).
    fn node(&self, name: &str, mib: u64, mkfs: &[&str]) -> PathBuf {
        let path = self.dev().join(name);
        std::fs::File::create(&path)
            .and_then(|f| f.set_len(mib << 20))
            .expect("image");
        if let Some((cmd, args)) = mkfs.split_first() {
            let mut args: Vec<&str> = args.to_vec();
            args.push(path.to_str().expect("utf-8 path"));
            run(cmd, &args);
        }
        path
    }

    /// An MBR with these partition types in its four primary slots.
    fn mbr(&self, name: &str, types: [u8; 4]) {
        let mut sector = vec![0u8; 512];
        for (i, t) in types.iter().enumerate() {
            sector[446 + 16 * i + 4] = *t;
        }
        sector[510..].copy_from_slice(&[0x55, 0xAA]);
        let path = self.node(name, 1, &[]);
        let mut bytes = std::fs::read(&path).expect("read");
        bytes[..512].copy_from_slice(&sector);
        std::fs::write(&path, bytes).expect("write");
    }
}

#[test]
fn listing_on_a_fake_machine() {
    let m = FakeMachine::new();
    m.disk(
        "sda",
        &[("sda1", 1), ("sda2", 2), ("sda5", 5), ("sda10", 10)],
    );
    m.mbr("sda", [0x83, 0x05, 0, 0]);
    m.node("sda1", 16, &["mkfs.ext4", "-q", "-F"]);
    m.node("sda2", 1, &[]); // the extended container
    m.node("sda5", 4, &["mkfs.vfat"]);
    m.node("sda10", 1, &[]);
    m.disk("sdb", &[]);
    m.node("sdb", 16, &["mkswap"]);
    m.disk("sdc", &[]);
    m.node("sdc", 1, &[]);
    m.disk("sdaa", &[]);
    m.mbr("sdaa", [0xEE, 0, 0, 0]); // GPT the kernel has not read: skipped
    m.disk("vda", &[]);
    m.node("vda", 16, &["mkfs.ext2", "-q", "-F"]);
    m.disk("nvme0n1", &[("nvme0n1p1", 1)]);
    m.node("nvme0n1p1", 16, &["mkfs.ext3", "-q", "-F"]);
    for other in ["loop0", "dm-0", "zram0", "mmcblk0boot0", "sr0"] {
        m.disk(other, &[]);
        m.node(other, 16, &["mkfs.ext4", "-q", "-F"]);
    }
    m.disk("mmcblk0", &[]); // no node: unreadable, so "unknown"

    let disks = scan(&m.sys()).expect("scan");
    let names: Vec<&str> = disks.iter().map(|d| d.name.as_str()).collect();
    assert_eq!(
        names,
        ["sda", "sdb", "sdc", "sdaa", "vda", "nvme0n1", "mmcblk0"]
    );
    let parts: Vec<&str> = disks
        .iter()
        .flat_map(|d| &d.partitions)
        .map(|p| p.0.as_str())
        .collect();
    assert_eq!(parts, ["sda1", "sda2", "sda5", "sda10", "nvme0n1p1"]);

    let found = filesystems_in(&m.sys(), &m.dev()).expect("list");
    let found: Vec<(&str, &str)> = found
        .iter()
        .map(|e| (e.device.as_str(), e.fstype.as_str()))
        .collect();
    assert_eq!(
        found,
        [
            ("/dev/sdb", "swap"),
            ("/dev/sdc", "unknown"),
            ("/dev/vda", "ext2"),
            ("/dev/mmcblk0", "unknown"),
            ("/dev/sda1", "ext4"),
            ("/dev/sda5", "vfat"),
            ("/dev/sda10", "unknown"),
            ("/dev/nvme0n1p1", "ext3"),
        ]
    );
}

fn daemon() -> GuestDaemon {
    GuestDaemon::new(Root::new("/nonexistent-root"))
}

fn dev(s: &str) -> Device {
    Device::new(s).expect("device name")
}

fn mnt(s: &str) -> protocol::types::Mountable {
    protocol::types::Mountable::new(s).expect("mountable name")
}

fn blkid_value(device: &str, tag: &str) -> String {
    // blkid exits 2 when the tag is absent; that is "" here.
    let out = std::process::Command::new("blkid")
        .args(["-p", "-o", "value", "-s", tag, device])
        .output()
        .expect("blkid");
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// vfs_type/label/uuid of real loop devices agree with blkid.
#[test]
fn vfs_calls_on_loop_devices() {
    let (mut d, mut io) = (daemon(), TestIo::default());
    for (fstype, mib) in [("ext4", 32), ("xfs", 300), ("vfat", 32)] {
        let fs = LoopFs::new(fstype, mib, "PROBED");
        let device = fs.device.as_str();
        let args = calls::vfs_type::Args {
            mountable: mnt(device),
        };
        assert_eq!(vfs_type(&mut d, &mut io, args).expect("vfs_type"), fstype);
        assert_eq!(blkid_value(device, "TYPE"), fstype);
        let args = calls::vfs_label::Args {
            mountable: mnt(device),
        };
        assert_eq!(vfs_label(&mut d, &mut io, args).expect("label"), "PROBED");
        let args = calls::vfs_uuid::Args {
            mountable: mnt(device),
        };
        let uuid = vfs_uuid(&mut d, &mut io, args).expect("uuid");
        assert!(!uuid.is_empty());
        assert_eq!(uuid, blkid_value(device, "UUID"));
        let args = calls::blockdev_getsize64::Args {
            device: dev(device),
        };
        let image_size = fs.image.as_file().metadata().expect("stat image").len();
        assert_eq!(image_size, mib << 20);
        assert_eq!(
            blockdev_getsize64(&mut d, &mut io, args).expect("size"),
            image_size as i64
        );
    }
    let blank = LoopFs::new("none", 8, "");
    let args = calls::vfs_type::Args {
        mountable: mnt(&blank.device),
    };
    assert_eq!(
        vfs_type(&mut d, &mut io, args).expect("type"),
        "",
        "blkid finds no TYPE on a blank device; libguestfs answers \"\""
    );
    let args = calls::vfs_label::Args {
        mountable: mnt(&blank.device),
    };
    assert_eq!(vfs_label(&mut d, &mut io, args).expect("label"), "");
    let args = calls::vfs_type::Args {
        mountable: mnt("/dev/does-not-exist"),
    };
    assert_eq!(
        vfs_type(&mut d, &mut io, args).unwrap_err().errno,
        libc::ENOENT
    );
}
