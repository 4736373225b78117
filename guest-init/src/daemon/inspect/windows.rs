//! Windows roots: `\Windows\System32\config\SOFTWARE` found
//! case-insensitively, facts from the SOFTWARE and SYSTEM hives and the
//! architecture from a System32 PE file, as libguestfs's
//! inspect_fs_windows does. Hives are read through positioned reads of
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

/// The System32 directory of a Windows root, as spelt on disk.
fn system32(root: &Root) -> Option<String> {
    ["/Windows/System32", "/WINNT/System32"]
        .into_iter()
        .filter_map(|p| ci_path(root, p))
        .find(|p| is_dir(root, p))
}

/// The SOFTWARE (or SYSTEM) hive of a Windows root, opened.
fn hive_file(root: &Root, name: &str) -> Option<FileSource> {
    let path = ci_path(root, &format!("{}/config/{name}", system32(root)?))?;
    let file = open_regular(root, &path)?;
    FileSource::new(file).ok()
}

pub(super) fn detect(root: &Root) -> Option<OsFacts> {
    let sys32 = system32(root)?;
    let software = hive_file(root, "SOFTWARE")?;
    let mut facts = OsFacts {
        os_type: "windows".into(),
        distro: "windows".into(),
        package_format: "unknown".into(),
        package_management: "unknown".into(),
        ..OsFacts::default()
    };
    if let Err(e) = current_version(&software, &mut facts) {
        log(&format!("inspect: Windows SOFTWARE hive: {e}"));
    }
    facts.hostname = hive_file(root, "SYSTEM")
        .and_then(|system| {
            computer_name(&system)
                .map_err(|e| log(&format!("inspect: Windows SYSTEM hive: {e}")))
                .ok()
                .flatten()
        })
        .unwrap_or_default();
    facts.arch = ["cmd.exe", "ntdll.dll", "kernel32.dll"]
        .into_iter()
        .filter_map(|f| ci_path(root, &format!("{sys32}/{f}")))
        .find_map(|p| read_prefix(root, &p, 4096).and_then(|h| pe_arch(&h)))
        .unwrap_or("unknown")
        .to_owned();
    Some(facts)
}

fn string(h: &Hive, key: &Key, name: &str) -> Result<Option<String>, HiveError> {
    Ok(h.value(key, name)?.and_then(|v| v.string()))
}

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
    let mut product = text("ProductName")?.unwrap_or_default();
    let major = get("CurrentMajorVersionNumber")?.and_then(|v| v.dword());
    let minor = get("CurrentMinorVersionNumber")?.and_then(|v| v.dword());
    if let Some(major) = major {
        (facts.major, facts.minor) = (major.into(), minor.unwrap_or(0).into());
    } else if let Some(v) = text("CurrentVersion")? {
        (facts.major, facts.minor) = parse_version(&v);
    }
    // Windows 11 still says "Windows 10" in ProductName; its build says 11.
    let build = text("CurrentBuildNumber")?.or(text("CurrentBuild")?);
    let build: u32 = build.and_then(|b| b.trim().parse().ok()).unwrap_or(0);
    if facts.major == 10 && build >= 22000 {
        if let Some(rest) = product.strip_prefix("Windows 10") {
            product = format!("Windows 11{rest}");
        }
    }
    facts.product_name = product;
    Ok(())
}

/// `ControlSetNNN\Control\ComputerName\ComputerName`, NNN from
/// `Select\Current`.
fn computer_name(src: &FileSource) -> Result<Option<String>, HiveError> {
    let h = Hive::new(src)?;
    let current = match h.open("Select")? {
        Some(select) => h.value(&select, "Current")?.and_then(|v| v.dword()),
        None => None,
    };
    let set = format!("ControlSet{:03}", current.unwrap_or(1).min(999));
    let path = format!(r"{set}\Control\ComputerName\ComputerName");
    match h.open(&path)? {
        Some(key) => string(&h, &key, "ComputerName"),
        None => Ok(None),
    }
}

/// The Uninstall keys of the SOFTWARE hive (64- and 32-bit).
pub(super) fn applications(root: &Root) -> Result<Vec<Application>, String> {
    let Some(src) = hive_file(root, "SOFTWARE") else {
        return Err("no Windows SOFTWARE hive under /Windows/System32/config".into());
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
