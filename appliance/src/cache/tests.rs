//! The cache trust rule, with hostile directories made here. Other
//! users' files are made with chown, so these tests run as root (as the
//! test scripts and CI do).

use std::os::unix::fs::{chown, lchown, symlink, MetadataExt, PermissionsExt};

use super::*;

/// An unprivileged uid that owns nothing of ours (nobody).
const OTHER: u32 = 65534;

fn as_root() {
    assert_eq!(
        euid(),
        0,
        "these tests plant other users' files with chown: run them as root"
    );
}

fn chmod(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn mode_of(path: &Path) -> u32 {
    std::fs::symlink_metadata(path).unwrap().mode() & 0o7777
}

#[test]
fn cache_dir_follows_the_environment_and_falls_back_to_var_tmp() {
    let env = |vars: &'static [(&'static str, &'static str)]| {
        move |name: &str| {
            vars.iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| OsString::from(v))
        }
    };
    const ALL: &[(&str, &str)] = &[
        ("LIBGUEST_CACHE_DIR", "/c"),
        ("XDG_CACHE_HOME", "/x"),
        ("HOME", "/h"),
    ];
    assert_eq!(cache_dir_from(env(ALL), 7), Path::new("/c"));
    const NO_OVERRIDE: &[(&str, &str)] = &[("LIBGUEST_CACHE_DIR", ""), ("XDG_CACHE_HOME", "/x")];
    assert_eq!(
        cache_dir_from(env(NO_OVERRIDE), 7),
        Path::new("/x/libguest")
    );
    assert_eq!(
        cache_dir_from(env(&[("HOME", "/h")]), 7),
        Path::new("/h/.cache/libguest")
    );
    // A service without HOME.
    assert_eq!(
        cache_dir_from(env(&[("HOME", "")]), 1234),
        Path::new("/var/tmp/libguest-1234")
    );
}

#[test]
fn missing_directories_are_created_0700() {
    let top = tempfile::tempdir().unwrap();
    let root = top.path().join("a/b/cache");
    let dir = trusted_dir(&root).unwrap();
    assert_eq!(dir.path(), root);
    for path in [top.path().join("a"), top.path().join("a/b"), root.clone()] {
        assert_eq!(mode_of(&path), 0o700, "{}", path.display());
    }
    let kernels = dir.subdir("kernels").unwrap();
    assert_eq!(mode_of(kernels.path()), 0o700);
    // Opening it again finds the same directories.
    trusted_dir(&root).unwrap().subdir("kernels").unwrap();
    // Existing 0755 directories of ours are fine: nobody else can write them.
    chmod(&root, 0o755);
    trusted_dir(&root).unwrap();
}

#[test]
fn a_root_owned_by_another_user_is_refused() {
    as_root();
    let top = tempfile::tempdir().unwrap();
    let root = top.path().join("cache");
    std::fs::create_dir(&root).unwrap();
    chmod(&root, 0o700);
    chown(&root, Some(OTHER), Some(OTHER)).unwrap();
    let err = trusted_dir(&root).unwrap_err();
    assert!(
        matches!(err, CacheError::NotOwned { owner: OTHER, .. }),
        "{err}"
    );
    let text = err.to_string();
    for needle in [
        root.to_str().unwrap(),
        "uid 65534",
        "chown",
        "LIBGUEST_CACHE_DIR",
    ] {
        assert!(text.contains(needle), "{needle:?} not in {text}");
    }
}

#[test]
fn a_group_or_world_writable_directory_is_refused() {
    let top = tempfile::tempdir().unwrap();
    let root = top.path().join("cache");
    for mode in [0o770, 0o707, 0o777, 0o1777] {
        std::fs::create_dir_all(&root).unwrap();
        chmod(&root, mode);
        let err = trusted_dir(&root).unwrap_err();
        assert!(
            matches!(err, CacheError::Writable { .. }),
            "{mode:o}: {err}"
        );
        assert!(err.to_string().contains("chmod go-w"), "{err}");
    }
    // The same for a subdirectory the cache uses.
    chmod(&root, 0o700);
    let dir = trusted_dir(&root).unwrap();
    std::fs::create_dir(root.join("kernels")).unwrap();
    chmod(&root.join("kernels"), 0o775);
    let err = dir.subdir("kernels").unwrap_err();
    assert!(matches!(err, CacheError::Writable { .. }), "{err}");
    assert!(err.to_string().contains("kernels"), "{err}");
}

