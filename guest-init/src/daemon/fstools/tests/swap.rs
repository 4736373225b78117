//! mkswap, swapon and swapoff, checked with blkid and /proc/swaps (what
//! swapon --show reads).

use protocol::calls;

use super::super::*;
use super::{args, bare, expect_ok, io, random_uuid, unique};
use crate::daemon::tests::{run as sh, LoopFs};

fn blkid_tag(device: &str, tag: &str) -> String {
    sh("blkid", &["-p", "-o", "value", "-s", tag, device])
}

/// The swap areas in use, as swapon --show names them.
fn active_swaps() -> Vec<String> {
    let text = sh("swapon", &["--show=NAME", "--noheadings", "--raw"]);
    text.lines().map(str::to_owned).collect()
}

#[test]
fn mkswap_label_uuid_and_swapon_by_device_label_uuid() {
    let (_root, mut d) = bare();
    let fs = LoopFs::new("none", 16, "");
    let dev = fs.device.as_str();
    let (label, uuid) = (unique("sw"), random_uuid());
    let a = args::<calls::mkswap::Call>(&[("device", dev), ("label", &label), ("uuid", &uuid)]);
    expect_ok("mkswap", mkswap(&mut d, &mut io(), a));
    assert_eq!(blkid_tag(dev, "TYPE"), "swap");
    assert_eq!(blkid_tag(dev, "LABEL"), label);
    assert_eq!(blkid_tag(dev, "UUID"), uuid);

    let a = args::<calls::swapon_device::Call>(&[("device", dev)]);
    expect_ok("swapon_device", swapon_device(&mut d, &mut io(), a));
    assert!(active_swaps().contains(&fs.device), "{:?}", active_swaps());
    // In use: mkswap is refused.
    let a = args::<calls::mkswap::Call>(&[("device", dev)]);
    assert_eq!(mkswap(&mut d, &mut io(), a).unwrap_err().errno, libc::EBUSY);
    let a = args::<calls::swapoff_device::Call>(&[("device", dev)]);
    expect_ok("swapoff_device", swapoff_device(&mut d, &mut io(), a));
    assert!(!active_swaps().contains(&fs.device));

    let a = args::<calls::swapon_label::Call>(&[("label", &label)]);
    expect_ok("swapon_label", swapon_label(&mut d, &mut io(), a));
    assert!(active_swaps().contains(&fs.device));
    let a = args::<calls::swapoff_label::Call>(&[("label", &label)]);
    expect_ok("swapoff_label", swapoff_label(&mut d, &mut io(), a));
    assert!(!active_swaps().contains(&fs.device));

    let upper = uuid.to_uppercase();
    let a = args::<calls::swapon_uuid::Call>(&[("uuid", &upper)]);
    expect_ok("swapon_uuid", swapon_uuid(&mut d, &mut io(), a));
    assert!(active_swaps().contains(&fs.device));
    let a = args::<calls::swapoff_uuid::Call>(&[("uuid", &uuid)]);
    expect_ok("swapoff_uuid", swapoff_uuid(&mut d, &mut io(), a));
    assert!(!active_swaps().contains(&fs.device));

    let a = args::<calls::swapon_label::Call>(&[("label", "no-such-label-x")]);
    assert_eq!(
        swapon_label(&mut d, &mut io(), a).unwrap_err().errno,
        libc::ENOENT
    );
    let a = args::<calls::mkswap::Call>(&[("device", dev), ("label", "seventeen-chars-x")]);
    assert_eq!(
        mkswap(&mut d, &mut io(), a).unwrap_err().kind,
        protocol::ErrorKind::InvalidArgument
    );
}

#[test]
fn mkswap_l_and_mkswap_u() {
    let (_root, mut d) = bare();
    let fs = LoopFs::new("none", 16, "");
    let dev = fs.device.as_str();
    let label = unique("swL");
    let a = args::<calls::mkswap_L::Call>(&[("label", &label), ("device", dev)]);
    expect_ok("mkswap_L", mkswap_L(&mut d, &mut io(), a));
    assert_eq!(blkid_tag(dev, "TYPE"), "swap");
    assert_eq!(blkid_tag(dev, "LABEL"), label);
    let uuid = random_uuid();
    let a = args::<calls::mkswap_U::Call>(&[("uuid", &uuid), ("device", dev)]);
    expect_ok("mkswap_U", mkswap_U(&mut d, &mut io(), a));
    assert_eq!(blkid_tag(dev, "UUID"), uuid);
    assert_eq!(blkid_tag(dev, "LABEL"), "");
}

#[test]
fn mkswap_file_and_swapon_file() {
    let mut fs = LoopFs::new("ext4", 64, "SWAPFS");
    let mut d = fs.daemon();
    let root = fs
        .mountpoint
        .as_ref()
        .expect("mounted")
        .path()
        .to_path_buf();
    // A swap file must have no holes: written, not truncated.
    std::fs::write(root.join("swapfile"), vec![0u8; 16 << 20]).expect("write swapfile");
    std::fs::set_permissions(
        root.join("swapfile"),
        std::os::unix::fs::PermissionsExt::from_mode(0o600),
    )
    .expect("chmod");
    let a = args::<calls::mkswap_file::Call>(&[("path", "/swapfile")]);
    expect_ok("mkswap_file", mkswap_file(&mut d, &mut io(), a));
    let host_path = root.join("swapfile");
    let host = host_path.to_str().expect("utf-8");
    assert_eq!(blkid_tag(host, "TYPE"), "swap");

    let a = args::<calls::swapon_file::Call>(&[("file", "/swapfile")]);
    expect_ok("swapon_file", swapon_file(&mut d, &mut io(), a));
    assert!(
        active_swaps().iter().any(|s| s == host),
        "{:?}",
        active_swaps()
    );
    let a = args::<calls::swapoff_file::Call>(&[("file", "/swapfile")]);
    expect_ok("swapoff_file", swapoff_file(&mut d, &mut io(), a));
    assert!(!active_swaps().iter().any(|s| s == host));

    // Not a regular file.
    let a = args::<calls::swapon_file::Call>(&[("file", "/lost+found")]);
    assert!(swapon_file(&mut d, &mut io(), a).is_err());
}
