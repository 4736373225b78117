//! e2e: the `libguest` binary as a user runs it, on the qemu TCG backend
//! (`--backend tcg` runs natively wherever qemu does, so no test host;
//! `LIBGUEST_CLI_BACKEND=kvm` picks KVM where it can run Linux). Every
//! launch costs seconds: the checks are grouped into few runs.

use libguest_tests::cli as support;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::Duration;

use sha2::{Digest, Sha256};
use support::*;

/// The unprivileged user that runs the unreadable-image check.
const NOBODY: u32 = 65534;

#[test]
fn cli_commands_copies_filesystems_df_scripts() {
    let (_guard, dir) = tempdir();
    let img = image(&dir, "disk.img");
    let tree = host_tree(&dir);
    let data = pattern(2_000_000);
    std::fs::write(format!("{dir}/big.bin"), &data).unwrap();
    let mut tarball = tar::Builder::new(std::fs::File::create(format!("{dir}/in.tar")).unwrap());
    tarball.append_dir_all("fromtar", tree.join("sub")).unwrap();
    tarball.into_inner().unwrap();

    // Write with the CLI itself: ':'-separated commands, -m mounts.
    ok(&booted(&format!(
        "-a {img} -m /dev/sda1 mkdir-p /etc : write /etc/hostname myhost : mkdir-p /srv \
         : copy-in {dir}/tree /srv : upload {dir}/big.bin /srv/big.bin : tar-in {dir}/in.tar /srv"
    )));

    // Read back read-only: cat, ls, ll, copy-out, download, tar-out, df
    // on the user's mounts; -x echoes.
    std::fs::create_dir(format!("{dir}/out")).unwrap();
    let run = booted(&format!(
        "--ro -a {img} -m /dev/sda1:/:noatime -x cat /etc/hostname : ls /etc : ll /srv/tree \
         : copy-out /srv/tree {dir}/out : download /srv/big.bin {dir}/out/big.bin \
         : tar-out /srv/fromtar {dir}/out/out.tar : cat /srv/fromtar/deeper/c.txt : df"
    ));
    let stdout = ok(&run);
    assert!(stdout.starts_with("myhost\nhostname\n"), "{stdout}");
    assert!(
        stdout.contains("a.txt") && stdout.contains("link -> a.txt"),
        "{stdout}"
    );
    // cat prints the file and a newline, as guestfish.
    assert!(stdout.contains("\ngamma\n\nFilesystem "), "{stdout}");
    assert!(
        run.stderr.contains("cat /etc/hostname"),
        "-x: {}",
        run.stderr
    );
    let df_row = stdout
        .lines()
        .find(|l| l.starts_with("/dev/sda1 "))
        .expect("df row");
    assert!(df_row.ends_with('%'), "{df_row}");
    for file in ["a.txt", "sub/b.bin", "sub/deeper/c.txt"] {
        let a = std::fs::read(tree.join(file)).unwrap();
        let b = std::fs::read(format!("{dir}/out/tree/{file}")).unwrap();
        assert_eq!(a, b, "{file}");
    }
    let link = std::fs::read_link(format!("{dir}/out/tree/link")).unwrap();
    assert_eq!(link, Path::new("a.txt"));
    assert!(
        std::fs::read(format!("{dir}/out/big.bin")).unwrap() == data,
        "download"
    );
    let tar_out = std::fs::File::open(format!("{dir}/out/out.tar")).unwrap();
    let names: Vec<String> = tar::Archive::new(tar_out)
        .entries()
        .unwrap()
        .map(|e| e.unwrap().path().unwrap().display().to_string())
        .collect();
    assert!(
        names.iter().any(|n| n.ends_with("deeper/c.txt")),
        "{names:?}"
    );

    // Nothing mounted: df mounts each filesystem in turn; the tables and JSON.
    let run = booted(&format!(
        "--ro -a {img} df -h : filesystems : filesystems --json"
    ));
    let stdout = ok(&run);
    let df_row = stdout
        .lines()
        .find(|l| l.starts_with("/dev/sda1 "))
        .expect("df -h row");
    assert!(df_row.contains('M') && df_row.ends_with('%'), "{df_row}");
    let fs_row = stdout
        .lines()
        .find(|l| l.starts_with("/dev/sda1 ") && l.contains("filesystem"))
        .expect("filesystem row");
    for word in ["ext4", "clilabel", UUID] {
        assert!(fs_row.contains(word), "{word} not in {fs_row}");
    }
    assert!(stdout
        .lines()
        .any(|l| l.starts_with("/dev/sda ") && l.contains("device")));
    let json = &stdout[stdout.find('[').expect("JSON list")..];
    let list: serde_json::Value = serde_json::from_str(json).expect("filesystems --json");
    let sda1 = list
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "/dev/sda1" && r["type"] == "filesystem")
        .expect("sda1 in JSON");
    assert_eq!(sda1["vfs_type"], "ext4");
    assert_eq!(sda1["label"], "clilabel");

    // -f SCRIPT: comments, quotes; the first error stops the script.
    let script = format!("{dir}/script.txt");
    std::fs::write(
        &script,
        "# a comment\nmount /dev/sda1 /\n\ncat /etc/hostname\nwrite /from-script \"line one\\n\"\n\
         cat /nonexistent\ntouch /after\n",
    )
    .unwrap();
    let run = booted(&format!("-a {img} -f {script}"));
    one_error(&run, &["script.txt:6", "/nonexistent"]);
    assert_eq!(run.stdout, "myhost\n");

    // Commands from standard input; edit through $EDITOR.
    let input = "mount /dev/sda1 /\ncat /from-script\nexists /after\nedit /etc/hostname\n\
                 cat /etc/hostname\n";
    let editor = [("EDITOR", "sed -i s/myhost/edited/")];
    let run = run_with(
        &format!("{} -a {img}", launch_options()),
        Some(input),
        &editor,
    );
    assert_eq!(ok(&run), "line one\n\nfalse\nedited\n");
}

