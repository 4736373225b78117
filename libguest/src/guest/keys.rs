//! Keys for encrypted devices, and opening the devices they fit, as
//! libguestfs's tools do with `--key` before inspection
//! (`options/decrypt.c`): LUKS partitions first (mapped as `cryptsda2`),
//! then, after an LVM rescan, LUKS on logical volumes (mapped as
//! `luks-UUID`). We also try whole disks and md arrays, which libguestfs
//! skips: a data disk encrypted without a partition table, or LUKS on a
//! RAID1 root, then opens too.
//!
//! `inspect_os` runs this once per launch when the handle holds a key or
//! a prompt, so an embedder's `add_key` + `inspect_os` sees the systems
//! inside. Key bytes live in [`Key`], which zeroes them when dropped.

use std::io::{BufRead, Read};

use protocol::calls;
use protocol::types::Key;

use super::{Guest, State};
use crate::error::{Error, Result};

/// Which encrypted devices a key is tried on: libguestfs's `--key ID`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyTarget {
    /// Every encrypted device (`all:`).
    All,
    /// The device with this name (`/dev/sda2`, `/dev/VG/LV`) or this
    /// LUKS UUID.
    Id(String),
}

impl KeyTarget {
    fn matches(&self, device: &str, uuid: Option<&str>) -> bool {
        match self {
            KeyTarget::All => true,
            KeyTarget::Id(id) => {
                id == device || canonical(id) == device || uuid.is_some_and(|u| u == id)
            }
        }
    }
}

/// `/dev/vda2` and `/dev/hda2` as the appliance names them (`/dev/sda2`),
/// as libguestfs's device-name canonicalisation does.
fn canonical(id: &str) -> String {
    for prefix in ["/dev/vd", "/dev/hd", "/dev/xvd"] {
        if let Some(rest) = id.strip_prefix(prefix) {
            return format!("/dev/sd{rest}");
        }
    }
    id.to_owned()
}

/// A `--key` selector that does not parse, or whose key file cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum KeySelectorError {
    /// Not `ID:key:STRING` or `ID:file:FILENAME`.
    #[error("invalid selector for --key: {selector:?} (expected ID:key:KEY_STRING or ID:file:FILENAME, ID being a device such as /dev/sda2, a LUKS UUID, or all)")]
    Syntax {
        /// The selector as given, its key replaced by `***`.
        selector: String,
    },
    /// The key file of `ID:file:FILENAME` cannot be read.
    #[error("--key {id}:file:{file}: {source}")]
    File {
        /// The ID part.
        id: String,
        /// The file named.
        file: String,
        /// Why it could not be read.
        #[source]
        source: std::io::Error,
    },
}

/// Parses a libguestfs `--key` selector: `ID:key:KEY_STRING` or
/// `ID:file:FILENAME`, where ID is a device name, a LUKS UUID or `all`.
/// A backslash escapes a colon in ID; the key string may hold colons.
/// A key file gives its first line, without the newline, as libguestfs
/// reads it.
pub fn parse_key_selector(
    selector: &str,
) -> std::result::Result<(KeyTarget, Key), KeySelectorError> {
    let syntax = || KeySelectorError::Syntax {
        selector: redact(selector),
    };
    let (id, rest) = split_id(selector).ok_or_else(syntax)?;
    let (kind, value) = rest.split_once(':').ok_or_else(syntax)?;
    if id.is_empty() {
        return Err(syntax());
    }
    let key = match kind {
        "key" => Key::new(value.as_bytes()),
        "file" if !value.is_empty() => {
            Key::new(first_line(value).map_err(|source| KeySelectorError::File {
                id: id.clone(),
                file: value.to_owned(),
                source,
            })?)
        }
        _ => return Err(syntax()),
    };
    let target = if id == "all" {
        KeyTarget::All
    } else {
        KeyTarget::Id(id)
    };
    Ok((target, key))
}

/// ID up to the first colon not escaped by a backslash, and the rest.
fn split_id(selector: &str) -> Option<(String, &str)> {
    let mut id = String::new();
    let mut chars = selector.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' => id.push(chars.next()?.1),
            ':' => return Some((id, &selector[i + 1..])),
            c => id.push(c),
        }
    }
    None
}

