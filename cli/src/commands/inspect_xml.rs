//! `inspect --xml`: virt-inspector's XML document, element for element
//! and in its order, from the same description `inspect --json` prints.
//! As virt-inspector, "unknown" strings are left out. The document is
//! small and flat, so it is written directly (with escaping) rather than
//! through an XML library.

use serde_json::Value;

/// The `<operatingsystems>` document for these described roots.
pub fn render(systems: &[Value]) -> String {
    let mut out = String::from("<?xml version=\"1.0\"?>\n<operatingsystems>\n");
    for os in systems {
        out.push_str("  <operatingsystem>\n");
        root(&mut out, os);
        out.push_str("  </operatingsystem>\n");
    }
    out.push_str("</operatingsystems>");
    out
}

fn root(out: &mut String, os: &Value) {
    let text = |key: &str| {
        os[key]
            .as_str()
            .filter(|s| *s != "unknown" && !s.is_empty())
    };
    element(out, 4, "root", text("root"));
    element(out, 4, "name", text("type"));
    element(out, 4, "arch", text("arch"));
    element(out, 4, "distro", text("distro"));
    element(out, 4, "product_name", text("product_name"));
    element(out, 4, "product_variant", text("product_variant"));
    for key in ["major_version", "minor_version"] {
        let n = os[key].as_i64().unwrap_or(0).to_string();
        element(out, 4, key, Some(&n));
    }
    element(out, 4, "windows_systemroot", text("windows_systemroot"));
    element(
        out,
        4,
        "windows_current_control_set",
        text("windows_current_control_set"),
    );
    element(out, 4, "package_format", text("package_format"));
    element(out, 4, "package_management", text("package_management"));
    element(out, 4, "hostname", text("hostname"));
    element(out, 4, "build_id", text("build_id"));
    element(out, 4, "osinfo", text("osinfo"));
    list(out, os, "mountpoints", |out, m| {
        out.push_str(&format!(
            "      <mountpoint dev=\"{}\">{}</mountpoint>\n",
            escape(m["device"].as_str().unwrap_or_default()),
            escape(m["mountpoint"].as_str().unwrap_or_default())
        ));
    });
    list(out, os, "filesystems", |out, fs| {
        let dev = escape(fs["device"].as_str().unwrap_or_default());
        out.push_str(&format!("      <filesystem dev=\"{dev}\">\n"));
        for key in ["type", "label", "uuid"] {
            element(out, 8, key, fs[key].as_str().filter(|s| !s.is_empty()));
        }
        out.push_str("      </filesystem>\n");
    });
    list(out, os, "drive_mappings", |out, d| {
        out.push_str(&format!(
            "      <drive_mapping name=\"{}\">{}</drive_mapping>\n",
            escape(d["name"].as_str().unwrap_or_default()),
            escape(d["device"].as_str().unwrap_or_default())
        ));
    });
    list(out, os, "applications", |out, app| {
        out.push_str("      <application>\n");
        for key in ["name", "display_name"] {
            element(out, 8, key, app[key].as_str().filter(|s| !s.is_empty()));
        }
        let epoch = app["epoch"].as_i64().unwrap_or(0);
        if epoch != 0 {
            element(out, 8, "epoch", Some(&epoch.to_string()));
        }
        for key in [
            "version",
            "release",
            "arch",
            "install_path",
            "publisher",
            "url",
            "source_package",
            "summary",
            "description",
        ] {
            element(out, 8, key, app[key].as_str().filter(|s| !s.is_empty()));
        }
        out.push_str("      </application>\n");
    });
}

/// `<name>items</name>`, left out when there is no item.
fn list(out: &mut String, os: &Value, name: &str, item: impl Fn(&mut String, &Value)) {
    let Some(items) = os[name].as_array().filter(|a| !a.is_empty()) else {
        return;
    };
    out.push_str(&format!("    <{name}>\n"));
    for v in items {
        item(out, v);
    }
    out.push_str(&format!("    </{name}>\n"));
}

fn element(out: &mut String, indent: usize, name: &str, value: Option<&str>) {
    if let Some(v) = value {
        out.push_str(&format!("{:indent$}<{name}>{}</{name}>\n", "", escape(v)));
    }
}

/// Escaping as libxml2 writes text and double-quoted attributes (which
/// virt-inspector uses); control characters a guest may plant (not
/// allowed in XML 1.0) become U+FFFD.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn virt_inspector_layout_and_escaping() {
        let os = json!({
            "root": "/dev/sda1", "type": "linux", "arch": "x86_64", "distro": "debian",
            "product_name": "12.7", "product_variant": "unknown",
            "major_version": 12, "minor_version": 7,
            "package_format": "deb", "package_management": "apt",
            "hostname": "h<&>\u{1}", "build_id": "unknown", "osinfo": "debian12",
            "mountpoints": [{"mountpoint": "/", "device": "/dev/sda1"}],
            "filesystems": [{"device": "/dev/sda1", "type": "ext4", "label": "", "uuid": "u-1"}],
            "drive_mappings": [],
            "applications": [{"name": "bash", "display_name": "", "epoch": 0, "version": "5.2",
                "release": "1", "arch": "amd64", "install_path": "", "publisher": "",
                "url": "", "source_package": "", "summary": "shell", "description": ""}],
        });
        let xml = render(&[os]);
        let expected = "<?xml version=\"1.0\"?>\n<operatingsystems>\n  <operatingsystem>\n    <root>/dev/sda1</root>\n    <name>linux</name>\n    <arch>x86_64</arch>\n    <distro>debian</distro>\n    <product_name>12.7</product_name>\n    <major_version>12</major_version>\n    <minor_version>7</minor_version>\n    <package_format>deb</package_format>\n    <package_management>apt</package_management>\n    <hostname>h&lt;&amp;&gt;\u{FFFD}</hostname>\n    <osinfo>debian12</osinfo>\n    <mountpoints>\n      <mountpoint dev=\"/dev/sda1\">/</mountpoint>\n    </mountpoints>\n    <filesystems>\n      <filesystem dev=\"/dev/sda1\">\n        <type>ext4</type>\n        <uuid>u-1</uuid>\n      </filesystem>\n    </filesystems>\n    <applications>\n      <application>\n        <name>bash</name>\n        <version>5.2</version>\n        <release>1</release>\n        <arch>amd64</arch>\n        <summary>shell</summary>\n      </application>\n    </applications>\n  </operatingsystem>\n</operatingsystems>";
        assert_eq!(xml, expected);
    }
}