#[test]
fn cli_bad_input_is_one_line() {
    let (_guard, dir) = tempdir();
    one_error(
        &libguest(&format!("-a {dir}/missing.img ls /")),
        &["missing.img"],
    );
    // A directory is an image that cannot be read as one.
    one_error(&libguest(&format!("-a {dir} ls /")), &[&dir]);
    // An image its user may not read (root reads everything: run as nobody).
    let unreadable = format!("{dir}/unreadable.img");
    std::fs::write(&unreadable, vec![0u8; 1 << 20]).unwrap();
    std::fs::set_permissions(&unreadable, std::fs::Permissions::from_mode(0o000)).unwrap();
    one_error(
        &run_as(NOBODY, &dir, &format!("--ro -a {unreadable} ls /")),
        &[&unreadable, "ermission denied"],
    );
    one_error(&libguest("frobnicate"), &["unknown command", "frobnicate"]);
    one_error(&libguest("ls"), &["expected 1 argument", "usage: ls"]);
    one_error(&libguest("mount /dev/sda1"), &["usage: mount"]);
    one_error(&libguest("ls etc"), &["absolute"]);
    one_error(&libguest("--format vmdk ls /"), &["vmdk"]);
    one_error(&libguest("--bogus"), &["--bogus"]);
    one_error(&libguest("make-fs /nonexistent x.img"), &["/nonexistent"]);
    one_error(&libguest("make-fs . x.img --type zfs"), &["zfs"]);

    // A blank second disk has no filesystem to mount; before that, an
    // image without an OS inspects to an empty list.
    let img = image(&dir, "disk.img");
    let blank = format!("{dir}/blank.img");
    std::fs::File::create(&blank)
        .unwrap()
        .set_len(16 << 20)
        .unwrap();
    let run = booted(&format!(
        "-a {img} -a {blank} inspect --json : mount /dev/sdb /"
    ));
    one_error(&run, &["/dev/sdb"]);
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).expect("inspect --json");
    assert_eq!(doc["operating_systems"], serde_json::json!([]));

    // Not a disk image at all: it opens as raw, and -i finds no OS.
    let text = format!("{dir}/notes.txt");
    std::fs::write(&text, "just some text\n".repeat(1000)).unwrap();
    let run = booted(&format!("-a {text} -i ls /"));
    one_error(&run, &["no operating system found"]);
}

