//! Partition calls on blank loop devices (with partition scanning), checked
//! against independent readers: the kernel (sysfs, where the running
//! kernel parses partition tables; the build machine's may not, the test
//! host's does: tests/e2e/daemon.rs), blkid, sfdisk where installed, and
//! the crates reading the disk back.

mod corrupt;
mod errors;
mod fields;
mod gpt;
mod mbr;

use std::collections::HashMap;
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use protocol::types::{Device, Partition};
use protocol::{calls, ErrorReply};

use super::*;
use crate::daemon::root::Root;
use crate::daemon::tests::{run, TestIo};

/// A blank image on a loop device with partition scanning (`losetup -P`),
/// detached on drop.
pub(super) struct Scratch {
    _image: tempfile::NamedTempFile,
    pub(super) device: String,
}

impl Scratch {
    pub(super) fn new(size_mib: u64) -> Scratch {
        let image = tempfile::NamedTempFile::new().expect("temp image");
        image
            .as_file()
            .set_len(size_mib << 20)
            .expect("size the image");
        let path = image.path().to_str().expect("utf-8 temp path").to_owned();
        let device = run("losetup", &["-f", "-P", "--show", &path]);
        Scratch {
            _image: image,
            device,
        }
    }

    pub(super) fn dev(&self) -> Device {
        Device::new(self.device.as_str()).expect("device")
    }

    /// `/dev/loopNpK`.
    pub(super) fn part(&self, n: u32) -> String {
        format!("{}p{n}", self.device)
    }

    pub(super) fn sectors(&self) -> u64 {
        use std::io::Seek;
        let mut f = File::open(&self.device).expect("open device");
        f.seek(std::io::SeekFrom::End(0)).expect("size") / 512
    }

    pub(super) fn read(&self, offset: u64, len: usize) -> Vec<u8> {
        let mut buf = vec![0u8; len];
        File::open(&self.device)
            .expect("open device")
            .read_exact_at(&mut buf, offset)
            .expect("read device");
        buf
    }

    pub(super) fn write(&self, offset: u64, data: &[u8]) {
        let f = std::fs::OpenOptions::new()
            .write(true)
            .open(&self.device)
            .expect("open device");
        f.write_all_at(data, offset).expect("write device");
        f.sync_all().expect("sync device");
    }

    /// The partition's start and size in 512-byte sectors as the kernel
    /// sees them, if it does.
    pub(super) fn kernel_part(&self, n: u32) -> Option<(u64, u64)> {
        let dir = PathBuf::from("/sys/class/block").join(Path::new(&self.part(n)).file_name()?);
        let read = |f: &str| {
            std::fs::read_to_string(dir.join(f))
                .ok()?
                .trim()
                .parse()
                .ok()
        };
        Some((read("start")?, read("size")?))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::process::Command::new("losetup")
            .args(["-d", &self.device])
            .status();
    }
}

/// Whether the running kernel parses partition tables (checked with a
/// hand-made MBR, not with the code under test).
pub(super) fn kernel_reads_partitions() -> bool {
    static ANSWER: OnceLock<bool> = OnceLock::new();
    *ANSWER.get_or_init(|| {
        let image = tempfile::NamedTempFile::new().expect("temp image");
        image.as_file().set_len(4 << 20).expect("size");
        let mut mbr = [0u8; 512];
        mbr[446 + 4] = 0x83;
        mbr[446 + 8..446 + 12].copy_from_slice(&2048u32.to_le_bytes());
        mbr[446 + 12..446 + 16].copy_from_slice(&2048u32.to_le_bytes());
        mbr[510..].copy_from_slice(&[0x55, 0xaa]);
        image.as_file().write_all_at(&mbr, 0).expect("write");
        let path = image.path().to_str().expect("utf-8").to_owned();
        let device = run("losetup", &["-f", "-P", "--show", &path]);
        let name = device.trim_start_matches("/dev/");
        let seen = Path::new(&format!("/sys/class/block/{name}p1")).exists();
        run("losetup", &["-d", &device]);
        if !seen {
            eprintln!(
                "this kernel reads no partition tables: kernel-side checks left out here \
                 (tests/e2e/daemon.rs runs them inside the test host)"
            );
        }
        seen
    })
}

pub(super) fn have(tool: &str) -> bool {
    let found = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).any(|d| d.join(tool).is_file()))
        .unwrap_or(false);
    if !found {
        eprintln!("{tool} is not installed: its cross-check is left out");
    }
    found
}

