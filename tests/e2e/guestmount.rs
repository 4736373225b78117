//! e2e: `libguest mount` and `libguest unmount` (guestmount and
//! guestunmount) on this host's FUSE, the appliance on the qemu TCG
//! backend as in the other CLI tests (`LIBGUEST_CLI_BACKEND=kvm` where
//! KVM runs Linux). Ordinary host programs (cat, find, ls, sha256sum,
//! cp, mv, getfattr) work on the mount, and what they see is what the
//! API sees.

use libguest_tests::cli as support;

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::time::{Duration, Instant};

use support::*;

fn mounted(mp: &str) -> bool {
    std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap()
        .lines()
        .any(|l| l.split(' ').nth(4) == Some(mp))
}

/// Gone, or a zombie its new parent has not reaped yet.
fn exited(pid: &str) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z')),
    }
}

/// The CLI, to be run in a private mount namespace whose /dev is an
/// empty tmpfs: a host without /dev/fuse.
fn without_dev_fuse() -> std::process::Command {
    use std::os::unix::process::CommandExt;
    let mut cmd = std::process::Command::new(bin());
    // SAFETY: the closure runs between fork and exec and makes only
    // async-signal-safe system calls (unshare, mount) with static,
    // NUL-terminated strings; it touches no memory of the parent's.
    unsafe {
        cmd.pre_exec(|| {
            let fail = || Err(std::io::Error::last_os_error());
            if libc::unshare(libc::CLONE_NEWNS) != 0 {
                return fail();
            }
            let none = std::ptr::null();
            let root = c"/".as_ptr();
            if libc::mount(
                none,
                root,
                none,
                libc::MS_REC | libc::MS_PRIVATE,
                std::ptr::null(),
            ) != 0
            {
                return fail();
            }
            let tmpfs = c"tmpfs".as_ptr();
            if libc::mount(tmpfs, c"/dev".as_ptr(), tmpfs, 0, std::ptr::null()) != 0 {
                return fail();
            }
            Ok(())
        });
    }
    cmd
}

fn mount_line(args: &str, mp: &str) -> String {
    format!("mount {} {args} {mp}", launch_options())
}

/// A `--no-fork -v` mount, its standard error in a file: when a host tool
/// fails on the mount, why each call failed (the appliance's death
/// included) is quoted, where a detached mount's stderr is /dev/null.
/// How long one step through a mount may take (a `find /usr` of the
/// Debian image in the emulated test host takes well under a minute).
const MOUNT_STEP_LIMIT: Duration = Duration::from_secs(300);

struct ForegroundMount {
    child: std::process::Child,
    log: String,
    mp: String,
}

impl ForegroundMount {
    fn start(args: &str, dir: &str, mp: &str) -> ForegroundMount {
        let log = format!("{dir}/mount.log");
        let pid_file = format!("{dir}/mount.pid");
        let line = format!(
            "{} --no-fork -v --pid-file {pid_file}",
            mount_line(args, mp)
        );
        let mut child = std::process::Command::new(bin())
            .args(line.split_whitespace())
            .stdout(std::process::Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("spawn libguest mount");
        let mut early_exit = None;
        wait_until("the mount is ready", Duration::from_secs(120), || {
            early_exit = child.try_wait().unwrap();
            early_exit.is_some() || Path::new(&pid_file).exists()
        });
        let mount = ForegroundMount {
            child,
            log,
            mp: mp.to_string(),
        };
        assert!(
            early_exit.is_none(),
            "libguest {line}: {early_exit:?}\n{}",
            mount.log()
        );
        mount
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// `f`'s result, or a panic quoting the mount's log when it takes
    /// longer than [`MOUNT_STEP_LIMIT`]: a stuck FUSE request would
    /// otherwise hang the test until the test host's own timeout, with
    /// nothing said about which call stuck. (Drop then detaches the mount
    /// and kills the daemon, which fails the stuck request.)
    fn within<T: Send + 'static>(&self, what: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)));
        });
        match rx.recv_timeout(MOUNT_STEP_LIMIT) {
            Ok(Ok(v)) => v,
            Ok(Err(panic)) => std::panic::resume_unwind(panic),
            Err(_) => panic!(
                "{what} through the mount: no answer after {MOUNT_STEP_LIMIT:?}\n--- libguest mount's stderr:\n{}",
                self.log()
            ),
        }
    }

    /// `host_tool` under [`Self::within`], quoting the mount's log when
    /// the tool fails.
    fn tool(&self, cmd: &str, args: &[&str]) -> String {
        let argv: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        let program = cmd.to_owned();
        let out = self.within(&format!("{cmd} {args:?}"), move || {
            std::process::Command::new(program).args(argv).output()
        });
        let out = out.unwrap_or_else(|e| panic!("{cmd}: {e}"));
        assert!(
            out.status.success(),
            "{cmd} {args:?} failed ({}): {}\n--- libguest mount's stderr:\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr),
            self.log()
        );
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    fn unmount(&mut self) {
        ok(&libguest(&format!("unmount {}", self.mp)));
        let status = wait_timeout(&mut self.child, Duration::from_secs(60));
        assert!(status.success(), "libguest mount: {status}\n{}", self.log());
    }
}