/// Inspection of a fake Debian tree written with the CLI (a script
/// through standard input, guestfish's quoting and escapes).
#[test]
fn cli_inspect_debian_tree() {
    let (_guard, dir) = tempdir();
    let img = image(&dir, "debian.img");
    let script = r#"mount /dev/sda1 /
mkdir-p /etc
write /etc/os-release "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nVERSION_ID=\"12\"\nID=debian\n"
write /etc/debian_version "12.5\n"
write /etc/hostname 'deb12'
write /etc/fstab "/dev/sda1 / ext4 defaults 0 1\n"
mkdir-p /bin
upload /bin/true /bin/sh
mkdir-p /var/lib/dpkg
write /var/lib/dpkg/status "Package: adduser\nStatus: install ok installed\nArchitecture: all\nVersion: 3.134\nDescription: add and remove users\n"
"#;
    let run = run_with(&format!("{} -a {img}", launch_options()), Some(script), &[]);
    ok(&run);
    let run = booted(&format!("--ro -a {img} inspect --json : inspect"));
    let stdout = ok(&run);
    let end = stdout.find("\n}\n").expect("end of the JSON document") + 2;
    let doc: serde_json::Value = serde_json::from_str(&stdout[..end]).expect("inspect --json");
    let os = &doc["operating_systems"][0];
    assert_eq!(os["root"], "/dev/sda1", "{doc}");
    assert_eq!(os["type"], "linux", "{doc}");
    assert_eq!(os["distro"], "debian", "{doc}");
    assert_eq!(os["hostname"], "deb12", "{doc}");
    assert_eq!(os["major_version"], 12, "{doc}");
    assert_eq!(os["package_format"], "deb", "{doc}");
    let arch = match std::env::consts::ARCH {
        "x86" => "i386",
        a => a,
    };
    assert_eq!(os["arch"], arch, "{doc}");
    let apps = os["applications"].as_array().expect("applications");
    assert!(
        apps.iter()
            .any(|a| a["name"] == "adduser" && a["version"] == "3.134"),
        "{doc}"
    );
    let text = &stdout[end..];
    for line in [
        "/dev/sda1:",
        "distro:             debian",
        "hostname:           deb12",
    ] {
        assert!(text.contains(line), "{line:?} not in {text}");
    }
    // -i mounts it (read-only with --ro: the write fails, one line).
    let run = booted(&format!("--ro -a {img} -i cat /etc/hostname : touch /x"));
    one_error(&run, &["touch"]);
    assert_eq!(run.stdout, "deb12\n");
}

/// An encrypted disk opened by `-i` with `--key` (by device, after a
/// wrong key for `all`), with `--keys-from-stdin`, and a wrong key's
/// error, which names the device and the option.
#[test]
fn cli_keys_open_luks_for_inspection() {
    let (_guard, dir) = tempdir();
    let img = image(&dir, "crypt.img");
    let script = r#"part-disk /dev/sda mbr
luks-format /dev/sda1 "pass word" 0
cryptsetup-open /dev/sda1 "pass word" crypted
mkfs ext4 /dev/mapper/crypted
mount /dev/mapper/crypted /
mkdir-p /etc
write /etc/os-release "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nVERSION_ID=\"12\"\nID=debian\n"
write /etc/hostname "crypthost\n"
write /etc/fstab "/dev/mapper/cryptsda1 / ext4 defaults 0 1\n"
mkdir-p /bin
upload /bin/true /bin/sh
"#;
    let run = run_with(&format!("{} -a {img}", launch_options()), Some(script), &[]);
    ok(&run);
    // The blank in the key: a key file (the test splits lines on blanks).
    let key_file = format!("{dir}/key");
    std::fs::write(&key_file, "pass word\nnot this line\n").unwrap();
    let run = booted(&format!(
        "--ro -a {img} --key all:key:wrong --key /dev/sda1:file:{key_file} -i cat /etc/hostname"
    ));
    assert_eq!(ok(&run), "crypthost\n\n");
    let run = run_with(
        &format!(
            "{} --ro -a {img} --keys-from-stdin -i cat /etc/hostname",
            launch_options()
        ),
        Some("pass word\n"),
        &[],
    );
    assert_eq!(ok(&run), "crypthost\n\n");
    let run = booted(&format!("--ro -a {img} --key /dev/sda1:key:wrong -i"));
    assert_ne!(run.code, 0, "{}", run.stdout);
    assert!(
        run.stderr
            .contains("could not find key to open LUKS encrypted /dev/sda1")
            && run.stderr.contains("--key /dev/sda1:key:"),
        "{}",
        run.stderr
    );
}