#[test]
fn a_subdirectory_of_another_user_is_refused() {
    as_root();
    let top = tempfile::tempdir().unwrap();
    let dir = trusted_dir(&top.path().join("cache")).unwrap();
    let tools = dir.path().join("tools");
    std::fs::create_dir(&tools).unwrap();
    chmod(&tools, 0o755);
    chown(&tools, Some(OTHER), None).unwrap();
    let err = dir.subdir("tools").unwrap_err();
    assert!(matches!(err, CacheError::NotOwned { .. }), "{err}");
    assert!(dir.existing_subdir("tools").is_err());
}

#[test]
fn symlinked_roots_are_followed_only_when_safe() {
    as_root();
    let top = tempfile::tempdir().unwrap();
    // The classic attack: the cache root is a link to another user's directory.
    let theirs = top.path().join("theirs");
    std::fs::create_dir(&theirs).unwrap();
    chmod(&theirs, 0o755);
    chown(&theirs, Some(OTHER), Some(OTHER)).unwrap();
    let link = top.path().join("cache");
    symlink(&theirs, &link).unwrap();
    let err = trusted_dir(&link).unwrap_err();
    assert!(matches!(err, CacheError::NotOwned { .. }), "{err}");
    // A link of another user, even to a directory of ours: they could
    // point it anywhere next time.
    let ours = top.path().join("ours");
    std::fs::create_dir(&ours).unwrap();
    let planted = top.path().join("planted");
    symlink(&ours, &planted).unwrap();
    lchown(&planted, Some(OTHER), Some(OTHER)).unwrap();
    let err = trusted_dir(&planted).unwrap_err();
    assert!(matches!(err, CacheError::UnsafeAncestor { .. }), "{err}");
    assert!(
        err.to_string().contains("symbolic link of uid 65534"),
        "{err}"
    );
    // Our own link to our own directory (a cache on another disk) is fine,
    // and so are relative links and "..".
    let mine = top.path().join("mine");
    symlink("ours/../ours", &mine).unwrap();
    assert_eq!(trusted_dir(&mine).unwrap().path(), mine);
    // Inside the cache, no links at all.
    let dir = trusted_dir(&ours).unwrap();
    symlink(&ours, ours.join("kernels")).unwrap();
    let err = dir.subdir("kernels").unwrap_err();
    assert!(matches!(err, CacheError::Symlink { .. }), "{err}");
}

#[test]
fn unsafe_directories_above_the_root_are_refused() {
    as_root();
    let top = tempfile::tempdir().unwrap();
    let open = top.path().join("open");
    std::fs::create_dir(&open).unwrap();
    chmod(&open, 0o777);
    let err = trusted_dir(&open.join("cache")).unwrap_err();
    assert!(matches!(err, CacheError::UnsafeAncestor { .. }), "{err}");
    assert!(err.to_string().contains("sticky"), "{err}");
    // With the sticky bit (as /tmp), others cannot replace what is ours.
    chmod(&open, 0o1777);
    trusted_dir(&open.join("cache")).unwrap();
    // Another user's directory above the root.
    let theirs = top.path().join("theirs");
    std::fs::create_dir(&theirs).unwrap();
    chmod(&theirs, 0o755);
    let cache = theirs.join("cache");
    std::fs::create_dir(&cache).unwrap();
    chown(&theirs, Some(OTHER), None).unwrap();
    let err = trusted_dir(&cache).unwrap_err();
    assert!(matches!(err, CacheError::UnsafeAncestor { .. }), "{err}");
    assert!(err.to_string().contains(theirs.to_str().unwrap()), "{err}");
}

/// The HOME-less fallback lives in a world-writable sticky directory,
/// where another user can create `libguest-UID` first.
#[test]
fn the_var_tmp_fallback_pre_created_by_another_user_is_refused() {
    as_root();
    // A private stand-in for /var/tmp: root's, 1777.
    let var_tmp = tempfile::tempdir().unwrap();
    chmod(var_tmp.path(), 0o1777);
    let fallback = |base: &Path| base.join(cache_dir_from(|_| None, euid()).file_name().unwrap());
    let root = fallback(var_tmp.path());
    assert!(root.ends_with("libguest-0"), "{}", root.display());
    // Pre-created, 0777, by nobody.
    std::fs::create_dir(&root).unwrap();
    chmod(&root, 0o777);
    chown(&root, Some(OTHER), Some(OTHER)).unwrap();
    let err = trusted_dir(&root).unwrap_err();
    assert!(matches!(err, CacheError::NotOwned { .. }), "{err}");
    assert!(err.to_string().contains("LIBGUEST_CACHE_DIR"), "{err}");
    // Pre-created as nobody's link to a directory of ours.
    std::fs::remove_dir(&root).unwrap();
    let ours = var_tmp.path().join("ours");
    std::fs::create_dir(&ours).unwrap();
    symlink(&ours, &root).unwrap();
    lchown(&root, Some(OTHER), Some(OTHER)).unwrap();
    assert!(matches!(
        trusted_dir(&root).unwrap_err(),
        CacheError::UnsafeAncestor { .. }
    ));
    // Not there yet: created, ours, 0700. The real /var/tmp passes as a parent.
    let real = Path::new("/var/tmp").join(format!("libguest-test-{}", std::process::id()));
    let made = trusted_dir(&real);
    let mode = mode_of(&real);
    std::fs::remove_dir(&real).unwrap();
    made.unwrap();
    assert_eq!(mode, 0o700);
}

