//! inspect_list_applications2 for Linux package databases: dpkg's status
//! file, the rpm database (sqlite), pacman's local database and apk's
//! installed file, read in the guest tree mounted at `/` through `Root`.
//! Fields as libguestfs fills them; the files are parsed by
//! `guest_formats` (package_text, sqlite, rpm).

use guest_formats::package_text::{field, pacman_desc, paragraphs, split_version};
use guest_formats::rpm::parse_header;
use guest_formats::sqlite::{Column, Db};
use guest_formats::FileSource;
use protocol::types::Application;

use super::files::{exists, list_dir, open_regular, read_text, read_whole};
use crate::daemon::root::Root;
use crate::log;

/// dpkg's status and apk's installed file are a few MiB.
const DB_CAP: usize = 64 << 20;

/// `/var/lib/dpkg/status`: installed packages only.
pub(super) fn dpkg(root: &Root) -> Result<Vec<Application>, String> {
    let Some(bytes) = read_whole(root, "/var/lib/dpkg/status", DB_CAP)? else {
        return Err("no dpkg database (/var/lib/dpkg/status)".into());
    };
    Ok(parse_dpkg_status(&String::from_utf8_lossy(&bytes)))
}

pub(super) fn parse_dpkg_status(text: &str) -> Vec<Application> {
    let mut apps = Vec::new();
    for p in paragraphs(text) {
        let status: Vec<&str> = field(&p, "Status").split_whitespace().collect();
        if status.get(2) != Some(&"installed") || field(&p, "Package").is_empty() {
            continue;
        }
        let (epoch, version, release) = split_version(field(&p, "Version"));
        let (summary, description) = match field(&p, "Description").split_once('\n') {
            Some((s, d)) => (s.to_owned(), d.to_owned()),
            None => (field(&p, "Description").to_owned(), String::new()),
        };
        let source = field(&p, "Source")
            .split_whitespace()
            .next()
            .unwrap_or_default();
        apps.push(Application {
            app2_name: field(&p, "Package").to_owned(),
            app2_epoch: epoch,
            app2_version: version,
            app2_release: release,
            app2_arch: field(&p, "Architecture").to_owned(),
            app2_url: field(&p, "Homepage").to_owned(),
            app2_source_package: source.to_owned(),
            app2_summary: summary,
            app2_description: description,
            ..Application::default()
        });
    }
    apps
}

/// The rpm database: sqlite (rpm ≥ 4.16). Berkeley DB and ndb databases
/// (older RHEL, SUSE) are not read: an empty list and a log line.
pub(super) fn rpm(root: &Root) -> Result<Vec<Application>, String> {
    let dirs = ["/var/lib/rpm", "/usr/lib/sysimage/rpm"];
    let sqlite = dirs
        .iter()
        .map(|d| format!("{d}/rpmdb.sqlite"))
        .find(|p| exists(root, p));
    let Some(path) = sqlite else {
        let other = dirs
            .iter()
            .flat_map(|d| [format!("{d}/Packages"), format!("{d}/Packages.db")])
            .find(|p| exists(root, p));
        match other {
            Some(p) => log(&format!(
                "inspect: {p}: Berkeley DB / ndb rpm databases are not supported; no applications listed"
            )),
            None => return Err("no rpm database (/var/lib/rpm/rpmdb.sqlite)".into()),
        }
        return Ok(Vec::new());
    };
    if open_regular(root, &format!("{path}-wal"))
        .is_some_and(|f| f.metadata().is_ok_and(|m| m.len() > 0))
    {
        log(&format!(
            "inspect: {path}-wal is not empty: changes not checkpointed are not seen"
        ));
    }
    let file = open_regular(root, &path).ok_or_else(|| format!("{path}: not a readable file"))?;
    let src = FileSource::new(file).map_err(|e| format!("{path}: {e}"))?;
    let db = Db::open(&src).map_err(|e| format!("{path}: {e}"))?;
    let table = db
        .table_root("Packages")
        .map_err(|e| format!("{path}: {e}"))?
        .ok_or_else(|| format!("{path}: no Packages table"))?;
    let mut apps = Vec::new();
    let mut bad = 0usize;
    let walk = db.for_each_row(table, &mut |_, cols| {
        let blob = match cols.get(1) {
            Some(Column::Blob(b)) => b,
            _ => {
                bad += 1;
                return true;
            }
        };
        match parse_header(blob) {
            Ok(h) => apps.push(Application {
                app2_name: h.name,
                app2_epoch: h.epoch,
                app2_version: h.version,
                app2_release: h.release,
                app2_arch: h.arch,
                app2_url: h.url,
                app2_source_package: h.sourcerpm,
                app2_summary: h.summary,
                app2_description: h.description,
                ..Application::default()
            }),
            Err(_) => bad += 1,
        }
        true
    });
    if let Err(e) = walk {
        log(&format!(
            "inspect: {path}: {e}; listing the packages read before it"
        ));
    }
    if bad > 0 {
        log(&format!(
            "inspect: {path}: {bad} unreadable package headers skipped"
        ));
    }
    Ok(apps)
}

/// pacman: `/var/lib/pacman/local/<pkg>/desc`, `%FIELD%` then values.
pub(super) fn pacman(root: &Root) -> Result<Vec<Application>, String> {
    let dir = "/var/lib/pacman/local";
    let mut apps = Vec::new();
    for entry in list_dir(root, dir) {
        let Some(text) = read_text(root, &format!("{dir}/{entry}/desc"), 1 << 20) else {
            continue;
        };
        let fields = pacman_desc(&text);
        if field(&fields, "NAME").is_empty() {
            continue;
        }
        let (epoch, version, release) = split_version(field(&fields, "VERSION"));
        apps.push(Application {
            app2_name: field(&fields, "NAME").to_owned(),
            app2_epoch: epoch,
            app2_version: version,
            app2_release: release,
            app2_arch: field(&fields, "ARCH").to_owned(),
            app2_url: field(&fields, "URL").to_owned(),
            app2_source_package: field(&fields, "BASE").to_owned(),
            app2_summary: field(&fields, "DESC").to_owned(),
            ..Application::default()
        });
    }
    Ok(apps)
}

/// apk: `/lib/apk/db/installed`, one `X:value` line per field.
pub(super) fn apk(root: &Root) -> Result<Vec<Application>, String> {
    let Some(bytes) = read_whole(root, "/lib/apk/db/installed", DB_CAP)? else {
        return Err("no apk database (/lib/apk/db/installed)".into());
    };
    let text = String::from_utf8_lossy(&bytes);
    Ok(paragraphs(&text)
        .into_iter()
        .filter(|p| !field(p, "P").is_empty())
        .map(|p| {
            let (epoch, version, release) = split_version(field(&p, "V"));
            Application {
                app2_name: field(&p, "P").to_owned(),
                app2_epoch: epoch,
                app2_version: version,
                app2_release: release,
                app2_arch: field(&p, "A").to_owned(),
                app2_url: field(&p, "U").to_owned(),
                app2_source_package: field(&p, "o").to_owned(),
                app2_summary: field(&p, "T").to_owned(),
                ..Application::default()
            }
        })
        .collect())
}
