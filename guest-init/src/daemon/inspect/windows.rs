//! Windows roots: a %SYSTEMROOT% (`/Windows`, `/WINNT`…, found
//! case-insensitively) with `system32/cmd.exe`; facts from the SOFTWARE
//! and SYSTEM hives (version, variant, build, hostname, control set,
//! drive letters) and the architecture from a System32 PE file, as
//! libguestfs's inspect_fs_windows does. Hives are read through positioned reads of
//! the guest file (`guest_formats::hive`).

use protocol::types::Application;

use guest_formats::binarch::pe_arch;
use guest_formats::hive::{self, Hive, HiveError, Key};
use guest_formats::os_release::parse_version;
use guest_formats::FileSource;

use super::files::{ci_path, is_dir, open_regular, read_prefix};
use super::types::OsFacts;
use crate::daemon::root::Root;
use crate::log;

const CURRENT_VERSION: &str = r"Microsoft\Windows NT\CurrentVersion";
const UNINSTALL: [&str; 2] = [
    r"Microsoft\Windows\CurrentVersion\Uninstall",
    r"WOW6432Node\Microsoft\Windows\CurrentVersion\Uninstall",
];

/// Where libguestfs looks for %SYSTEMROOT%.
const SYSTEMROOTS: [&str; 5] = ["/windows", "/winnt", "/win32", "/win", "/reactos"];

/// %SYSTEMROOT% as spelt on disk: a directory with system32,
/// system32/config and system32/cmd.exe (libguestfs's is_systemroot).
fn systemroot(root: &Root) -> Option<String> {
    SYSTEMROOTS.into_iter().find_map(|candidate| {
        let path = ci_path(root, candidate)?;
        let sys32 = ci_path(root, &format!("{path}/system32"))?;
        let config = ci_path(root, &format!("{sys32}/config"))?;
        let cmd = ci_path(root, &format!("{sys32}/cmd.exe"))?;
        (is_dir(root, &sys32) && is_dir(root, &config) && open_regular(root, &cmd).is_some())
            .then_some(path)
    })
}

/// A hive of a Windows root: its guest path and the opened file.
fn hive_file(root: &Root, systemroot: &str, name: &str) -> Option<(String, FileSource)> {
    let path = ci_path(root, &format!("{systemroot}/system32/config/{name}"))?;
    let file = open_regular(root, &path)?;
    Some((path, FileSource::new(file).ok()?))
}

/// The SOFTWARE hive of the Windows root of this tree.
fn software_hive(root: &Root) -> Option<FileSource> {
    hive_file(root, &systemroot(root)?, "software").map(|(_, f)| f)
}

/// A Windows root's facts, as libguestfs's check_windows_root.
/// `drives` maps a MountedDevices value to the appliance's partition.
pub(super) fn detect(root: &Root, drives: &DriveResolver<'_>) -> Option<OsFacts> {
    let systemroot = systemroot(root)?;
    let mut facts = OsFacts {
        os_type: "windows".into(),
        distro: "windows".into(),
        ..OsFacts::default()
    };
    facts.arch = ["cmd.exe", "ntdll.dll", "kernel32.dll"]
        .into_iter()
        .filter_map(|f| ci_path(root, &format!("{systemroot}/system32/{f}")))
        .find_map(|p| read_prefix(root, &p, 4096).and_then(|h| pe_arch(&h)))
        .unwrap_or_default()
        .to_owned();
    facts.windows.systemroot = systemroot.clone();
    let software = hive_file(root, &systemroot, "software");
    let system = hive_file(root, &systemroot, "system");
    if let Some((path, _)) = &software {
        facts.windows.software_hive = path.clone();
    }
    if let Some((path, _)) = &system {
        facts.windows.system_hive = path.clone();
    }
    // As libguestfs: the registry is read only when both hives are there.
    if let (Some((_, software)), Some((_, system))) = (software, system) {
        if let Err(e) = current_version(&software, &mut facts) {
            log(&format!("inspect: Windows SOFTWARE hive: {e}"));
        }
        if let Err(e) = system_facts(&system, &mut facts, drives) {
            log(&format!("inspect: Windows SYSTEM hive: {e}"));
        }
    }
    Some(facts)
}

fn string(h: &Hive, key: &Key, name: &str) -> Result<Option<String>, HiveError> {
    Ok(h.value(key, name)?.and_then(|v| v.string()))
}

