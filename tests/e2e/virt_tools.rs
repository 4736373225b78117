//! e2e: the virt-* tools as names of the `libguest` binary (symlinks to
//! it, as installed) and as `libguest virt-… ARGS`, on the qemu TCG
//! backend. Each tool run is one appliance boot: one fake Debian disk
//! is written once and every tool runs on it.

use libguest_tests::cli as support;

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use support::*;

/// Runs the virt-* tool `name` through a symlink in `dir`, with the
/// launch options first; the line is split on blanks.
fn tool(dir: &str, name: &str, line: &str, stdin: Option<&str>) -> Run {
    let link = symlink(dir, name);
    let mut child = Command::new(&link)
        .args(launch_options().split_whitespace())
        .args(line.split_whitespace())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn the tool");
    let mut input = child.stdin.take().expect("stdin");
    let text = stdin.unwrap_or("").to_string();
    let writer = std::thread::spawn(move || {
        use std::io::Write;
        let _ = input.write_all(text.as_bytes());
    });
    let out = child.wait_with_output().expect("wait for the tool");
    let _ = writer.join();
    let run = Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    eprintln!(
        "$ {name} {line}\n[exit {}]\n--- stdout\n{}--- stderr\n{}",
        run.code, run.stdout, run.stderr
    );
    run
}

fn symlink(dir: &str, name: &str) -> std::path::PathBuf {
    let link = Path::new(dir).join(name);
    if !link.exists() {
        std::os::unix::fs::symlink(bin(), &link).unwrap();
    }
    link
}

/// A fake Debian guest: os-release, hostname, fstab, a text log.
fn debian_disk(dir: &str) -> String {
    let img = image(dir, "guest.img");
    let script = r#"mount /dev/sda1 /
mkdir-p /etc
write /etc/os-release "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nVERSION_ID=\"12\"\nID=debian\n"
write /etc/debian_version "12.5\n"
write /etc/hostname "virthost\n"
write /etc/fstab "/dev/sda1 / ext4 defaults 0 1\n"
mkdir-p /bin
upload /bin/true /bin/sh
mkdir-p /var/lib/dpkg
write /var/lib/dpkg/status "Package: adduser\nStatus: install ok installed\nArchitecture: all\nVersion: 3.134\nDescription: add and remove users\n"
mkdir-p /var/log
write /var/log/messages "boot one\nboot two\n"
write /var/log/app.log "l1\nl2\nl3\nl4\nl5\nl6\nl7\nl8\nl9\nl10\nl11\nl12\n"
mkdir-p /srv
"#;
    let run = run_with(&format!("{} -a {img}", launch_options()), Some(script), &[]);
    ok(&run);
    img
}

#[test]
fn virt_tools_without_a_boot() {
    let (_guard, dir) = tempdir();
    let run = tool(&dir, "virt-cat", "-d myguest /etc/hostname", None);
    one_error(&run, &["-d myguest", "-a IMAGE"]);
    let run = tool(&dir, "virt-cat", "/etc/hostname", None);
    one_error(&run, &["-a IMAGE"]);
    let run = tool(&dir, "virt-nonesuch", "-a x", None);
    one_error(&run, &["virt-nonesuch", "virt-cat"]);
    let run = tool(&dir, "virt-tar-out", "--help", None);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("Usage: virt-tar-out"), "{}", run.stdout);
}

