//! e2e: inspection of a real Debian 12 guest (debootstrap minbase, built
//! once and cached by scripts/debian-image.sh), through the library and
//! through the `libguest` CLI, each on our VMM (the image attached to the
//! test host as /dev/vda where /dev/kvm cannot run Linux) and on the qemu
//! TCG backend. The cached image is opened read-only and must come out
//! unchanged.

#[allow(dead_code)]
use libguest_tests::cli as support;

use std::path::Path;

use libguest::{Backend, Guest};
use libguest_tests::images::debian_image;
use libguest_tests::{e2e_test, fingerprint, E2eDisk, E2eSetup};

const ROOT: &str = "/dev/sda1";

fn launched_ro(backend: Backend, image: &Path) -> Guest {
    let mut g = Guest::new().unwrap();
    g.set_backend(backend).unwrap();
    g.add_drive_ro(image).unwrap();
    if let Err(e) = g.launch() {
        panic!("launch: {e}\n{}", g.console_log());
    }
    g
}

/// `12.11` -> (12, 11), as /etc/debian_version says it.
fn debian_version(text: &str) -> (i64, i64) {
    let text = text.trim();
    let (major, minor) = text
        .split_once('.')
        .unwrap_or_else(|| panic!("/etc/debian_version: {text:?}"));
    (major.parse().unwrap(), minor.parse().unwrap())
}

e2e_test! {
    fn e2e_inspect_debian_library(disks = vec![E2eDisk::read_only(debian_image())]) {
        inspect_library(Backend::Kvm, &disks[0]);
    }
}

#[test]
fn inspect_debian_library_tcg() {
    let image = debian_image();
    let before = fingerprint(&image);
    inspect_library(Backend::Tcg, &image);
    assert!(fingerprint(&image) == before, "the image changed");
}

/// Every inspection call on the Debian image at `image`.
fn inspect_library(backend: Backend, image: &Path) {
    let mut g = launched_ro(backend, image);

    assert_eq!(g.inspect_os().unwrap(), [ROOT]);
    assert_eq!(g.inspect_get_type(ROOT).unwrap(), "linux");
    assert_eq!(g.inspect_get_distro(ROOT).unwrap(), "debian");
    assert_eq!(g.inspect_get_hostname(ROOT).unwrap(), "libguest-demo");
    assert_eq!(g.inspect_get_arch(ROOT).unwrap(), "x86_64");
    assert_eq!(g.inspect_get_package_format(ROOT).unwrap(), "deb");
    assert_eq!(g.inspect_get_package_management(ROOT).unwrap(), "apt");
    let mountpoints: Vec<(String, String)> = g
        .inspect_get_mountpoints(ROOT)
        .unwrap()
        .into_iter()
        .map(|m| (m.mountpoint, m.device))
        .collect();
    assert_eq!(mountpoints, [("/".to_string(), ROOT.to_string())]);
    assert_eq!(g.inspect_get_filesystems(ROOT).unwrap(), [ROOT]);

    g.mount_ro(ROOT, "/").unwrap();
    // The guest's own programs; 6 MB of output is over one message, so
    // its reply comes in parts.
    let out = g
        .sh("head -c 6000000 /dev/zero | tr '\\0' a")
        .unwrap_or_else(|e| panic!("sh: {e}\n{}", g.console_log()));
    assert_eq!(out.len(), 6_000_000);
    assert!(out.bytes().all(|b| b == b'a'));
    assert_eq!(
        g.command_lines(vec!["/usr/bin/seq", "1", "700000"])
            .unwrap()
            .len(),
        700_000
    );
    let debian_version_text = g.cat("/etc/debian_version").unwrap();
    let (major, minor) = debian_version(&debian_version_text);
    assert_eq!(major, 12);
    // As virt-inspector reports it (checked against it on this image):
    // the product name is /etc/debian_version's line.
    assert_eq!(
        g.inspect_get_product_name(ROOT).unwrap(),
        debian_version_text.trim()
    );
    assert_eq!(g.inspect_get_osinfo(ROOT).unwrap(), "debian12");
    assert_eq!(g.inspect_get_product_variant(ROOT).unwrap(), "unknown");
    assert_eq!(g.inspect_get_roots().unwrap(), [ROOT]);
    assert_eq!(g.inspect_get_major_version(ROOT).unwrap(), major);
    assert_eq!(g.inspect_get_minor_version(ROOT).unwrap(), minor);

    let apps = g.inspect_list_applications2(ROOT).unwrap();
    assert!(
        apps.len() > 50,
        "a minbase has ~90 packages: {}",
        apps.len()
    );
    for name in ["dpkg", "apt", "base-files"] {
        let app = apps
            .iter()
            .find(|a| a.app2_name == name)
            .unwrap_or_else(|| panic!("{name} not in {apps:#?}"));
        assert!(
            app.app2_version.starts_with(|c: char| c.is_ascii_digit()),
            "{app:?}"
        );
    }
    let base_files = apps.iter().find(|a| a.app2_name == "base-files").unwrap();
    assert!(
        base_files.app2_version.starts_with("12"),
        "base-files {base_files:?}"
    );
    g.shutdown().unwrap();
}

