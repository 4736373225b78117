//! Real guest disks for the e2e tests, made with the same tools a user
//! would use (mke2fs) and the mbrman crate for the partition table.

use std::path::Path;
use std::process::Command;

pub const MIB: u64 = 1 << 20;
/// The first partition starts at 1 MiB, as fdisk puts it.
pub const PART_START: u64 = MIB;

pub fn run(cmd: &str, args: &[&str]) -> String {
    let out = Command::new(cmd)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{cmd}: {e} (apt-get install e2fsprogs qemu-utils)"));
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{cmd} {args:?}: {text}");
    text
}

/// A raw disk of `size_mib` with an MBR holding one Linux partition from
/// 1 MiB to the end, formatted ext4 with `label` and `uuid`.
pub fn partitioned_ext4(path: &Path, size_mib: u64, label: &str, uuid: &str) {
    let mut file = std::fs::File::create(path).expect("create image");
    file.set_len(size_mib * MIB).expect("size image");
    let sectors = (size_mib * MIB / 512) as u32;
    let mut mbr = mbrman::MBR::new_from(&mut file, 512, [0x4c, 0x47, 0x53, 0x54]).expect("new MBR");
    mbr[1] = mbrman::MBRPartitionEntry {
        boot: mbrman::BOOT_INACTIVE,
        first_chs: mbrman::CHS::empty(),
        sys: 0x83,
        last_chs: mbrman::CHS::empty(),
        starting_lba: (PART_START / 512) as u32,
        sectors: sectors - (PART_START / 512) as u32,
    };
    mbr.write_into(&mut file).expect("write MBR");
    drop(file);
    let blocks_kib = ((size_mib * MIB - PART_START) / 1024).to_string();
    run(
        "mke2fs",
        &[
            "-q",
            "-F",
            "-t",
            "ext4",
            "-L",
            label,
            "-U",
            uuid,
            "-E",
            &format!("offset={PART_START}"),
            path.to_str().expect("utf-8 path"),
            &blocks_kib,
        ],
    );
}

/// A real Debian 12 (bookworm, debootstrap minbase) guest disk: 1 GiB
/// sparse raw, MBR, one ext4 partition (label debroot), hostname
/// libguest-demo. Built by `scripts/debian-image.sh` on this machine
/// (about a minute, needs root and the network, once) and cached; the
/// cached image is shared, so open it read-only.
pub fn debian_image() -> std::path::PathBuf {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/debian-image.sh");
    let out = Command::new("bash")
        .arg(&script)
        .output()
        .unwrap_or_else(|e| panic!("bash {}: {e}", script.display()));
    assert!(
        out.status.success(),
        "{} failed ({}):\n{}",
        script.display(),
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let path = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let path = std::path::PathBuf::from(path);
    assert!(
        path.is_file(),
        "{} printed no image: {path:?}",
        script.display()
    );
    path
}