/// The selector with its key string hidden, for error messages.
fn redact(selector: &str) -> String {
    match split_id(selector) {
        Some((id, rest)) if rest.starts_with("key:") => format!("{id}:key:***"),
        _ => selector.to_owned(),
    }
}

fn first_line(file: &str) -> std::io::Result<Vec<u8>> {
    let mut reader = std::io::BufReader::new(std::fs::File::open(file)?);
    let mut line = Vec::new();
    // A key file is small; 64 KiB bounds a file with no newline in it.
    reader
        .by_ref()
        .take(64 << 10)
        .read_until(b'\n', &mut line)?;
    if line.last() == Some(&b'\n') {
        line.pop();
    }
    Ok(line)
}

/// Asked for the key of an encrypted device that no added key names:
/// gets the device name, gives the key bytes (the CLI reads a passphrase
/// from the terminal). An error ends the decryption with it.
pub type KeyPrompt = Box<dyn FnMut(&str) -> std::io::Result<Vec<u8>> + Send>;

impl Guest {
    /// Adds a key for the encrypted devices `target` names. `inspect_os`
    /// (and [`Guest::decrypt_devices`]) open each LUKS device with the
    /// keys that name it, by device or UUID, and then the `all` keys.
    pub fn add_key(&mut self, target: KeyTarget, key: impl Into<Vec<u8>>) {
        self.keys.push((target, Key::new(key)));
    }

    /// Sets what is asked for the key of an encrypted device no added key
    /// names. Without one such a device stays closed.
    pub fn set_key_prompt(&mut self, prompt: KeyPrompt) {
        self.key_prompt = Some(prompt);
    }

    /// Opens every encrypted device the added keys (or the prompt) fit,
    /// then activates the LVM volumes inside, as libguestfs's tools do
    /// before inspection; returns the /dev/mapper devices it opened. A
    /// device that the keys naming it do not open is an error that names
    /// it; one no key names (and no prompt) is left closed.
    pub fn decrypt_devices(&mut self) -> Result<Vec<String>> {
        let mut opened = Vec::new();
        let mut first = self.list_devices()?;
        first.extend(self.list_partitions()?);
        if self.tools_loaded() {
            // md arrays are assembled (with the tools layer) before the
            // first call if the disks hold any.
            first.extend(self.list_md_devices()?);
        }
        if self.decrypt_each(&first, false, &mut opened)? {
            self.lvm_scan(true)?;
        }
        if self.tools_loaded() {
            let lvs = self.lvs()?;
            if self.decrypt_each(&lvs, true, &mut opened)? {
                self.lvm_scan(true)?;
            }
        }
        Ok(opened)
    }

    /// Before inspect_os: the devices opened, once per launch.
    pub(super) fn ensure_decrypted(&mut self) -> Result<()> {
        if self.keys.is_empty() && self.key_prompt.is_none() {
            return Ok(());
        }
        let State::Running(run) = &mut self.state else {
            return Ok(());
        };
        if run.decrypt_checked {
            return Ok(());
        }
        run.decrypt_checked = true;
        self.decrypt_devices().map(drop)
    }

    fn tools_loaded(&self) -> bool {
        matches!(&self.state, State::Running(run) if run.tools_loaded.is_some())
    }