#[test]
fn cli_interactive_shell() {
    let (_guard, dir) = tempdir();
    let img = image(&dir, "disk.img");
    let tree = host_tree(&dir);
    let data = pattern(3_000_000);
    std::fs::write(format!("{dir}/big.bin"), &data).unwrap();
    std::fs::create_dir(format!("{dir}/out")).unwrap();
    let line = format!("{} -a {img} -m /dev/sda1", launch_options());
    let (mut pty, mut child) = Pty::spawn(&line, &[("XDG_DATA_HOME", &dir), ("TERM", "xterm")]);
    pty.expect("libguest> ");
    pty.send("help ls\n");
    let help = pty.expect("libguest> ");
    assert!(
        help.contains("ls directory") && help.contains("The names in a directory"),
        "{help}"
    );
    pty.send("ls /\n");
    assert!(pty.expect("libguest> ").contains("lost+found"));
    // An error is one line and the shell goes on.
    pty.send("frobnicate\n");
    let error = pty.expect("libguest> ");
    assert!(
        error.contains("libguest: unknown command \"frobnicate\""),
        "{error}"
    );
    // On a terminal, copies go through the progress-bar path.
    pty.send(&format!("upload {dir}/big.bin /big.bin\n"));
    pty.expect("libguest> ");
    pty.send("checksum sha256 /big.bin\n");
    let sum = pty.expect("libguest> ");
    assert!(
        sum.contains(&format!("{:x}", Sha256::digest(&data))),
        "{sum}"
    );
    pty.send(&format!("copy-in {} /\n", tree.display()));
    pty.expect("libguest> ");
    pty.send(&format!("copy-out /tree {dir}/out\n"));
    pty.expect("libguest> ");
    pty.send(&format!("download /big.bin {dir}/out/big.bin\n"));
    pty.expect("libguest> ");
    pty.send(&format!("tar-out /tree {dir}/out/tree.tar\n"));
    pty.expect("libguest> ");
    // Tab completes a command name from a prefix only one command has
    // (is-di: is-dir; mkdir- would be mkdir-p or mkdir-mode).
    pty.send("mkdir /tabbed\n");
    pty.expect("libguest> ");
    pty.send("is-di\t");
    pty.expect("is-dir ");
    pty.send("/tabbed\n");
    assert!(pty.expect("libguest> ").contains("true"));
    // Guest paths complete from the running appliance: a directory ends
    // in '/', a file in a space.
    pty.send("is-dir /tabb\t");
    pty.expect("/tabbed/");
    pty.send("\n");
    assert!(pty.expect("libguest> ").contains("true"));
    pty.send("is-file /big.b\t");
    pty.expect("/big.bin ");
    pty.send("\n");
    assert!(pty.expect("libguest> ").contains("true"));
    // Guest text with escape sequences is shown escaped on a terminal:
    // a file name on stdout, a daemon error quoting a path on stderr.
    pty.send("touch \"/esc\\x1b[31mred\"\n");
    pty.expect("libguest> ");
    pty.send("ls /\n");
    let listing = pty.expect("libguest> ");
    assert!(listing.contains("esc\\u001b[31mred"), "{listing:?}");
    pty.send("cat \"/gone\\x1b]0;pwned\\x07\"\n");
    let error = pty.expect("libguest> ");
    assert!(error.contains("/gone\\u001b]0;pwned\\u0007"), "{error:?}");
    for raw in ["\x1b[31m", "\x1b]0;pwned"] {
        assert!(
            !listing.contains(raw) && !error.contains(raw),
            "{raw:?} reached the terminal"
        );
    }
    pty.send("exit\n");
    let status = wait_timeout(&mut child, Duration::from_secs(60));
    assert!(status.success(), "{status}");
    let history = std::fs::read_to_string(format!("{dir}/libguest/history")).unwrap();
    assert!(history.contains("help ls"), "{history}");
    let copied = std::fs::read(format!("{dir}/out/tree/sub/b.bin")).unwrap();
    assert_eq!(copied, std::fs::read(tree.join("sub/b.bin")).unwrap());
    assert!(
        std::fs::read(format!("{dir}/out/big.bin")).unwrap() == data,
        "download"
    );
    assert!(
        std::fs::metadata(format!("{dir}/out/tree.tar"))
            .unwrap()
            .len()
            > 100_000
    );

    // Through pipes the same guest text is byte-exact, as guestfish's.
    let gone = "/gone\x1b]0;pwned\x07";
    let run = booted(&format!("--ro -a {img} -m /dev/sda1 ls / : cat {gone}"));
    assert!(run.stdout.contains("esc\x1b[31mred\n"), "{:?}", run.stdout);
    one_error(&run, &[gone]);
}