#[test]
fn inspect_debian_cli() {
    let image = debian_image();
    let before = fingerprint(&image);
    inspect_cli(Backend::Tcg, &image);
    assert!(fingerprint(&image) == before, "the image changed");
}

e2e_test! {
    /// The CLI on our VMM: inside the test host it runs there, on /dev/vda.
    fn e2e_inspect_debian_cli(disks = {
        let cli = support::bin().to_path_buf();
        E2eSetup {
            disks: vec![E2eDisk::read_only(debian_image())],
            env: vec![(support::BIN_ENV.into(), libguest_tests::program_in_test_host(&cli))],
            programs: vec![cli],
        }
    }) {
        inspect_cli(Backend::Kvm, &disks[0]);
    }
}

/// `-i cat /etc/os-release` and `inspect --json` on `backend`.
fn inspect_cli(backend: Backend, image: &Path) {
    let img = image.to_str().unwrap();
    assert!(!img.contains(char::is_whitespace), "{img}");
    let backend_name = match backend {
        Backend::Kvm => "kvm",
        Backend::Tcg => "tcg",
        Backend::Auto => "auto",
    };
    let booted = |args: &str| {
        support::run_with(
            &format!("{} {args}", support::launch_options_for(backend_name)),
            None,
            &[],
        )
    };

    // The real os-release, read by the library for comparison.
    let os_release = {
        let mut g = launched_ro(backend, image);
        g.mount_ro(ROOT, "/").unwrap();
        let text = g.cat("/etc/os-release").unwrap();
        g.shutdown().unwrap();
        text
    };
    assert!(os_release.contains("VERSION_ID=\"12\""), "{os_release:?}");

    let run = booted(&format!("--ro -a {img} -i cat /etc/os-release"));
    // cat prints the file and a newline, as guestfish.
    assert_eq!(support::ok(&run), format!("{os_release}\n"));

    let run = booted(&format!("--ro -a {img} inspect --json"));
    let report: serde_json::Value = serde_json::from_str(support::ok(&run)).unwrap();
    let systems = report["operating_systems"].as_array().expect("systems");
    assert_eq!(systems.len(), 1, "{report:#}");
    let os = &systems[0];
    assert_eq!(os["root"], ROOT);
    assert_eq!(os["type"], "linux");
    assert_eq!(os["distro"], "debian");
    assert_eq!(os["major_version"], 12);
    assert_eq!(os["hostname"], "libguest-demo");
    assert_eq!(os["package_format"], "deb");
    assert_eq!(os["osinfo"], "debian12");
    assert_eq!(os["filesystems"][0]["type"], "ext4");
    assert_eq!(os["filesystems"][0]["label"], "debroot");
    let apps = os["applications"].as_array().expect("applications");
    for name in ["dpkg", "apt", "base-files"] {
        assert!(apps.iter().any(|a| a["name"] == name), "{name} not listed");
    }

    // virt-inspector's XML (scripts/compare-virt-inspector.sh diffs it
    // with the real virt-inspector where libguestfs-tools is installed).
    let run = booted(&format!("--ro -a {img} inspect --xml"));
    let xml = support::ok(&run);
    assert!(
        xml.starts_with("<?xml version=\"1.0\"?>\n<operatingsystems>\n"),
        "{xml}"
    );
    for line in [
        "    <root>/dev/sda1</root>\n    <name>linux</name>\n    <arch>x86_64</arch>\n    <distro>debian</distro>\n",
        "    <osinfo>debian12</osinfo>\n    <mountpoints>\n      <mountpoint dev=\"/dev/sda1\">/</mountpoint>\n",
        "        <label>debroot</label>\n",
        "        <name>dpkg</name>\n",
    ] {
        assert!(xml.contains(line), "{line:?} not in the XML");
    }
}
