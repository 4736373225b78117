//! `inspect [--json | --xml]` (virt-inspector): every field
//! virt-inspector's XML carries, under libguestfs's names; `--xml` writes
//! virt-inspector's XML format itself (inspect_xml.rs).

use clap::Parser;
use libguest::Guest;
use serde_json::{json, Value};

use super::fs::{parse, pretty};
use crate::error::{one_line, Result};
use crate::mount::mount_root;
use crate::session::Session;

#[derive(Parser)]
#[command(disable_help_flag = true)]
struct InspectArgs {
    #[arg(long, conflicts_with = "xml")]
    json: bool,
    #[arg(long)]
    xml: bool,
}

pub fn run(s: &mut Session, args: &[String]) -> Result<()> {
    let opts: InspectArgs = parse("inspect", args)?;
    let g = s.guest()?;
    let roots = g.inspect_os()?;
    let mut systems = Vec::new();
    for root in &roots {
        let mut os = describe(g, root)?;
        if opts.json || opts.xml {
            if let Some(apps) = applications(g, root)? {
                os["applications"] = apps;
            }
        }
        systems.push(os);
    }
    if opts.json {
        outln!("{}", pretty(&json!({ "operating_systems": systems }))?);
        return Ok(());
    }
    if opts.xml {
        outln!("{}", super::inspect_xml::render(&systems));
        return Ok(());
    }
    if systems.is_empty() {
        errln!("libguest: inspect: no operating system found");
    }
    for os in &systems {
        print_text(os)?;
    }
    Ok(())
}

pub fn describe(g: &mut Guest, root: &str) -> Result<Value> {
    let mountpoints: Vec<Value> = g
        .inspect_get_mountpoints(root)?
        .into_iter()
        .map(|m| json!({ "mountpoint": m.mountpoint, "device": m.device }))
        .collect();
    let mut filesystems = Vec::new();
    for device in g.inspect_get_filesystems(root)? {
        // As virt-inspector: what cannot be read is left out.
        let mut fs = json!({ "device": device });
        for (key, value) in [
            ("type", g.vfs_type(&device)),
            ("label", g.vfs_label(&device)),
            ("uuid", g.vfs_uuid(&device)),
        ] {
            if let Ok(v) = value {
                fs[key] = Value::String(v);
            }
        }
        filesystems.push(fs);
    }
    let drive_mappings: Vec<Value> = g
        .inspect_get_drive_mappings(root)?
        .into_iter()
        .map(|(name, device)| json!({ "name": name, "device": device }))
        .collect();
    let os_type = g.inspect_get_type(root)?;
    let mut os = json!({
        "root": root,
        "type": os_type,
        "distro": g.inspect_get_distro(root)?,
        "product_name": g.inspect_get_product_name(root)?,
        "product_variant": g.inspect_get_product_variant(root)?,
        "major_version": g.inspect_get_major_version(root)?,
        "minor_version": g.inspect_get_minor_version(root)?,
        "arch": g.inspect_get_arch(root)?,
        "hostname": g.inspect_get_hostname(root)?,
        "package_format": g.inspect_get_package_format(root)?,
        "package_management": g.inspect_get_package_management(root)?,
        "osinfo": g.inspect_get_osinfo(root)?,
        "build_id": g.inspect_get_build_id(root)?,
        "mountpoints": mountpoints,
        "filesystems": filesystems,
        "drive_mappings": drive_mappings,
    });
    if os_type == "windows" {
        if let Ok(v) = g.inspect_get_windows_systemroot(root) {
            os["windows_systemroot"] = Value::String(v);
        }
        if let Ok(v) = g.inspect_get_windows_current_control_set(root) {
            os["windows_current_control_set"] = Value::String(v);
        }
    }
    Ok(os)
}

/// The installed applications, when the root can be mounted read-only:
/// on the user's mounts if this root is on /, else mounted for the
/// listing and unmounted after. None when it cannot be mounted.
pub fn applications(g: &mut Guest, root: &str) -> Result<Option<Value>> {
    let mounted = g.mountpoints()?;
    let listed = if mounted.is_empty() {
        if let Err(e) = mount_root(g, root, true) {
            g.umount_all()?;
            errln!(
                "libguest: inspect: no application list for {root}: {}",
                one_line(&e.to_string())
            );
            return Ok(None);
        }
        let listed = g.inspect_list_applications2(root);
        g.umount_all()?;
        listed
    } else if mounted
        .iter()
        .any(|m| m.mountpoint == "/" && m.device == root)
    {
        g.inspect_list_applications2(root)
    } else {
        return Ok(None);
    };
    let apps = listed?
        .into_iter()
        .map(|a| {
            json!({
                "name": a.app2_name, "display_name": a.app2_display_name,
                "epoch": a.app2_epoch, "version": a.app2_version, "release": a.app2_release,
                "arch": a.app2_arch, "install_path": a.app2_install_path,
                "publisher": a.app2_publisher,
                "url": a.app2_url, "source_package": a.app2_source_package,
                "summary": a.app2_summary, "description": a.app2_description,
            })
        })
        .collect();
    Ok(Some(Value::Array(apps)))
}

fn print_text(os: &Value) -> Result<()> {
    let field = |k: &str| match &os[k] {
        Value::String(s) if s.is_empty() => "unknown".to_string(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    outln!("{}:", field("root"));
    for (label, key) in [
        ("type", "type"),
        ("distro", "distro"),
        ("product name", "product_name"),
    ] {
        outln!("  {:<20}{}", format!("{label}:"), field(key));
    }
    let version = format!("{}.{}", field("major_version"), field("minor_version"));
    outln!("  {:<20}{version}", "version:");
    for (label, key) in [
        ("arch", "arch"),
        ("hostname", "hostname"),
        ("package format", "package_format"),
        ("package management", "package_management"),
    ] {
        outln!("  {:<20}{}", format!("{label}:"), field(key));
    }
    let mounts: Vec<String> = os["mountpoints"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|m| {
            let s = |k: &str| m[k].as_str().unwrap_or("?").to_string();
            format!("{} on {}", s("mountpoint"), s("device"))
        })
        .collect();
    outln!("  {:<20}{}", "mountpoints:", mounts.join(", "));
    Ok(())
}
