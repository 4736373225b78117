//! Option parsing of the virt-* tools, without an appliance.

use std::ffi::OsString;

use super::common::{parse, Open};
use super::files::{CatArgs, CopyInArgs, TarOutArgs};
use super::*;

fn os(args: &[&str]) -> Vec<OsString> {
    args.iter().map(OsString::from).collect()
}

#[test]
fn the_tool_comes_from_argv0_or_the_first_word() {
    let (name, rest) = tool_of(&os(&["/usr/bin/virt-cat", "-a", "x", "/f"])).unwrap();
    assert_eq!((name.as_str(), rest), ("virt-cat", os(&["-a", "x", "/f"])));
    let (name, rest) = tool_of(&os(&["libguest", "virt-ls", "-a", "x"])).unwrap();
    assert_eq!((name.as_str(), rest), ("virt-ls", os(&["-a", "x"])));
    assert!(tool_of(&os(&["libguest", "-a", "x", "virt-cat"])).is_none());
    assert!(tool_of(&os(&["libguest"])).is_none());
    assert!(find("virt-cat").is_some() && find("virt-nonesuch").is_none());
}

#[test]
fn options_become_a_libguest_command_line() {
    let argv = os(&[
        "--format",
        "qcow2",
        "-a",
        "a.qcow2",
        "-a",
        "b",
        "--format=raw",
        "-a",
        "c",
        "-x",
        "/etc/hostname",
    ]);
    let (a, m): (CatArgs, _) = parse("virt-cat", argv).unwrap();
    assert_eq!(a.files, ["/etc/hostname"]);
    let args = a
        .drives
        .cli_args(&m, &a.mounts.mounts, Open::MountedRo)
        .unwrap();
    assert_eq!(
        args,
        [
            "libguest",
            "--format=qcow2",
            "-a=a.qcow2",
            "-a=b",
            "--format=raw",
            "-a=c",
            "--ro",
            "-i",
            "-x"
        ]
    );
    // -m replaces inspection; a writer opens read-write.
    let argv = os(&[
        "-a",
        "d.img",
        "-m",
        "/dev/sda1",
        "--key",
        "/dev/sda2:key:pw",
        "/host/file",
        "/srv",
    ]);
    let (a, m): (CopyInArgs, _) = parse("virt-copy-in", argv).unwrap();
    let args = a
        .drives
        .cli_args(&m, &a.mounts.mounts, Open::MountedRw)
        .unwrap();
    assert_eq!(
        args,
        [
            "libguest",
            "-a=d.img",
            "--mount=/dev/sda1",
            "--key=/dev/sda2:key:pw"
        ]
    );
    assert_eq!(a.paths, ["/host/file", "/srv"]);
    // The session's config parses from it: formats per drive, read-only.
    let dir = tempfile::tempdir().unwrap();
    let (x, y) = (dir.path().join("a"), dir.path().join("b"));
    std::fs::write(&x, [0u8; 4096]).unwrap();
    std::fs::write(&y, [0u8; 4096]).unwrap();
    let (x, y) = (x.to_str().unwrap(), y.to_str().unwrap());
    let argv = os(&["--format", "raw", "-a", x, "-a", y, "/f"]);
    let (a, m): (CatArgs, _) = parse("virt-cat", argv).unwrap();
    let s = a.drives.session(&m, &[], Open::MountedRo).unwrap();
    let formats: Vec<_> = s.config.drives.iter().map(|(_, o)| o.format).collect();
    assert_eq!(formats, [Some(libguest::DriveFormat::Raw); 2]);
    assert!(s.config.ro && s.config.inspector);
}

#[test]
fn domains_and_missing_images_are_refused_with_what_to_do() {
    let (a, m): (CatArgs, _) = parse("virt-cat", os(&["-d", "guest1", "/f"])).unwrap();
    let e = a
        .drives
        .cli_args(&m, &[], Open::MountedRo)
        .unwrap_err()
        .to_string();
    assert!(e.contains("-a IMAGE") && e.contains("guest1"), "{e}");
    let (a, m): (CatArgs, _) = parse("virt-cat", os(&["/f"])).unwrap();
    let e = a
        .drives
        .cli_args(&m, &[], Open::MountedRo)
        .unwrap_err()
        .to_string();
    assert!(e.contains("-a IMAGE"), "{e}");
    // Usage errors are clap's: missing FILE, a missing tarball argument.
    assert!(parse::<CatArgs>("virt-cat", os(&["-a", "x"])).is_err());
    assert!(parse::<TarOutArgs>("virt-tar-out", os(&["-a", "x", "/dir"])).is_err());
    assert!(parse::<CopyInArgs>("virt-copy-in", os(&["-a", "x", "/only"])).is_err());
}