/// ProductName, the version, InstallationType and CurrentBuildNumber
/// from `HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion`.
fn current_version(src: &FileSource, facts: &mut OsFacts) -> Result<(), HiveError> {
    let h = Hive::new(src)?;
    let Some(cv) = h.open(CURRENT_VERSION)? else {
        return Err(HiveError("no CurrentVersion key"));
    };
    let refs = h.values(&cv)?;
    let get = |name: &str| -> Result<Option<hive::Value>, HiveError> {
        hive::find(&refs, name).map(|r| h.read_value(r)).transpose()
    };
    let text = |name: &str| -> Result<Option<String>, HiveError> {
        Ok(get(name)?.and_then(|v| v.string()))
    };
    if let Some(product) = text("ProductName")? {
        facts.product_name = product;
    }
    let major = get("CurrentMajorVersionNumber")?.and_then(|v| v.dword());
    let minor = get("CurrentMinorVersionNumber")?.and_then(|v| v.dword());
    if let (Some(major), Some(minor)) = (major, minor) {
        (facts.major, facts.minor) = (major.into(), minor.into());
    } else if let Some(v) = text("CurrentVersion")? {
        (facts.major, facts.minor) = parse_version(&v);
    }
    if let Some(variant) = text("InstallationType")? {
        facts.product_variant = variant;
    }
    // CurrentBuild meant something else on XP; libguestfs uses this one.
    if let Some(build) = text("CurrentBuildNumber")? {
        facts.build_id = build;
    }
    Ok(())
}

/// The CurrentControlSet (`Select\Current`), the hostname and the drive
/// letters from the SYSTEM hive.
fn system_facts(
    src: &FileSource,
    facts: &mut OsFacts,
    drives: &DriveResolver<'_>,
) -> Result<(), HiveError> {
    let h = Hive::new(src)?;
    facts.windows.drive_mappings = drive_mappings(&h, drives)?;
    let current = match h.open("Select")? {
        Some(select) => h.value(&select, "Current")?.and_then(|v| v.dword()),
        None => None,
    };
    let Some(current) = current else {
        return Ok(());
    };
    let set = format!("ControlSet{current:03}");
    // libguestfs reads Tcpip's Hostname; ComputerName is the fallback
    // for hives without networking configured.
    let tcpip = format!(r"{set}\Services\Tcpip\Parameters");
    let computer = format!(r"{set}\Control\ComputerName\ComputerName");
    let mut hostname = match h.open(&tcpip)? {
        Some(key) => string(&h, &key, "Hostname")?,
        None => None,
    };
    if hostname.as_deref().unwrap_or_default().is_empty() {
        hostname = match h.open(&computer)? {
            Some(key) => string(&h, &key, "ComputerName")?,
            None => None,
        };
    }
    facts.hostname = hostname.unwrap_or_default();
    facts.windows.current_control_set = set;
    Ok(())
}

/// Maps a MountedDevices blob (MBR: disk signature and partition byte
/// offset; GPT: `DMIO:ID:` and the partition GUID) to a partition.
pub(super) type DriveResolver<'a> = dyn Fn(&[u8]) -> Option<String> + 'a;

/// `\DosDevices\X:` values of `HKLM\SYSTEM\MountedDevices` that name a
/// partition of the appliance's disks, sorted by letter.
fn drive_mappings(
    h: &Hive,
    drives: &DriveResolver<'_>,
) -> Result<Vec<(String, String)>, HiveError> {
    let Some(key) = h.open("MountedDevices")? else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for r in h.values(&key)? {
        let name = r.name.as_bytes();
        let letter = match name {
            [prefix @ .., letter, b':']
                if prefix.len() == 12
                    && prefix.eq_ignore_ascii_case(br"\DosDevices\")
                    && letter.is_ascii_alphabetic() =>
            {
                char::from(*letter).to_string()
            }
            _ => continue,
        };
        if r.data_type != hive::REG_BINARY {
            continue;
        }
        let value = h.read_value(&r)?;
        if let Some(device) = drives(&value.data) {
            out.push((letter, device));
        }
    }
    out.sort();
    Ok(out)
}

/// The Uninstall keys of the SOFTWARE hive (64- and 32-bit).
pub(super) fn applications(root: &Root) -> Result<Vec<Application>, String> {
    let Some(src) = software_hive(root) else {
        log("inspect: no Windows SOFTWARE hive under %SYSTEMROOT%/system32/config");
        return Ok(Vec::new());
    };
    let h = Hive::new(&src).map_err(|e| e.to_string())?;
    let mut apps = Vec::new();
    for path in UNINSTALL {
        let Some(uninstall) = h.open(path).map_err(|e| e.to_string())? else {
            continue;
        };
        for key in h.subkeys(&uninstall).map_err(|e| e.to_string())? {
            match application(&h, key) {
                Ok(app) => apps.push(app),
                Err(e) => log(&format!("inspect: Uninstall key: {e}")),
            }
        }
    }
    Ok(apps)
}

fn application(h: &Hive, key: Key) -> Result<Application, HiveError> {
    let refs = h.values(&key)?;
    let text = |name: &str| -> Result<String, HiveError> {
        Ok(match hive::find(&refs, name) {
            Some(r) => h.read_value(r)?.string().unwrap_or_default(),
            None => String::new(),
        })
    };
    Ok(Application {
        app2_display_name: text("DisplayName")?,
        app2_version: text("DisplayVersion")?,
        app2_publisher: text("Publisher")?,
        app2_install_path: text("InstallLocation")?,
        app2_url: text("URLInfoAbout")?,
        app2_description: text("Comments")?,
        app2_name: key.name,
        ..Application::default()
    })
}
