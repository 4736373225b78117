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
    let (name, _) = tool_of(&os(&["libguest", "mount", "-a", "x", "-i", "/mnt"])).unwrap();
    assert_eq!(name, "guestmount");
    assert!(
        tool_of(&os(&["libguest", "mount", "/dev/sda1", "/"])).is_none(),
        "guestfish's mount"
    );
    let (name, _) = tool_of(&os(&["/usr/bin/guestunmount", "/mnt"])).unwrap();
    assert_eq!(name, "guestunmount");
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
            "-x",
            "--format=qcow2",
            "-a=a.qcow2",
            "-a=b",
            "--format=raw",
            "-a=c",
            "--ro",
            "-i"
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

#[test]
fn df_rows_as_virt_df_prints_them() {
    use super::df::{display_name, row, title, Stat};
    let st = Stat {
        bsize: 4096,
        blocks: 1000,
        bfree: 250,
        bavail: 200,
        files: 100,
        ffree: 40,
    };
    assert_eq!(
        title(false, false, false),
        "Filesystem                           1K-blocks       Used  Available  Use%"
    );
    assert_eq!(
        row("disk.img", "/dev/sda1", &st, false, false, false),
        "disk.img:/dev/sda1                        4000       3000        800   75%"
    );
    assert_eq!(
        title(false, false, true)
            .split_whitespace()
            .collect::<Vec<_>>(),
        ["Filesystem", "Inodes", "IUsed", "IFree", "IUse%"]
    );
    assert_eq!(
        row("d", "/dev/sda1", &st, false, false, true)
            .split_whitespace()
            .collect::<Vec<_>>(),
        ["d:/dev/sda1", "100", "60", "40", "60%"]
    );
    assert_eq!(
        title(true, false, false),
        "VirtualMachine,Filesystem,1K-blocks,Used,Available,Use%"
    );
    assert_eq!(
        row("a,b", "/dev/sda1", &st, true, false, false),
        "\"a,b\",/dev/sda1,4000,3000,800,75.0"
    );
    assert!(row("d", "/dev/sda1", &st, false, true, false).contains("3.9M"));
    // A long name gets a line of its own.
    let long = row(&"x".repeat(40), "/dev/sda1", &st, false, false, false);
    assert_eq!(long.lines().count(), 2, "{long}");
    let drives = [std::path::PathBuf::from("/images/a.img"), "b.img".into()];
    assert_eq!(display_name(&drives[..1]), "a.img");
    assert_eq!(display_name(&drives), "a.img+");
}

#[test]
fn filesystems_columns_follow_the_selection() {
    use super::filesystems::{render, FilesystemsArgs, Row};
    let rows = [
        Row {
            name: "/dev/sda1".into(),
            kind: "filesystem",
            vfs: "ext4".into(),
            label: "root".into(),
            size: Some(1 << 20),
            ..Row::default()
        },
        Row {
            name: "/dev/sda1".into(),
            kind: "partition",
            mbr: "83".into(),
            size: Some(2 << 20),
            parent: "/dev/sda".into(),
            ..Row::default()
        },
    ];
    let (a, _): (FilesystemsArgs, _) = parse("virt-filesystems", os(&["-a", "x"])).unwrap();
    let sel = a.select();
    assert!(sel.filesystems && !sel.parts && !sel.extra);
    assert_eq!(render(&rows[..1], sel, &a), ["/dev/sda1"]);
    let (a, _): (FilesystemsArgs, _) =
        parse("virt-filesystems", os(&["-a", "x", "-l", "-h"])).unwrap();
    assert_eq!(
        render(&rows[..1], a.select(), &a),
        [
            // virt-filesystems's spacing (Debian's: two spaces, and
            // always a Parent column in --long).
            "Name       Type        VFS   Label  Size  Parent",
            "/dev/sda1  filesystem  ext4  root   1.0M  -"
        ]
    );
    let (a, _): (FilesystemsArgs, _) = parse(
        "virt-filesystems",
        os(&["-a", "x", "--all", "--long", "--csv", "--no-title"]),
    )
    .unwrap();
    let sel = a.select();
    assert!(sel.filesystems && sel.parts && sel.extra && sel.blkdevs && sel.lvs);
    assert_eq!(
        render(&rows, sel, &a),
        [
            "/dev/sda1,filesystem,ext4,root,,1048576,",
            "/dev/sda1,partition,,,83,2097152,/dev/sda"
        ]
    );
    let (a, _): (FilesystemsArgs, _) =
        parse("virt-filesystems", os(&["-a", "x", "--parts"])).unwrap();
    let sel = a.select();
    assert!(sel.parts && !sel.filesystems);
}