/// `blkid -p -o export` of a device, as a map.
pub(super) fn blkid(device: &str) -> HashMap<String, String> {
    run("blkid", &["-p", "-o", "export", device])
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

/// sfdisk's view: (node, start, size, type, name, attrs) per partition.
pub(super) fn sfdisk(device: &str) -> Vec<(String, u64, u64, String, String, String)> {
    let json = run("sfdisk", &["-J", device]);
    // A small scan of sfdisk's regular output, one partition per line.
    json.split("\"node\":")
        .skip(1)
        .map(|p| {
            let field = |k: &str| {
                p.split(&format!("\"{k}\":"))
                    .nth(1)
                    .map(|v| {
                        v.trim_start()
                            .split([',', '}', '\n'])
                            .next()
                            .unwrap_or("")
                            .trim()
                            .trim_matches('"')
                            .to_owned()
                    })
                    .unwrap_or_default()
            };
            let node = p.trim_start().split('"').nth(1).unwrap_or("").to_owned();
            let num = |k: &str| field(k).parse().unwrap_or(0);
            (
                node,
                num("start"),
                num("size"),
                field("type"),
                field("name"),
                field("attrs"),
            )
        })
        .collect()
}

pub(super) fn d() -> GuestDaemon {
    GuestDaemon::new(Root::new("/"))
}

pub(super) fn init(dev: &Device, parttype: &str) -> Result<(), ErrorReply> {
    let args = calls::part_init::Args {
        device: dev.clone(),
        parttype: parttype.into(),
    };
    part_init(&mut d(), &mut TestIo::default(), args)
}

pub(super) fn add(dev: &Device, prlogex: &str, start: i64, end: i64) -> Result<(), ErrorReply> {
    let args = calls::part_add::Args {
        device: dev.clone(),
        prlogex: prlogex.into(),
        startsect: start,
        endsect: end,
    };
    part_add(&mut d(), &mut TestIo::default(), args)
}

pub(super) fn del(dev: &Device, n: i64) -> Result<(), ErrorReply> {
    part_del(
        &mut d(),
        &mut TestIo::default(),
        calls::part_del::Args {
            device: dev.clone(),
            partnum: n,
        },
    )
}

pub(super) fn whole(dev: &Device, parttype: &str) -> Result<(), ErrorReply> {
    let args = calls::part_disk::Args {
        device: dev.clone(),
        parttype: parttype.into(),
    };
    part_disk(&mut d(), &mut TestIo::default(), args)
}

pub(super) fn list(dev: &Device) -> Result<Vec<Partition>, ErrorReply> {
    part_list(
        &mut d(),
        &mut TestIo::default(),
        calls::part_list::Args {
            device: dev.clone(),
        },
    )
}

pub(super) fn parttype(dev: &Device) -> Result<String, ErrorReply> {
    let args = calls::part_get_parttype::Args {
        device: dev.clone(),
    };
    part_get_parttype(&mut d(), &mut TestIo::default(), args)
}

pub(super) fn set_name(dev: &Device, n: i64, name: &str) -> Result<(), ErrorReply> {
    let args = calls::part_set_name::Args {
        device: dev.clone(),
        partnum: n,
        name: name.into(),
    };
    part_set_name(&mut d(), &mut TestIo::default(), args)
}

pub(super) fn set_type(dev: &Device, n: i64, guid: &str) -> Result<(), ErrorReply> {
    let args = calls::part_set_gpt_type::Args {
        device: dev.clone(),
        partnum: n,
        guid: guid.into(),
    };
    part_set_gpt_type(&mut d(), &mut TestIo::default(), args)
}

pub(super) fn set_bootable(dev: &Device, n: i64, on: bool) -> Result<(), ErrorReply> {
    let args = calls::part_set_bootable::Args {
        device: dev.clone(),
        partnum: n,
        bootable: on,
    };
    part_set_bootable(&mut d(), &mut TestIo::default(), args)
}

/// part_list's entry for sectors `first..=last` (512-byte sectors).
pub(super) fn bytes(n: i64, first: i64, last: i64) -> Partition {
    Partition {
        part_num: n,
        part_start: first * 512,
        part_end: (last + 1) * 512 - 1,
        part_size: (last - first + 1) * 512,
    }
}

pub(super) const LINUX_FS: &str = "0FC63DAF-8483-4772-8E79-3D69D8477DE4";
pub(super) const EFI_SYSTEM: &str = "C12A7328-F81F-11D2-BA4B-00A0C93EC93B";

/// part_disk replaces whatever table was there.
pub(super) fn add_table_then_part_disk(s: &Scratch, parttype: &str) {
    let dev = s.dev();
    init(&dev, if parttype == "gpt" { "mbr" } else { "gpt" }).unwrap();
    add(&dev, "p", 100, 200).unwrap();
    add(&dev, "p", 300, 400).unwrap();
    whole(&dev, parttype).unwrap();
}