#[test]
fn files_must_be_ours_regular_and_unchanged() {
    as_root();
    let top = tempfile::tempdir().unwrap();
    let dir = trusted_dir(&top.path().join("cache")).unwrap();
    dir.write_file("blob", b"appliance bytes").unwrap();
    let blob = dir.path().join("blob");
    assert_eq!(mode_of(&blob), 0o600);
    let digest = sha256(b"appliance bytes");
    let got = dir.read_verified("blob", &digest, 1 << 20, "x").unwrap();
    assert_eq!(got.as_deref(), Some(&b"appliance bytes"[..]));
    assert_eq!(
        verified_file(&blob, &digest, 1 << 20).unwrap(),
        b"appliance bytes"
    );
    assert!(dir.read_file("missing", 10).unwrap().is_none());
    // Over the size limit.
    assert!(matches!(
        dir.read_file("blob", 4).unwrap_err(),
        CacheError::TooLarge { .. }
    ));
    // Changed after it was written.
    std::fs::write(&blob, b"appliance bytez").unwrap();
    let err = dir
        .read_verified("blob", &digest, 1 << 20, "rebuild it")
        .unwrap_err();
    assert!(matches!(err, CacheError::Tampered { .. }), "{err}");
    assert!(err.to_string().contains(&hex(&digest)), "{err}");
    assert!(err.to_string().contains("rebuild it"), "{err}");
    // Writable by others, or someone else's.
    chmod(&blob, 0o666);
    assert!(matches!(
        dir.open_file("blob").unwrap_err(),
        CacheError::Writable { .. }
    ));
    chmod(&blob, 0o644);
    chown(&blob, Some(OTHER), None).unwrap();
    assert!(matches!(
        dir.open_file("blob").unwrap_err(),
        CacheError::NotOwned { .. }
    ));
    // A link, and a FIFO (refused at once, not waited on).
    symlink("/etc/passwd", dir.path().join("link")).unwrap();
    assert!(matches!(
        dir.open_file("link").unwrap_err(),
        CacheError::Symlink { .. }
    ));
    rustix::fs::mknodat(
        rustix::fs::CWD,
        dir.path().join("fifo"),
        FileType::Fifo,
        Mode::from_raw_mode(0o600),
        0,
    )
    .unwrap();
    assert!(matches!(
        dir.open_file("fifo").unwrap_err(),
        CacheError::WrongType { .. }
    ));
    // Names are single components.
    assert!(dir.open_file("../cache/blob").is_err());
    assert!(dir.write_file("..", b"").is_err());
    // A rewrite replaces the file (the one planted is gone).
    dir.write_file("blob", b"new").unwrap();
    assert_eq!(dir.read_file("blob", 10).unwrap().unwrap(), b"new");
    let names = dir.entries().unwrap();
    assert!(
        names.iter().all(|n| !n.to_string_lossy().contains(".tmp-")),
        "{names:?}"
    );
}

#[test]
fn sha256_records_parse_as_sha256sum_writes_them() {
    let digest = sha256(b"x");
    let line = format!("{}  vmlinux\n", hex(&digest));
    assert_eq!(parse_sha256_record(line.as_bytes()), Some(digest));
    assert_eq!(parse_sha256_record(hex(&digest).as_bytes()), Some(digest));
    assert_eq!(parse_sha256_record(b"abc"), None);
    let plus = format!("+{}", &hex(&digest)[1..]);
    assert_eq!(parse_sha256_record(plus.as_bytes()), None);
    let glued = format!("{}0", hex(&digest));
    assert_eq!(parse_sha256_record(glued.as_bytes()), None);
}