#[test]
fn ls_modes_times_and_options() {
    use super::ls::{mode_string, time, LsArgs};
    assert_eq!(mode_string(0o100644), "-rw-r--r--");
    assert_eq!(mode_string(0o040755), "drwxr-xr-x");
    assert_eq!(mode_string(0o120777), "lrwxrwxrwx");
    assert_eq!(mode_string(0o104755), "-rwsr-xr-x");
    assert_eq!(mode_string(0o041777), "drwxrwxrwt");
    let (a, _): (LsArgs, _) = parse("virt-ls", os(&["-a", "x", "/etc"])).unwrap();
    assert!(!a.long_recursive());
    assert_eq!(time(0, 0, &a), "1970-01-01 00:00:00");
    assert_eq!(time(1_700_000_000, 0, &a), "2023-11-14 22:13:20");
    let (a, _): (LsArgs, _) = parse(
        "virt-ls",
        os(&["-a", "x", "--checksum", "--time-days", "/etc"]),
    )
    .unwrap();
    assert_eq!(a.checksum.as_deref(), Some("md5"));
    assert!(a.long_recursive());
    assert_eq!(time(0, 3 * 86_400 + 5, &a), "3");
    let (a, _): (LsArgs, _) =
        parse("virt-ls", os(&["-a", "x", "--checksum=sha256", "-lR", "/"])).unwrap();
    assert_eq!(
        (a.checksum.as_deref(), a.long, a.recursive),
        (Some("sha256"), true, true)
    );
    // -h is human sizes here, not help.
    let (a, _): (LsArgs, _) = parse("virt-ls", os(&["-a", "x", "-lh", "/"])).unwrap();
    assert!(a.human && a.long);
}

#[test]
fn edit_expressions_are_perl_substitutions_on_each_line() {
    use super::edit::Subst;
    let s = Subst::parse("s/foo/bar/").unwrap();
    assert_eq!(s.apply(b"foo foo\nxfoo\nnone"), b"bar foo\nxbar\nnone");
    let s = Subst::parse("s/o/0/g").unwrap();
    assert_eq!(s.apply(b"foo\nboo\n"), b"f00\nb00\n");
    let s = Subst::parse(r"s|^(\w+)=(.*)$|$2=\1|").unwrap();
    assert_eq!(s.apply(b"a=b\nkey=value\n"), b"b=a\nvalue=key\n");
    let s = Subst::parse("s/HOST/[$&]/i").unwrap();
    assert_eq!(s.apply(b"my host\n"), b"my [host]\n");
    let s = Subst::parse(r"s/\/etc/\/srv/").unwrap();
    assert_eq!(s.apply(b"/etc/x\n"), b"/srv/x\n");
    let s = Subst::parse(r"s/$/ \$HOME/").unwrap();
    assert_eq!(s.apply(b"a\nb\n"), b"a $HOME\nb $HOME\n");
    for bad in [
        "$_ = uc", "tr/a/b/", "s/a/b/e", "s/a/b", "s/(/x/", "s/a/$x/",
    ] {
        let e = Subst::parse(bad).unwrap_err().to_string();
        assert!(
            e.contains("s/REGEX/REPLACEMENT/FLAGS") && e.contains("$EDITOR"),
            "{bad}: {e}"
        );
    }
}

