//! cryptsetup_open/close and the luks_* calls against cryptsetup's own
//! view of the header (luksDump, luksUUID) and the kernel's of the
//! mapping.

use std::path::Path;
use std::process::Command;

use protocol::calls;
use protocol::types::{Device, Key};

use super::super::deprecated::{luks_close, luks_open_ro};
use super::super::luks::{
    cryptsetup_close, cryptsetup_open, luks_add_key, luks_format, luks_format_cipher,
    luks_kill_slot, luks_uuid,
};
use super::{bare, have_dm, io, ok, run, unique, Loop};
use crate::daemon::state::GuestDaemon;

fn dev(s: &str) -> Device {
    Device::new(s).expect("device name")
}

fn open(
    d: &mut GuestDaemon,
    device: &str,
    key: &[u8],
    name: &str,
) -> Result<(), protocol::ErrorReply> {
    let args = calls::cryptsetup_open::Args {
        device: dev(device),
        key: Key::new(key),
        mapname: name.to_owned(),
        readonly: None,
        crypttype: None,
        cipher: None,
    };
    cryptsetup_open(d, &mut io(), args)
}

fn close(d: &mut GuestDaemon, name: &str) {
    let args = calls::cryptsetup_close::Args {
        device: dev(&format!("/dev/mapper/{name}")),
    };
    ok("cryptsetup_close", cryptsetup_close(d, &mut io(), args));
    assert!(!Path::new(&format!("/dev/mapper/{name}")).exists());
}

/// Closes the mapping if a failed test left it open.
struct Mapping(String);

impl Drop for Mapping {
    fn drop(&mut self) {
        if Path::new(&format!("/dev/mapper/{}", self.0)).exists() {
            let _ = Command::new("cryptsetup")
                .args(["close", &self.0])
                .env("DM_DISABLE_UDEV", "1")
                .output();
        }
    }
}

/// The slot numbers luksDump lists under Keyslots.
fn slots(device: &str) -> Vec<u32> {
    let dump = run("cryptsetup", &["--disable-locks", "luksDump", device]);
    let keyslots = dump.split("Keyslots:").nth(1).unwrap_or_default();
    let keyslots = keyslots.split("Tokens:").next().unwrap_or_default();
    keyslots
        .lines()
        .filter_map(|l| l.trim().strip_suffix(": luks2")?.parse().ok())
        .collect()
}

#[test]
fn format_open_list_close_add_key_kill_slot() {
    if !have_dm() {
        return;
    }
    let (_root, mut d) = bare();
    let disk = Loop::new(64);
    let device = disk.dev().to_owned();
    // Bytes that are not text, a newline and a NUL: passed as they are.
    let key: &[u8] = b"first\n\xff\x00key";
    let newkey: &[u8] = b"second key";
    let args = calls::luks_format::Args {
        device: dev(&device),
        key: Key::new(key),
        keyslot: 2,
    };
    ok("luks_format", luks_format(&mut d, &mut io(), args));
    let dump = run("cryptsetup", &["--disable-locks", "luksDump", &device]);
    let version = dump.lines().find(|l| l.starts_with("Version:"));
    assert_eq!(
        version.and_then(|l| l.split_whitespace().last()),
        Some("2"),
        "LUKS2 by default:\n{dump}"
    );
    assert_eq!(slots(&device), vec![2], "keyslot honoured");
    let uuid = ok(
        "luks_uuid",
        luks_uuid(
            &mut d,
            &mut io(),
            calls::luks_uuid::Args {
                device: dev(&device),
            },
        ),
    );
    assert_eq!(
        uuid,
        run("cryptsetup", &["--disable-locks", "luksUUID", &device])
    );

    let name = unique("lgluks");
    let _guard = Mapping(name.clone());
    assert!(
        open(&mut d, &device, b"first", &name).is_err(),
        "a wrong key opens nothing"
    );
    ok("cryptsetup_open", open(&mut d, &device, key, &name));
    let mapped = format!("/dev/mapper/{name}");
    assert!(Path::new(&mapped).exists());
    let err = open(&mut d, &device, key, &name).expect_err("the name is taken");
    assert!(err.message.contains("already exists"), "{}", err.message);
    run("mkfs.ext4", &["-q", "-F", "-L", "inluks", &mapped]);
    let listed = super::super::luks::filesystems();
    assert!(
        listed
            .iter()
            .any(|e| e.device == mapped && e.fstype == "ext4"),
        "{listed:?}"
    );
    assert_eq!(
        super::super::fs_entry(&device),
        None,
        "a LUKS container is not listed"
    );
    close(&mut d, &name);

    let args = calls::luks_add_key::Args {
        device: dev(&device),
        key: Key::new(key),
        newkey: Key::new(newkey),
        keyslot: 5,
    };
    ok("luks_add_key", luks_add_key(&mut d, &mut io(), args));
    assert_eq!(slots(&device), vec![2, 5]);
    let args = calls::luks_kill_slot::Args {
        device: dev(&device),
        key: Key::new(newkey),
        keyslot: 2,
    };
    ok("luks_kill_slot", luks_kill_slot(&mut d, &mut io(), args));
    assert_eq!(slots(&device), vec![5]);
    assert!(
        open(&mut d, &device, key, &name).is_err(),
        "the killed key is gone"
    );
    ok(
        "open with the new key",
        open(&mut d, &device, newkey, &name),
    );
    let label = run("blkid", &["-p", "-o", "value", "-s", "LABEL", &mapped]);
    assert_eq!(label, "inluks");
    close(&mut d, &name);

    // The deprecated pair: a read-only mapping even on a writable drive.
    let args = calls::luks_open_ro::Args {
        device: dev(&device),
        key: Key::new(newkey),
        mapname: name.clone(),
    };
    ok("luks_open_ro", luks_open_ro(&mut d, &mut io(), args));
    assert_eq!(run("blockdev", &["--getro", &mapped]), "1");
    let args = calls::luks_close::Args {
        device: dev(&mapped),
    };
    ok("luks_close", luks_close(&mut d, &mut io(), args));
    assert!(!Path::new(&mapped).exists());
}

#[test]
fn a_read_only_drive_opens_read_only_and_is_not_written() {
    if !have_dm() {
        return;
    }
    let (_root, mut d) = bare();
    let mut disk = Loop::new(64);
    let device = disk.dev().to_owned();
    let args = calls::luks_format_cipher::Args {
        device: dev(&device),
        key: Key::new("pass"),
        keyslot: 0,
        cipher: "aes-cbc-essiv:sha256".into(),
    };
    ok(
        "luks_format_cipher",
        luks_format_cipher(&mut d, &mut io(), args),
    );
    let dump = run("cryptsetup", &["--disable-locks", "luksDump", &device]);
    assert!(dump.contains("aes-cbc-essiv:sha256"), "{dump}");
    disk.detach();
    let before = disk.sha256();
    let device = disk.attach(true);
    let name = unique("lgro");
    let _guard = Mapping(name.clone());
    ok("cryptsetup_open", open(&mut d, &device, b"pass", &name));
    let mapped = format!("/dev/mapper/{name}");
    assert_eq!(
        run("blockdev", &["--getro", &mapped]),
        "1",
        "a read-only mapping"
    );
    let mut head = vec![0u8; 1 << 20];
    let mut f = std::fs::File::open(&mapped).expect("open the mapping");
    std::io::Read::read_exact(&mut f, &mut head).expect("read the mapping");
    drop(f);
    close(&mut d, &name);
    disk.detach();
    assert_eq!(disk.sha256(), before, "the read-only drive was written");
}