#[test]
fn cli_make_fs() {
    let (_guard, dir) = tempdir();
    let tree = host_tree(&dir);
    let mut tarball = tar::Builder::new(std::fs::File::create(format!("{dir}/in.tar")).unwrap());
    tarball.append_dir_all("fromtar", tree.join("sub")).unwrap();
    tarball.into_inner().unwrap();
    let run = booted(&format!(
        "make-fs {dir}/tree {dir}/made.img --type ext4 --label made"
    ));
    ok(&run);
    let run = booted(&format!(
        "make-fs {dir}/in.tar {dir}/made.qcow2 --format qcow2 --type ext4 --size 32M"
    ));
    ok(&run);

    // The output mounts on the host: the directory's image as it is,
    // with its files, link and label, and a clean e2fsck once unmounted.
    let made = format!("{dir}/made.img");
    {
        let mnt = HostMount::ro(&made);
        for file in ["a.txt", "sub/b.bin", "sub/deeper/c.txt"] {
            let want = std::fs::read(tree.join(file)).unwrap();
            let got = std::fs::read(mnt.path().join(file))
                .unwrap_or_else(|e| panic!("{file} on the host mount: {e}"));
            assert!(got == want, "{file} differs on the host mount");
        }
        let link = std::fs::read_link(mnt.path().join("link")).expect("link on the host mount");
        assert_eq!(link, Path::new("a.txt"));
    }
    assert_eq!(
        host_tool("blkid", &["-p", "-s", "LABEL", "-o", "value", &made]),
        "made"
    );
    assert_eq!(host_tool("e2label", &[&made]), "made");
    host_tool("e2fsck", &["-fn", &made]);
    // The tarball's qcow2, converted to raw: 32 MiB, its files there.
    let raw = format!("{dir}/made-qcow2.raw");
    host_tool(
        "qemu-img",
        &[
            "convert",
            "-f",
            "qcow2",
            "-O",
            "raw",
            &format!("{dir}/made.qcow2"),
            &raw,
        ],
    );
    assert_eq!(std::fs::metadata(&raw).unwrap().len(), 32 << 20);
    {
        let mnt = HostMount::ro(&raw);
        for (file, from) in [("b.bin", "sub/b.bin"), ("deeper/c.txt", "sub/deeper/c.txt")] {
            let want = std::fs::read(tree.join(from)).unwrap();
            let got = std::fs::read(mnt.path().join("fromtar").join(file))
                .unwrap_or_else(|e| panic!("fromtar/{file} on the host mount: {e}"));
            assert!(got == want, "fromtar/{file} differs on the host mount");
        }
    }
    host_tool("e2fsck", &["-fn", &raw]);

    // An output name qemu-img would read as a protocol (relative, in the
    // working directory) makes exactly that file.
    let json_name = r#"json:{"driver":"file","filename":"elsewhere.qcow2"}"#;
    ok(&booted_in(
        &dir,
        &format!("make-fs --format qcow2 --size 16M {dir}/tree {json_name}"),
    ));
    let made_json = std::fs::read(Path::new(&dir).join(json_name)).expect("the json: file");
    assert!(made_json.starts_with(b"QFI\xfb"), "not a qcow2 image");
    assert!(!Path::new(&dir).join("elsewhere.qcow2").exists());

    // The tarball's filesystem mounted over /sub of the directory's.
    let run = booted(&format!(
        "--ro -a {dir}/made.img -a {dir}/made.qcow2 -m /dev/sda -m /dev/sdb:/sub \
         cat /a.txt : cat /sub/fromtar/deeper/c.txt : filesystems"
    ));
    let stdout = ok(&run);
    assert!(stdout.starts_with("alpha\n\ngamma\n\n"), "{stdout}");
    let sda = stdout
        .lines()
        .find(|l| l.starts_with("/dev/sda ") && l.contains("filesystem"));
    assert!(
        sda.is_some_and(|l| l.contains("ext4") && l.contains("made")),
        "{stdout}"
    );
    let sdb = stdout
        .lines()
        .find(|l| l.starts_with("/dev/sdb ") && l.contains("device"));
    assert!(
        sdb.is_some_and(|l| l.contains(&(32u64 << 20).to_string())),
        "{stdout}"
    );
}