#[test]
fn virt_tools_group_one() {
    let (_guard, dir) = tempdir();
    let img = debian_disk(&dir);
    let tree = host_tree(&dir);
    let mut tarball = tar::Builder::new(std::fs::File::create(format!("{dir}/in.tar")).unwrap());
    tarball.append_dir_all("fromtar", tree.join("sub")).unwrap();
    tarball.into_inner().unwrap();

    // Writers: inspection mounts the guest read-write.
    ok(&tool(
        &dir,
        "virt-copy-in",
        &format!("-a {img} {dir}/tree /srv"),
        None,
    ));
    let tar = std::fs::read(format!("{dir}/in.tar")).unwrap();
    let run = tool_bytes_stdin(&dir, "virt-tar-in", &format!("-a {img} - /srv"), &tar);
    ok(&run);

    // Readers: several files in order.
    let run = tool(
        &dir,
        "virt-cat",
        &format!("-a {img} /etc/hostname /srv/tree/a.txt /srv/fromtar/deeper/c.txt"),
        None,
    );
    assert_eq!(ok(&run), "virthost\nalpha\ngamma\n");
    // -m instead of inspection, and --format before -a.
    let run = tool(
        &dir,
        "virt-cat",
        &format!("--format raw -a {img} -m /dev/sda1 /srv/tree/sub/deeper/c.txt"),
        None,
    );
    assert_eq!(ok(&run), "gamma\n");

    std::fs::create_dir(format!("{dir}/out")).unwrap();
    ok(&tool(
        &dir,
        "virt-copy-out",
        &format!("-a {img} /srv/tree /etc/hostname {dir}/out"),
        None,
    ));
    assert_eq!(
        std::fs::read_to_string(format!("{dir}/out/tree/a.txt")).unwrap(),
        "alpha\n"
    );
    assert_eq!(
        std::fs::read_to_string(format!("{dir}/out/hostname")).unwrap(),
        "virthost\n"
    );
    assert_eq!(
        std::fs::read(format!("{dir}/out/tree/sub/b.bin")).unwrap(),
        vec![7u8; 100_000]
    );

    ok(&tool(
        &dir,
        "virt-tar-out",
        &format!("-a {img} /srv/fromtar {dir}/out.tar"),
        None,
    ));
    let mut names: Vec<String> =
        tar::Archive::new(std::fs::File::open(format!("{dir}/out.tar")).unwrap())
            .entries()
            .unwrap()
            .map(|e| e.unwrap().path().unwrap().to_string_lossy().into_owned())
            .collect();
    names.sort();
    assert!(
        names.iter().any(|n| n.ends_with("deeper/c.txt")),
        "{names:?}"
    );
    assert!(names.iter().any(|n| n.ends_with("b.bin")), "{names:?}");

    // virt-inspector's XML, with and without applications.
    let run = tool(&dir, "virt-inspector", &format!("-a {img}"), None);
    let xml = ok(&run);
    assert!(
        xml.starts_with("<?xml version=\"1.0\"?>\n<operatingsystems>"),
        "{xml}"
    );
    for needle in [
        "<root>/dev/sda1</root>",
        "<name>linux</name>",
        "<distro>debian</distro>",
        "<hostname>virthost</hostname>",
        "<name>adduser</name>",
    ] {
        assert!(xml.contains(needle), "{needle} not in {xml}");
    }
    // The subcommand form, and the read-only drive: the image is unchanged.
    let before = std::fs::read(&img).unwrap();
    let run = run_with(
        &format!(
            "virt-inspector {} -a {img} --no-applications",
            launch_options()
        ),
        None,
        &[],
    );
    let xml = ok(&run);
    assert!(
        xml.contains("<distro>debian</distro>") && !xml.contains("<applications>"),
        "{xml}"
    );

    // virt-log: no journal, so /var/log/messages.
    let run = tool(&dir, "virt-log", &format!("-a {img}"), None);
    assert_eq!(ok(&run), "boot one\nboot two\n");
    assert!(
        std::fs::read(&img).unwrap() == before,
        "a read-only tool changed the image"
    );

    // virt-tail: the last ten lines of each file, then following until Ctrl-C.
    let link = symlink(&dir, "virt-tail");
    let mut child = Command::new(&link)
        .args(launch_options().split_whitespace())
        .args(["-a", &img, "/var/log/app.log", "/var/log/messages"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn virt-tail");
    let mut stdout = child.stdout.take().expect("stdout");
    let reader = std::thread::spawn(move || {
        let mut seen = Vec::new();
        let mut buf = [0u8; 256];
        while !String::from_utf8_lossy(&seen).contains("boot two\n") {
            match stdout.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => seen.extend_from_slice(&buf[..n]),
            }
        }
        String::from_utf8_lossy(&seen).into_owned()
    });
    let started = Instant::now();
    while !reader.is_finished() && started.elapsed() < Duration::from_secs(300) {
        std::thread::sleep(Duration::from_millis(100));
    }
    let seen = reader.join().unwrap();
    assert_eq!(
        seen,
        "==> /var/log/app.log <==\nl3\nl4\nl5\nl6\nl7\nl8\nl9\nl10\nl11\nl12\n\n==> /var/log/messages <==\nboot one\nboot two\n"
    );
    let pid = i32::try_from(child.id()).unwrap();
    // SAFETY: kill with a child's pid and SIGINT has no memory effects.
    unsafe { libc::kill(pid, libc::SIGINT) };
    let status = wait_timeout(&mut child, Duration::from_secs(120));
    assert!(status.success(), "virt-tail after Ctrl-C: {status:?}");
}

fn tool_bytes_stdin(dir: &str, name: &str, line: &str, data: &[u8]) -> Run {
    let link = symlink(dir, name);
    let mut child = Command::new(&link)
        .args(launch_options().split_whitespace())
        .args(line.split_whitespace())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn the tool");
    let mut input = child.stdin.take().expect("stdin");
    let data = data.to_vec();
    let writer = std::thread::spawn(move || {
        use std::io::Write;
        let _ = input.write_all(&data);
    });
    let out = child.wait_with_output().expect("wait for the tool");
    let _ = writer.join();
    let run = Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    eprintln!(
        "$ {name} {line}\n[exit {}]\n--- stderr\n{}",
        run.code, run.stderr
    );
    run
}

#[test]
fn virt_tools_group_two() {
    let (_guard, dir) = tempdir();
    let img = debian_disk(&dir);

    // virt-ls: names, -R find's names, -l as ll, and one line per file.
    let run = tool(&dir, "virt-ls", &format!("-a {img} /etc"), None);
    let names: Vec<&str> = ok(&run).lines().collect();
    assert!(
        names.contains(&"hostname") && names.contains(&"fstab"),
        "{names:?}"
    );
    let run = tool(&dir, "virt-ls", &format!("-a {img} -R /var"), None);
    let paths: Vec<&str> = ok(&run).lines().collect();
    assert!(
        // As Debian's virt-ls -R: find's names, "/var" cut off.
        paths.contains(&"/log/messages") && paths.contains(&"/lib/dpkg/status"),
        "{paths:?}"
    );
    let run = tool(&dir, "virt-ls", &format!("-a {img} -l /var/log"), None);
    assert!(
        ok(&run)
            .lines()
            .any(|l| l.starts_with("-") && l.ends_with(" messages")),
        "{}",
        run.stdout
    );
    let run = tool(
        &dir,
        "virt-ls",
        &format!("-a {img} --checksum=md5 --csv /var/log"),
        None,
    );
    let md5 = host_tool(
        "sh",
        &[
            "-c",
            "printf 'boot one\\nboot two\\n' | md5sum | cut -d' ' -f1",
        ],
    );
    let line = ok(&run)
        .lines()
        .find(|l| l.ends_with(",/var/log/messages"))
        .unwrap_or_else(|| panic!("no messages row: {}", run.stdout));
    let fields: Vec<&str> = line.split(',').collect();
    // virt-ls's CSV: type, octal permissions, size, checksum, path.
    assert_eq!(fields[0], "-", "{line}");
    assert_eq!(fields[1], "0644", "{line}");
    assert_eq!(fields[2], "18", "{line}");
    assert_eq!(fields[3], md5, "{line}");
    let run = tool(
        &dir,
        "virt-ls",
        &format!("-a {img} --checksum=nonesuch /"),
        None,
    );
    one_error(&run, &["--checksum=nonesuch", "sha256"]);

    // virt-filesystems: names by default; --all --long --csv.
    let run = tool(&dir, "virt-filesystems", &format!("-a {img}"), None);
    assert_eq!(ok(&run), "/dev/sda1\n");
    let run = tool(
        &dir,
        "virt-filesystems",
        &format!("-a {img} --all --long --csv"),
        None,
    );
    let out = ok(&run);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "Name,Type,VFS,Label,MBR,Size,Parent", "{out}");
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("/dev/sda1,filesystem,ext4,clilabel,,")),
        "{out}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("/dev/sda1,partition,,,83,") && l.ends_with(",/dev/sda")),
        "{out}"
    );
    assert!(
        lines.iter().any(|l| l.starts_with("/dev/sda,device,,,,")),
        "{out}"
    );
    let run = tool(
        &dir,
        "virt-filesystems",
        &format!("-a {img} --parts -l -h --no-title"),
        None,
    );
    let out = ok(&run);
    assert!(
        out.starts_with("/dev/sda1  partition  83") && out.trim_end().ends_with("/dev/sda"),
        "{out}"
    );

    // virt-df: the df table, CSV, inodes.
    let run = tool(&dir, "virt-df", &format!("-a {img}"), None);
    let out = ok(&run);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert_eq!(
        lines[0].split_whitespace().collect::<Vec<_>>(),
        ["Filesystem", "1K-blocks", "Used", "Available", "Use%"]
    );
    let cells: Vec<&str> = lines[1].split_whitespace().collect();
    assert_eq!(cells[0], "guest.img:/dev/sda1", "{out}");
    assert!(cells[4].ends_with('%'), "{out}");
    let blocks: u64 = cells[1].parse().expect("1K-blocks");
    assert!(blocks > 30_000 && blocks < 70_000, "{out}");
    let run = tool(&dir, "virt-df", &format!("-a {img} --csv -i"), None);
    let out = ok(&run);
    assert!(
        out.starts_with("VirtualMachine,Filesystem,Inodes,IUsed,IFree,IUse%\nguest.img,/dev/sda1,"),
        "{out}"
    );
}