#[test]
fn make_fs_format_and_alignment_options() {
    use super::disk::{alignment_line, AlignmentArgs, FormatArgs, Layout, MakeFsArgs};
    let argv = os(&[
        "--type=xfs",
        "-s",
        "+10M",
        "--label",
        "L",
        "in.tar",
        "out.img",
    ]);
    let (a, _): (MakeFsArgs, _) = parse("virt-make-fs", argv).unwrap();
    assert_eq!(
        a.words().unwrap(),
        [
            "in.tar",
            "out.img",
            "--type=xfs",
            "--size=+10M",
            "--label=L"
        ]
    );
    let (a, _): (MakeFsArgs, _) = parse("virt-make-fs", os(&["-", "out.img"])).unwrap();
    assert!(a
        .words()
        .unwrap_err()
        .to_string()
        .contains("save it to a file"));

    let (a, _): (FormatArgs, _) =
        parse("virt-format", os(&["-a", "x", "--filesystem=ext4"])).unwrap();
    let mbr = Some("msdos".to_string());
    assert_eq!(
        a.layout(1 << 30).unwrap(),
        Layout {
            table: mbr.clone(),
            lvm: None
        }
    );
    assert_eq!(a.layout(3 << 40).unwrap().table.as_deref(), Some("gpt"));
    let argv = os(&["-a", "x", "--lvm", "--partition=none"]);
    let (a, _): (FormatArgs, _) = parse("virt-format", argv).unwrap();
    let vg_lv = Some(("VG".to_string(), "LV".to_string()));
    assert_eq!(
        a.layout(1 << 30).unwrap(),
        Layout {
            table: None,
            lvm: vg_lv
        }
    );
    let (a, _): (FormatArgs, _) =
        parse("virt-format", os(&["-a", "x", "--lvm=/dev/data"])).unwrap();
    assert!(a.layout(0).unwrap_err().to_string().contains("/dev/VG/LV"));
    let (a, _): (FormatArgs, _) =
        parse("virt-format", os(&["-a", "x", "--partition=bsd"])).unwrap();
    assert!(a.layout(0).is_err());
    assert!(parse::<FormatArgs>("virt-format", os(&["-a", "x", "--label=L"])).is_err());

    // virt-alignment-scan's own columns (checked against Debian's).
    let (line, grade) = alignment_line("/dev/sda1", 1 << 20);
    assert_eq!(line, "/dev/sda1      1048576         1024K   ok");
    assert_eq!(grade, 0);
    let (line, grade) = alignment_line("/dev/sda1", 63 * 512);
    assert_eq!(
        line,
        "/dev/sda1        32256          512    bad (alignment < 4K)"
    );
    assert_eq!(grade, 3);
    let (line, grade) = alignment_line("/dev/sdb2", 8192);
    assert!(
        line.ends_with("           8K   bad (alignment < 64K)"),
        "{line}"
    );
    assert_eq!(grade, 2);
    let (a, _): (AlignmentArgs, _) = parse("virt-alignment-scan", os(&["-a", "x", "-q"])).unwrap();
    assert!(a.quiet);
}

#[test]
fn diff_lines_as_virt_diff_prints_them() {
    use super::diff::{changes, file_fields, line, DiffArgs, Entry};
    let file = Entry {
        mode: 0o100644,
        size: 9,
        link: None,
    };
    assert_eq!(
        line(&file_fields("/etc/hostname", &file, false, false), false),
        "- 0644          9 /etc/hostname"
    );
    let link = Entry {
        mode: 0o120777,
        size: 5,
        link: Some("a.txt".into()),
    };
    assert_eq!(
        line(&file_fields("/l", &link, true, false), true),
        "l,0777,5,/l,->,a.txt"
    );
    let bigger = Entry {
        size: 10,
        ..file.clone()
    };
    assert_eq!(changes(&file, &bigger, false, false), ["size", "content"]);
    assert_eq!(changes(&file, &file, false, false), ["content"]);
    assert!(changes(&file, &file, true, false).is_empty());
    let dir = Entry {
        mode: 0o040755,
        size: 1024,
        link: None,
    };
    let grown = Entry {
        size: 2048,
        ..dir.clone()
    };
    assert!(changes(&dir, &grown, true, false).is_empty());
    assert_eq!(changes(&dir, &grown, true, true), ["size"]);
    let (a, _): (DiffArgs, _) = parse("virt-diff", os(&["-a", "old", "-A", "new", "-h"])).unwrap();
    assert_eq!(
        (a.new.as_slice(), a.human),
        (&["new".to_string()][..], true)
    );
    assert!(parse::<DiffArgs>("virt-diff", os(&["-a", "old"])).is_err());
}