/// guestfish's script syntax in one boot: disks made by `sparse` and
/// `alloc` (size suffixes), `!` and `<!` host commands, `-` ignoring an
/// error, `| pipeline` (and a reader that quits early), `echo`, `time`
/// and `glob` over guest paths and device names; `-N` prepared disks.
#[test]
fn cli_guestfish_script_syntax() {
    let (_guard, dir) = tempdir();
    let script = format!(
        "sparse {dir}/new.img 64M\n\
         alloc {dir}/second.img 1MiB\n\
         run\n\
         part-disk /dev/sda mbr\n\
         mkfs ext4 /dev/sda1\n\
         mount /dev/sda1 /\n\
         !echo from the host\n\
         <!printf 'touch /a.txt\\ntouch /b.txt\\n'\n\
         - cat /nonexistent\n\
         ls / | wc -l\n\
         write /lines \"1\\n2\\n3\\n\"\n\
         cat /lines | head -1\n\
         glob echo /*.txt\n\
         glob echo /dev/sd*\n\
         time touch /timed\n\
         echo done two\n"
    );
    let run = run_with(&launch_options(), Some(&script), &[]);
    let stdout = ok(&run);
    // ls /: a.txt, b.txt, lost+found. `time` prints on stdout, as guestfish.
    let (before, timed) = stdout.split_once("elapsed time: ").expect("time's report");
    assert_eq!(
        before, "from the host\n3\n1\n/a.txt\n/b.txt\n/dev/sda\n/dev/sda1\n/dev/sdb\n",
        "stderr: {}",
        run.stderr
    );
    let (seconds, rest) = timed.split_once(" seconds\n").expect("seconds");
    assert!(seconds.parse::<f64>().is_ok(), "{seconds}");
    assert_eq!(rest, "done two\n");
    assert!(run.stderr.contains("/nonexistent"), "{}", run.stderr);
    let new = std::fs::metadata(format!("{dir}/new.img")).unwrap();
    assert_eq!(new.len(), 64 << 20);
    let second = std::fs::metadata(format!("{dir}/second.img")).unwrap();
    assert_eq!(second.len(), 1 << 20);
    use std::os::unix::fs::MetadataExt;
    assert!(second.blocks() * 512 >= 1 << 20, "alloc allocates");

    // -N prepared disks, among -a ones, laid out before -m mounts: names
    // and defaults as guestfish's (test3.img for the third -N).
    let plain = image(&dir, "plain.img");
    let run = booted_in(
        &dir,
        &format!(
            "-N {dir}/fs.img=fs:ext4:64M -a {plain} -N {dir}/br.img=bootrootlv:/dev/vg/root:ext2:ext4:256M:32M:gpt              -N lv:/dev/v2/lv:32M -m /dev/sda1 write /x hi : cat /x : list-filesystems              : part-get-parttype /dev/sdc : part-list /dev/sdc : lvs"
        ),
    );
    let stdout = ok(&run);
    for line in [
        "hi\n",
        "/dev/sda1: ext4\n",
        "/dev/sdb1: ext4\n",
        "/dev/sdc1: ext2\n",
        "/dev/vg/root: ext4\n",
        "gpt\n",
        "/dev/v2/lv\n",
        "  part_start: 32768\n",
        "  part_end: 33587199\n",
    ] {
        assert!(stdout.contains(line), "{line:?} not in {stdout}");
    }
    assert_eq!(
        std::fs::metadata(format!("{dir}/test3.img")).unwrap().len(),
        32 << 20
    );
    assert_eq!(
        std::fs::metadata(format!("{dir}/br.img")).unwrap().len(),
        256 << 20
    );

    // Without `-` the first error stops the script and the exit status is 1;
    // a failing host command is an error too.
    let run = run_with(
        &launch_options(),
        Some("echo before\n!false\necho after\n"),
        &[],
    );
    assert_eq!(run.code, 1);
    assert_eq!(run.stdout, "before\n");
}