#[test]
fn virt_tools_group_three() {
    let (_guard, dir) = tempdir();
    let img = debian_disk(&dir);

    // virt-edit -e: a perl substitution on each line, with a backup.
    ok(&tool(
        &dir,
        "virt-edit",
        &format!("-a {img} -b .orig -e s/^boot/start/ /var/log/messages"),
        None,
    ));
    let run = tool(
        &dir,
        "virt-cat",
        &format!("-a {img} /var/log/messages /var/log/messages.orig"),
        None,
    );
    assert_eq!(ok(&run), "start one\nstart two\nboot one\nboot two\n");
    let run = tool(
        &dir,
        "virt-edit",
        &format!("-a {img} -e tr/a-z/A-Z/ /etc/hostname"),
        None,
    );
    one_error(&run, &["s/REGEX/REPLACEMENT/FLAGS", "$EDITOR"]);

    // virt-make-fs from a host directory, read back with virt-cat -m.
    let tree = host_tree(&dir);
    let out = format!("{dir}/made.img");
    ok(&tool(
        &dir,
        "virt-make-fs",
        &format!("--type=ext4 --label=made {} {out}", tree.display()),
        None,
    ));
    let run = tool(
        &dir,
        "virt-cat",
        &format!("-a {out} -m /dev/sda /sub/deeper/c.txt"),
        None,
    );
    assert_eq!(ok(&run), "gamma\n");

    // virt-format: a blank disk gets an MBR partition and ext4; it is
    // aligned at 1M (virt-alignment-scan).
    let blank = format!("{dir}/blank.img");
    std::fs::File::create(&blank)
        .unwrap()
        .set_len(64 << 20)
        .unwrap();
    ok(&tool(
        &dir,
        "virt-format",
        &format!("-a {blank} --filesystem=ext4 --label=fresh"),
        None,
    ));
    let run = tool(
        &dir,
        "virt-filesystems",
        &format!("-a {blank} -l --csv --no-title"),
        None,
    );
    assert!(
        ok(&run).starts_with("/dev/sda1,filesystem,ext4,fresh,"),
        "{}",
        run.stdout
    );
    let run = tool(&dir, "virt-alignment-scan", &format!("-a {blank}"), None);
    let line = ok(&run).trim_end().to_string();
    assert!(
        line.starts_with("/dev/sda1 ") && line.ends_with("ok"),
        "{line}"
    );
    assert_eq!(line.split_whitespace().nth(1), Some("1048576"), "{line}");
}

#[test]
fn virt_tools_diff() {
    let (_guard, dir) = tempdir();
    let img = debian_disk(&dir);
    let new = format!("{dir}/new.img");
    std::fs::copy(&img, &new).unwrap();
    let script = "mount /dev/sda1 /\nwrite /etc/hostname \"otherhost\\n\"\nrm /etc/debian_version\nwrite /srv/new.txt \"n\\n\"\n";
    ok(&run_with(
        &format!("{} -a {new}", launch_options()),
        Some(script),
        &[],
    ));
    let run = tool(&dir, "virt-diff", &format!("-a {img} -A {new}"), None);
    let out = ok(&run);
    let lines: Vec<&str> = out.lines().collect();
    assert!(
        lines.contains(&"- - 0644          5 /etc/debian_version"),
        "{out}"
    );
    assert!(lines.contains(&"+ - 0644          2 /srv/new.txt"), "{out}");
    assert!(
        lines.contains(&"= - 0644          9 /etc/hostname changed: size content"),
        "{out}"
    );
    assert!(
        lines.contains(&"-virthost") && lines.contains(&"+otherhost"),
        "{out}"
    );
    assert!(!out.contains("/etc/fstab"), "{out}");
}