    /// Opens the LUKS devices among `devices`; whether any was opened.
    fn decrypt_each(
        &mut self,
        devices: &[String],
        name_by_uuid: bool,
        opened: &mut Vec<String>,
    ) -> Result<bool> {
        let mut some = false;
        for device in devices {
            // Unreadable or gone: not ours to open.
            if !self.vfs_type(device).is_ok_and(|t| t == "crypto_LUKS") {
                continue;
            }
            let uuid = self.luks_uuid(device).ok().filter(|u| !u.is_empty());
            let mapname = match (&uuid, name_by_uuid) {
                (Some(uuid), true) => format!("luks-{uuid}"),
                _ => mapname(device),
            };
            let mapped = format!("/dev/mapper/{mapname}");
            if self.list_dm_devices()?.contains(&mapped) {
                continue; // Opened already (an earlier decrypt).
            }
            let mut keys: Vec<Key> = self
                .keys
                .iter()
                .filter(|(target, _)| target.matches(device, uuid.as_deref()))
                .map(|(_, key)| key.clone())
                .collect();
            if keys.is_empty() {
                let Some(prompt) = self.key_prompt.as_mut() else {
                    tracing::info!("{device} is LUKS-encrypted and no key names it: left closed");
                    continue;
                };
                let key = prompt(device).map_err(|source| Error::HostIo {
                    call: "decrypt_devices",
                    what: format!("cannot read the key for {device}"),
                    source,
                })?;
                keys.push(Key::new(key));
            }
            let mut last = None;
            for key in keys {
                let opts = calls::cryptsetup_open::Opts::default();
                match self.cryptsetup_open(device, key, &mapname, opts) {
                    Ok(()) => {
                        last = None;
                        break;
                    }
                    Err(e) => last = Some(e),
                }
            }
            if let Some(source) = last {
                return Err(Error::Decrypt {
                    device: device.clone(),
                    source: Box::new(source),
                });
            }
            opened.push(mapped);
            some = true;
        }
        Ok(some)
    }
}

/// libguestfs's map name: "crypt" and the device name's letters and
/// digits (`/dev/sda2` → `cryptsda2`, `/dev/vg/root` → `cryptvgroot`).
fn mapname(device: &str) -> String {
    let name = device.strip_prefix("/dev/").unwrap_or(device);
    let mut out = String::from("crypt");
    out.extend(name.chars().filter(char::is_ascii_alphanumeric));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selectors_parse_as_libguestfs_documents_them() {
        let (t, k) = parse_key_selector("/dev/sda2:key:sec:ret").unwrap();
        assert_eq!(t, KeyTarget::Id("/dev/sda2".into()));
        assert_eq!(k.as_bytes(), b"sec:ret");
        let (t, k) = parse_key_selector("all:key:").unwrap();
        assert_eq!((t, k.as_bytes()), (KeyTarget::All, &b""[..]));
        let (t, _) = parse_key_selector(r"odd\:id:key:x").unwrap();
        assert_eq!(t, KeyTarget::Id("odd:id".into()));
        for bad in [
            "/dev/sda2",
            "/dev/sda2:pass",
            ":key:x",
            "/dev/sda2:clear:x",
            "x:file:",
        ] {
            assert!(parse_key_selector(bad).is_err(), "{bad}");
        }
        let e = parse_key_selector("/dev/sda2:nope:hunter2").unwrap_err();
        assert!(e.to_string().contains("/dev/sda2:nope:hunter2"), "{e}");
        let e = parse_key_selector("/dev/sda2:key").unwrap_err();
        assert!(e.to_string().contains("ID:key:KEY_STRING"), "{e}");
    }

    #[test]
    fn a_key_file_gives_its_first_line() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("k");
        std::fs::write(&file, b"first\nsecond\n").unwrap();
        let (_, k) = parse_key_selector(&format!("all:file:{}", file.display())).unwrap();
        assert_eq!(k.as_bytes(), b"first");
        let missing = format!("all:file:{}", dir.path().join("none").display());
        let e = parse_key_selector(&missing).unwrap_err();
        assert!(e.to_string().contains("none"), "{e}");
    }

    #[test]
    fn targets_match_by_name_alias_or_uuid() {
        let t = KeyTarget::Id("/dev/vda2".into());
        assert!(t.matches("/dev/sda2", None));
        assert!(!t.matches("/dev/sda3", None));
        let u = KeyTarget::Id("0f1e".into());
        assert!(u.matches("/dev/sdb", Some("0f1e")));
        assert!(!u.matches("/dev/sdb", None));
        assert!(KeyTarget::All.matches("/dev/x", None));
    }

    #[test]
    fn map_names_are_libguestfs_s() {
        assert_eq!(mapname("/dev/sda2"), "cryptsda2");
        assert_eq!(mapname("/dev/vg-ssd/lv-root7"), "cryptvgssdlvroot7");
    }
}