/// guestfish's `win:` paths on a Windows tree: the drive letter from the
/// SYSTEM hive's MountedDevices (the MBR signature and partition offset),
/// backslashes, and the case Windows ignores.
#[test]
fn cli_windows_paths() {
    use guest_formats::fixtures::hive::{build_hive, software_hive, system_hive_with_mounts};
    let (_guard, dir) = tempdir();
    let img = image(&dir, "win.img");
    // image(): MBR signature "LGST", the partition at 1 MiB.
    let mut c_drive = b"LGST".to_vec();
    c_drive.extend_from_slice(&(1u64 << 20).to_le_bytes());
    let system = system_hive_with_mounts(vec![(r"\DosDevices\C:", c_drive)]);
    std::fs::write(format!("{dir}/SYSTEM"), system).unwrap();
    std::fs::write(format!("{dir}/SOFTWARE"), build_hive(&software_hive())).unwrap();
    std::fs::write(
        format!("{dir}/CMD.EXE"),
        guest_formats::fixtures::pe_x86_64(),
    )
    .unwrap();
    ok(&booted(&format!(
        "-a {img} -m /dev/sda1 mkdir-p /WINDOWS/system32/config \
         : upload {dir}/SYSTEM /WINDOWS/system32/config/SYSTEM \
         : upload {dir}/SOFTWARE /WINDOWS/system32/config/SOFTWARE \
         : upload {dir}/CMD.EXE /WINDOWS/system32/CMD.EXE"
    )));
    let run = booted(&format!(
        "--ro -a {img} -i inspect-get-drive-mappings /dev/sda1 \
         : is-file win:c:\\windows\\SYSTEM32\\config\\software : ls win:C:\\Windows \
         : case-sensitive-path win:\\windows\\system32\\CONFIG"
    ));
    assert_eq!(
        ok(&run),
        "C: /dev/sda1\ntrue\nsystem32\n/WINDOWS/system32/config\n"
    );
    let run = booted(&format!("--ro -a {img} -i is-file win:d:\\x"));
    one_error(&run, &["drive 'd:' not found", "C:"]);
}

/// `--listen` / `--remote` as guestfish's: one boot serves several
/// client runs; output, errors and exit statuses reach each client;
/// `exit` returns once the writes are in the image.
#[test]
fn cli_listen_remote() {
    let (_guard, dir) = tempdir();
    let img = format!("{dir}/remote.img");
    let run = run_with(
        &format!(
            "{} -N {img}=fs:ext4:64M -m /dev/sda1 --listen",
            launch_options()
        ),
        None,
        &[],
    );
    let line = ok(&run).trim().to_string();
    let pid: u32 = line
        .strip_prefix("GUESTFISH_PID=")
        .and_then(|rest| rest.strip_suffix("; export GUESTFISH_PID"))
        .and_then(|pid| pid.parse().ok())
        .unwrap_or_else(|| panic!("not a GUESTFISH_PID line: {line:?}"));
    // Stops a server the assertions below leave behind.
    struct Kill(u32);
    impl Drop for Kill {
        fn drop(&mut self) {
            // SAFETY: kill takes a PID and a signal number; no memory.
            unsafe { libc::kill(self.0 as i32, libc::SIGKILL) };
        }
    }
    let _server = Kill(pid);
    let env = [("GUESTFISH_PID", pid.to_string())];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let run = run_with(
        &format!("--remote={pid} write /hello world : cat /hello"),
        None,
        &[],
    );
    assert_eq!(ok(&run), "world\n");
    let run = run_with("--remote cat /missing", None, &env);
    one_error(&run, &["/missing"]);
    let run = run_with("--remote", Some("touch /second\nls / | wc -l\n"), &env);
    assert_eq!(ok(&run), "3\n");
    ok(&run_with("--remote exit", None, &env));
    let run = run_with("--remote ls /", None, &env);
    one_error(
        &run,
        &[&format!("no libguest --listen server with PID {pid}")],
    );
    let run = booted(&format!("--ro -a {img} -m /dev/sda1 cat /hello"));
    assert_eq!(ok(&run), "world\n");
}