impl Drop for ForegroundMount {
    /// A failed check leaves nothing mounted (a no-op after `unmount`).
    fn drop(&mut self) {
        let _ = std::process::Command::new("fusermount3")
            .args(["-u", "-z", &self.mp])
            .stderr(std::process::Stdio::null())
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn wait_until(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < limit, "{what}: not after {limit:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Names under `root`, relative, sorted, as `find` prints them.
fn walk(root: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let e = e.unwrap();
            let path = e.path();
            out.push(
                path.strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned(),
            );
            if e.file_type().unwrap().is_dir() {
                stack.push(path);
            }
        }
    }
    out.sort();
    out
}

#[test]
fn cli_mount_read_only_read_write_and_killed() {
    read_only_read_write_and_killed();
    let debian = libguest_tests::images::debian_image();
    debian_read_only(debian.to_str().unwrap());
}

libguest_tests::e2e_test! {
    /// The same on our VMM: inside the test host where KVM cannot run
    /// Linux here, with the test host's FUSE and host programs.
    fn e2e_cli_mount_read_only_read_write_and_killed(_disks = {
        let cli = bin().to_path_buf();
        libguest_tests::E2eSetup {
            disks: Vec::new(),
            env: vec![
                (BIN_ENV.into(), libguest_tests::program_in_test_host(&cli)),
                ("LIBGUEST_CLI_BACKEND".into(), "kvm".into()),
            ],
            programs: vec![cli],
        }
    }) {
        read_only_read_write_and_killed();
    }
}

libguest_tests::e2e_test! {
    /// The Debian image on our VMM, attached to the test host read-only.
    fn e2e_cli_mount_debian(disks = {
        let cli = bin().to_path_buf();
        libguest_tests::E2eSetup {
            disks: vec![libguest_tests::E2eDisk::read_only(libguest_tests::images::debian_image())],
            env: vec![
                (BIN_ENV.into(), libguest_tests::program_in_test_host(&cli)),
                ("LIBGUEST_CLI_BACKEND".into(), "kvm".into()),
            ],
            programs: vec![cli],
        }
    }) {
        debian_read_only(disks[0].to_str().unwrap());
    }
}

/// The Debian image mounted with -i --ro: cat, ls -lR, find and sha256sum
/// through the mount agree with the API's cat, checksum and find.
fn debian_read_only(img: &str) {
    let (_guard, dir) = tempdir();
    let mp = format!("{dir}/mnt");
    std::fs::create_dir(&mp).unwrap();
    let api = booted(&format!(
        "--ro -a {img} -i cat /etc/os-release : checksum sha256 /usr/bin/ls : find /etc"
    ));
    let api = ok(&api);
    let mut mount = ForegroundMount::start(&format!("--ro -a {img} -i"), &dir, &mp);
    let path = format!("{mp}/etc/os-release");
    let os_release = mount
        .within("cat /etc/os-release", move || std::fs::read_to_string(path))
        .unwrap();
    assert!(os_release.contains("Debian GNU/Linux 12"), "{os_release}");
    assert!(api.starts_with(&os_release), "cat differs:\n{api}");
    let sum = mount.tool("sha256sum", &[&format!("{mp}/usr/bin/ls")]);
    let sum = sum.split(' ').next().unwrap();
    assert!(api.contains(&format!("\n{sum}\n")), "{sum} not in {api}");
    let etc_dir = Path::new(&mp).join("etc");
    let mut etc = mount.within("walking /etc", move || walk(&etc_dir));
    let mut api_etc: Vec<String> = api
        .lines()
        .skip_while(|l| *l != sum)
        .skip(1)
        // `find /etc` names `/passwd`, as libguestfs's does.
        .map(|n| n.trim_start_matches('/').to_string())
        .collect();
    api_etc.sort();
    etc.sort();
    assert_eq!(
        etc, api_etc,
        "find /etc through the mount and through the API"
    );
    let listing = mount.tool("ls", &["-lR", &format!("{mp}/etc")]);
    assert!(
        listing.contains("os-release -> ../usr/lib/os-release"),
        "ls -lR"
    );
    let found = mount.tool("find", &[&format!("{mp}/usr")]);
    assert!(
        found.lines().count() > 1000,
        "find /usr: {}",
        found.lines().count()
    );
    mount.unmount();
}

fn read_only_read_write_and_killed() {
    let (_guard, dir) = tempdir();
    let img = image(&dir, "disk.img");
    let tree = host_tree(&dir);
    let data = pattern(3_000_000);
    std::fs::write(format!("{dir}/big.bin"), &data).unwrap();
    ok(&booted(&format!(
        "-a {img} -m /dev/sda1 mkdir-p /etc : write /etc/hostname myhost : copy-in {} / \
         : ln /tree/a.txt /tree/hard : setxattr user.note hello 5 /tree/a.txt \
         : upload {dir}/big.bin /big.bin",
        tree.display()
    )));
    let mp = format!("{dir}/mnt");
    std::fs::create_dir(&mp).unwrap();

    // Refused before anything boots, nothing left mounted.
    one_error(
        &libguest(&format!("mount -a {img} {mp}")),
        &["-i", "-m DEV"],
    );
    one_error(
        &libguest(&format!("mount -a {img} -i {dir}/big.bin")),
        &["big.bin", "not a directory"],
    );
    one_error(
        &libguest(&format!("mount -a {img} -i {dir}")),
        &["not empty"],
    );
    one_error(
        &libguest(&mount_line(&format!("-a {dir}/missing.img -i"), &mp)),
        &["missing.img"],
    );
    // No fusermount3 (as root the mount needs its auto_unmount watchdog).
    let empty_path = format!("{dir}/empty-path");
    std::fs::create_dir(&empty_path).unwrap();
    one_error(
        &run_with(
            &mount_line(&format!("--ro -a {img} -i"), &mp),
            None,
            &[("PATH", &empty_path)],
        ),
        &["fusermount3", "fuse3 package"],
    );
    // No FUSE: the CLI in a mount namespace of its own, /dev an empty tmpfs.
    one_error(
        &run_prepared(
            without_dev_fuse(),
            &mount_line(&format!("--ro -a {img} -i"), &mp),
            &[],
        ),
        &["/dev/fuse is missing", "modprobe fuse"],
    );
    assert!(!mounted(&mp));

    // Read-only: host tools read the guest tree; the image is unchanged.
    let before = libguest_tests::fingerprint(Path::new(&img));
    ok(&libguest(&mount_line(
        &format!("--ro -a {img} -m /dev/sda1"),
        &mp,
    )));
    assert!(mounted(&mp));
    let m = Path::new(&mp);
    assert_eq!(host_tool("cat", &[&format!("{mp}/etc/hostname")]), "myhost");
    let sum = host_tool("sha256sum", &[&format!("{mp}/big.bin")]);
    let want = host_tool("sha256sum", &[&format!("{dir}/big.bin")]);
    assert_eq!(sum.split(' ').next(), want.split(' ').next());
    for file in ["a.txt", "sub/b.bin", "sub/deeper/c.txt"] {
        let a = std::fs::read(tree.join(file)).unwrap();
        assert_eq!(
            std::fs::read(m.join("tree").join(file)).unwrap(),
            a,
            "{file}"
        );
    }
    assert_eq!(
        std::fs::read_link(m.join("tree/link")).unwrap(),
        Path::new("a.txt")
    );
    let (a, hard) = (
        std::fs::metadata(m.join("tree/a.txt")).unwrap(),
        std::fs::metadata(m.join("tree/hard")).unwrap(),
    );
    assert_eq!(
        (a.nlink(), a.ino()),
        (2, hard.ino()),
        "hard links share an inode"
    );
    assert_eq!(
        host_tool(
            "getfattr",
            &[
                "--only-values",
                "-n",
                "user.note",
                &format!("{mp}/tree/a.txt")
            ]
        ),
        "hello"
    );
    let listing = host_tool("ls", &["-lR", &mp]);
    assert!(listing.contains("link -> a.txt"), "{listing}");
    // After a listing the attributes come from its lxattrlist batch.
    let note = format!("{mp}/tree/a.txt");
    assert_eq!(
        host_tool("getfattr", &["--only-values", "-n", "user.note", &note]),
        "hello"
    );
    let dump = host_tool("getfattr", &["-d", &note]);
    assert!(dump.contains("user.note=\"hello\""), "{dump}");
    let found = host_tool("find", &[&mp]);
    assert_eq!(found.lines().count(), walk(m).len() + 1, "{found}");
    // The same names as the API's find.
    let api = booted(&format!("--ro -a {img} -m /dev/sda1 find /"));
    let mut api: Vec<String> = ok(&api).lines().map(str::to_string).collect();
    api.retain(|n| !n.starts_with("lost+found/"));
    api.sort();
    let mut ours = walk(m);
    ours.retain(|n| !n.starts_with("lost+found/"));
    assert_eq!(ours, api);
    let statfs = host_tool("stat", &["-f", "-c", "%b %S", &mp]);
    assert!(!statfs.starts_with("0 "), "{statfs}");
    let refused = std::fs::write(m.join("new"), "x").unwrap_err();
    assert_eq!(refused.raw_os_error(), Some(libc::EROFS), "{refused}");
    ok(&libguest(&format!("unmount {mp}")));
    assert!(!mounted(&mp));
    assert_eq!(
        libguest_tests::fingerprint(Path::new(&img)),
        before,
        "read-only mount changed the image"
    );
    let again = libguest(&format!("unmount {mp}"));
    assert_eq!(again.code, 2, "not mounted: {}", again.stderr);

    // Read-write with cp, mkdir, mv, rm, chmod, truncate, symlink,
    // setfattr; `unmount` returns once everything is in the image.
    let pid_file = format!("{dir}/mount.pid");
    ok(&libguest(&mount_line(
        &format!("-a {img} -m /dev/sda1 --pid-file {pid_file}"),
        &mp,
    )));
    let pid = std::fs::read_to_string(&pid_file).unwrap();
    assert!(Path::new(&format!("/proc/{}", pid.trim())).exists());
    std::fs::create_dir(m.join("newdir")).unwrap();
    host_tool(
        "cp",
        &[&format!("{dir}/big.bin"), &format!("{mp}/newdir/big.bin")],
    );
    host_tool(
        "cp",
        &[
            "-r",
            &format!("{}/sub", tree.display()),
            &format!("{mp}/copied"),
        ],
    );
    host_tool("mv", &[&format!("{mp}/copied"), &format!("{mp}/moved")]);
    std::fs::rename(m.join("tree/a.txt"), m.join("newdir/a-moved.txt")).unwrap();
    std::fs::remove_file(m.join("tree/sub/b.bin")).unwrap();
    std::fs::set_permissions(
        m.join("newdir/a-moved.txt"),
        std::fs::Permissions::from_mode(0o640),
    )
    .unwrap();
    std::fs::OpenOptions::new()
        .write(true)
        .open(m.join("etc/hostname"))
        .unwrap()
        .set_len(2)
        .unwrap();
    std::os::unix::fs::symlink("../big.bin", m.join("newdir/up")).unwrap();
    host_tool(
        "setfattr",
        &["-n", "user.k", "-v", "v1", &format!("{mp}/newdir")],
    );
    assert_eq!(
        std::fs::read_to_string(m.join("moved/deeper/c.txt")).unwrap(),
        "gamma\n"
    );
    // utimens, chown and link.
    let stamp = std::time::UNIX_EPOCH + Duration::from_secs(981_173_106);
    std::fs::File::options()
        .write(true)
        .open(m.join("newdir/big.bin"))
        .unwrap()
        .set_modified(stamp)
        .unwrap();
    std::os::unix::fs::chown(m.join("newdir/big.bin"), Some(1000), Some(1001)).unwrap();
    std::fs::hard_link(m.join("newdir/big.bin"), m.join("newdir/big.link")).unwrap();
    let linked = std::fs::metadata(m.join("newdir/big.link")).unwrap();
    assert_eq!(
        (linked.nlink(), linked.uid(), linked.gid()),
        (2, 1000, 1001)
    );
    assert_eq!(linked.modified().unwrap(), stamp);
    ok(&libguest(&format!("unmount {mp}")));
    assert!(!mounted(&mp));
    assert!(
        exited(pid.trim()),
        "unmount returned before the mounting process exited"
    );

    let check = booted(&format!(
        "--ro -a {img} -m /dev/sda1 checksum sha256 /newdir/big.bin : cat /newdir/a-moved.txt \
         : exists /tree/sub/b.bin : cat /etc/hostname : readlink /newdir/up \
         : cat /moved/deeper/c.txt : getxattr /newdir user.k"
    ));
    let out = ok(&check);
    assert!(out.starts_with(want.split(' ').next().unwrap()), "{out}");
    for expected in [
        "\nalpha\n",
        "\nfalse\n",
        "\nmy\n",
        "\n../big.bin\n",
        "\ngamma\n",
        "v1",
    ] {
        assert!(out.contains(expected), "{expected:?} not in {out}");
    }
    let times = booted(&format!("--ro -a {img} -m /dev/sda1 stat /newdir/big.link"));
    for field in ["mtime: 981173106", "uid: 1000", "gid: 1001", "nlink: 2"] {
        assert!(
            ok(&times).contains(field),
            "{field} not in {}",
            times.stdout
        );
    }
    let mode = booted(&format!(
        "--ro -a {img} -m /dev/sda1 stat /newdir/a-moved.txt"
    ));
    assert!(
        ok(&mode).contains("mode: 33184"),
        "0640 regular file: {}",
        mode.stdout
    );

    // Killed: the mount goes away (auto_unmount as root) and the image
    // still mounts.
    let mut child = std::process::Command::new(bin())
        .args(mount_line(&format!("--no-fork -a {img} -m /dev/sda1"), &mp).split_whitespace())
        .stdin(std::process::Stdio::null())
        .spawn()
        .unwrap();
    wait_until("the --no-fork mount", Duration::from_secs(300), || {
        m.join("etc/hostname").exists()
    });
    child.kill().unwrap();
    child.wait().unwrap();
    wait_until(
        "the killed mount going away",
        Duration::from_secs(30),
        || !mounted(&mp),
    );
    // The killed appliance left the journal to replay, as a crashed VM
    // does. --ro replays it in the throwaway overlay (as libguestfs's
    // --ro does), so the file reads and the image does not change.
    let dirty = libguest_tests::fingerprint(Path::new(&img));
    let read_only = booted(&format!(
        "--ro -a {img} -m /dev/sda1 cat /newdir/a-moved.txt"
    ));
    assert!(
        ok(&read_only).starts_with("alpha\n"),
        "{}",
        read_only.stdout
    );
    assert!(
        libguest_tests::fingerprint(Path::new(&img)) == dirty,
        "--ro changed the image"
    );
    // Read-write: the journal replays into the image.
    let after = booted(&format!("-a {img} -m /dev/sda1 cat /newdir/a-moved.txt"));
    assert!(ok(&after).starts_with("alpha\n"), "{}", after.stdout);
}
