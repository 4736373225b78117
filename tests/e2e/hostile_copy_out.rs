//! e2e: copy-out from a hostile guest. A first copy-out of the guest's
//! `/docs` plants `out/docs/notes -> <victim>` (an absolute symlink to a
//! host directory standing for `~/.ssh`); a second copy-out of
//! `/docs/notes` into `out/docs`, a copy-out of a file whose planted link
//! names the victim's key, and a download or tar-out to that link must all
//! leave the victim untouched. Modes lose group/other write and setuid
//! unless kept on request. Through the API on both backends, and through
//! the CLI on the qemu TCG backend.

#[allow(dead_code)]
use libguest_tests::cli as support;

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use libguest::{calls, Backend, CopyOutOptions, Error, Guest};
use libguest_tests::images::partitioned_ext4;
use support::{booted, ok, one_error, tempdir};

const UUID: &str = "4c475354-0000-4000-8000-0000000000c0";

/// A 0700 directory holding a key, as `~/.ssh` would.
struct Victim {
    dir: PathBuf,
    key: PathBuf,
}

impl Victim {
    fn new(root: &Path) -> Victim {
        let dir = root.join("home/.ssh");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
        let key = dir.join("authorized_keys");
        std::fs::write(&key, "ssh-ed25519 mine").unwrap();
        Victim { dir, key }
    }

    fn assert_untouched(&self) {
        let names: Vec<_> = std::fs::read_dir(&self.dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(
            names,
            ["authorized_keys"],
            "something was written into the victim"
        );
        assert_eq!(
            std::fs::read_to_string(&self.key).unwrap(),
            "ssh-ed25519 mine"
        );
        let mode = std::fs::metadata(&self.dir).unwrap().mode() & 0o7777;
        assert_eq!(mode, 0o700, "the victim directory was chmodded");
    }
}

fn mode_of(path: &Path) -> u32 {
    std::fs::symlink_metadata(path).unwrap().mode() & 0o7777
}

fn umask() -> u32 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status
        .lines()
        .find_map(|l| l.strip_prefix("Umask:"))
        .unwrap();
    u32::from_str_radix(line.trim(), 8).unwrap()
}

/// The guest tree, built through the API: `/docs/notes` links to the
/// victim's path, which in the guest is a directory holding a hostile key;
/// `/docs/key` links to the victim's key; a world-writable directory and a
/// setuid file.
fn hostile_tree(g: &mut Guest, v: &Victim) {
    let (dir, key) = (v.dir.to_str().unwrap(), v.key.to_str().unwrap());
    g.mkdir_p(dir).unwrap();
    g.write(key, "ssh-rsa evil").unwrap();
    g.mkdir_p("/docs/open").unwrap();
    g.write("/docs/readme", "hello").unwrap();
    g.write("/docs/suid", "#!/bin/sh").unwrap();
    g.chmod(0o777, "/docs/open").unwrap();
    g.chmod(0o4777, "/docs/suid").unwrap();
    g.ln_s(dir, "/docs/notes").unwrap();
    g.ln_s(key, "/docs/key").unwrap();
}

fn assert_refused_link(result: libguest::Result<()>, what: &str) {
    let err = result.expect_err(what);
    let text = err.to_string();
    assert!(
        matches!(err, Error::Transfer { .. } | Error::HostIo { .. }),
        "{what}: {text}"
    );
    assert!(text.contains("symbolic link"), "{what}: {text}");
}

fn planted_symlinks(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let img = dir.path().join("disk.img");
    partitioned_ext4(&img, 64, "hostile", UUID);
    let victim = Victim::new(dir.path());
    let mut g = Guest::new().unwrap();
    g.set_backend(backend).unwrap();
    g.add_drive(&img).unwrap();
    if let Err(e) = g.launch() {
        panic!("launch: {e}\n{}", g.console_log());
    }
    g.mount("/dev/sda1", "/").unwrap();
    hostile_tree(&mut g, &victim);

    let out = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    g.copy_out("/docs", &out).unwrap();
    let docs = out.join("docs");
    assert_eq!(std::fs::read_link(docs.join("notes")).unwrap(), victim.dir);
    assert_eq!(
        std::fs::read_to_string(docs.join("readme")).unwrap(),
        "hello"
    );
    assert_eq!(mode_of(&docs.join("open")), 0o755 & !umask());
    assert_eq!(mode_of(&docs.join("suid")), 0o755 & !umask());

    // The second copy-outs, a download and a tar-out through the links.
    assert_refused_link(g.copy_out("/docs/notes", &docs), "copy_out of a directory");
    assert_refused_link(g.copy_out("/docs/key", &docs), "copy_out of a file");
    assert_refused_link(g.download("/docs/readme", docs.join("key")), "download");
    let tar_out = g.tar_out("/docs", docs.join("key"), calls::tar_out::Opts::default());
    assert_refused_link(tar_out, "tar_out");
    victim.assert_untouched();

    // keep_modes: the guest's bits, without setuid.
    let exact = dir.path().join("exact");
    std::fs::create_dir(&exact).unwrap();
    let keep = CopyOutOptions {
        keep_modes: true,
        ..CopyOutOptions::default()
    };
    g.copy_out_opts("/docs", &exact, keep).unwrap();
    assert_eq!(mode_of(&exact.join("docs/open")), 0o777);
    assert_eq!(mode_of(&exact.join("docs/suid")), 0o777);
    g.shutdown().unwrap();
    victim.assert_untouched();
}

libguest_tests::on_both_backends! {
    planted_symlinks => e2e_hostile_copy_out_planted_symlinks, tcg_hostile_copy_out_planted_symlinks;
}

/// The same through the CLI (TCG): the tree and the first copy-out in one
/// run, the second copy-out refused in one line, --keep-modes.
#[test]
fn cli_hostile_copy_out_tcg() {
    let (_guard, dir) = tempdir();
    let img = format!("{dir}/disk.img");
    partitioned_ext4(Path::new(&img), 64, "hostile", UUID);
    let victim = Victim::new(Path::new(&dir));
    let (vdir, vkey) = (victim.dir.display(), victim.key.display());
    std::fs::create_dir(format!("{dir}/out")).unwrap();
    std::fs::create_dir(format!("{dir}/exact")).unwrap();
    ok(&booted(&format!(
        "-a {img} -m /dev/sda1 mkdir-p {vdir} : write {vkey} ssh-rsa-evil : mkdir-p /docs/open \
         : chmod 0777 /docs/open : ln-s {vdir} /docs/notes : copy-out /docs {dir}/out"
    )));
    assert_eq!(
        mode_of(Path::new(&format!("{dir}/out/docs/open"))),
        0o755 & !umask()
    );
    let run = booted(&format!(
        "--ro -a {img} -m /dev/sda1 copy-out --keep-modes /docs {dir}/exact \
         : copy-out /docs/notes {dir}/out/docs"
    ));
    one_error(&run, &["out/docs/notes", "symbolic link"]);
    assert_eq!(mode_of(Path::new(&format!("{dir}/exact/docs/open"))), 0o777);
    victim.assert_untouched();
}
