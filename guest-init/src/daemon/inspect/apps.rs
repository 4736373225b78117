//! inspect_list_applications2 for Linux package databases: dpkg's status
//! file, pacman's local database and apk's installed file (rpm's
//! databases are in `rpmdb.rs`), read in the guest tree mounted at `/`
//! through `Root`. Fields as libguestfs fills them; the files are parsed
//! by `guest_formats::package_text`.

use guest_formats::package_text::{field, pacman_desc, paragraphs, split_version};
use protocol::types::Application;

use super::files::{list_dir, read_text, read_whole};
use crate::daemon::root::Root;

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
