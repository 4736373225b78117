//! Finding the cached kernel, and refusing one that changed.

use std::os::unix::fs::PermissionsExt;

use super::super::cache::{hex, sha256, trusted_dir, CacheError};
use super::*;

/// `<cache>/kernels/<name>/vmlinux` holding `bytes`, with the record
/// build-kernel.sh writes (`sha256sum vmlinux`) unless `record` is false.
fn cached(cache: &Path, name: &str, bytes: &[u8], record: bool) -> PathBuf {
    let dir = cache.join("kernels").join(name);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("vmlinux"), bytes).unwrap();
    if record {
        let line = format!("{}  vmlinux\n", hex(&sha256(bytes)));
        std::fs::write(dir.join(RECORD), line).unwrap();
    }
    dir.join("vmlinux")
}

#[test]
fn finds_the_newest_recorded_kernel_for_this_fragment_only() {
    let top = tempfile::tempdir().unwrap();
    let root = trusted_dir(top.path()).unwrap();
    let err = load_cached(&root).unwrap_err().to_string();
    assert!(err.contains("build-kernel.sh"), "{err}");
    cached(top.path(), "appliance-000000000000-aaaa", b"other", true);
    assert!(load_cached(&root).is_err());
    // Cached before kernels carried a record: not trusted, and said so.
    let ours = |key: &str| format!("appliance-{}-{key}", fragment_hash());
    cached(top.path(), &ours("old"), b"unrecorded", false);
    let err = load_cached(&root).unwrap_err().to_string();
    assert!(
        err.contains("older libguest") && err.contains(RECORD),
        "{err}"
    );
    let path = cached(top.path(), &ours("bbbb"), b"our kernel", true);
    let image = load_cached(&root).unwrap();
    assert_eq!(
        (image.name.as_path(), &*image.bytes),
        (path.as_path(), &b"our kernel"[..])
    );
    assert_eq!(find_kernel_in(&root), path);
}

fn find_kernel_in(root: &TrustedDir) -> PathBuf {
    load_cached(root).unwrap().name
}

#[test]
fn a_changed_cached_kernel_is_refused_not_booted() {
    let top = tempfile::tempdir().unwrap();
    let root = trusted_dir(top.path()).unwrap();
    let name = format!("appliance-{}-cccc", fragment_hash());
    let path = cached(top.path(), &name, b"the kernel that was built", true);
    load_cached(&root).unwrap();
    std::fs::write(&path, b"a kernel planted later").unwrap();
    let err = load_cached(&root).unwrap_err();
    assert!(
        matches!(err, ApplianceError::Cache(CacheError::Tampered { .. })),
        "{err}"
    );
    let text = err.to_string();
    assert!(text.contains(path.to_str().unwrap()), "{text}");
    assert!(text.contains("build-kernel"), "{text}");
    // A record that is not a sha256sum line.
    std::fs::write(path.with_file_name(RECORD), b"trust me").unwrap();
    assert!(load_cached(&root)
        .unwrap_err()
        .to_string()
        .contains("sha256sum"));
    // A kernel that is a link out of the cache.
    std::fs::remove_file(&path).unwrap();
    std::os::unix::fs::symlink("/etc/passwd", &path).unwrap();
    let line = format!("{}  vmlinux\n", hex(&sha256(b"x")));
    std::fs::write(path.with_file_name(RECORD), line).unwrap();
    assert!(matches!(
        load_cached(&root).unwrap_err(),
        ApplianceError::Cache(CacheError::Symlink { .. })
    ));
}

#[test]
fn a_kernel_directory_others_can_write_is_refused() {
    let top = tempfile::tempdir().unwrap();
    let root = trusted_dir(top.path()).unwrap();
    let name = format!("appliance-{}-dddd", fragment_hash());
    let path = cached(top.path(), &name, b"k", true);
    let dir = path.parent().unwrap();
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o777)).unwrap();
    assert!(matches!(
        load_cached(&root).unwrap_err(),
        ApplianceError::Cache(CacheError::Writable { .. })
    ));
}

#[test]
fn a_named_kernel_is_read_once_and_must_be_a_file() {
    let err = load_kernel(Some(Path::new("/nonexistent/vmlinux"))).unwrap_err();
    assert!(err.to_string().contains("/nonexistent/vmlinux"), "{err}");
    assert!(find_kernel(Some(Path::new("/nonexistent/vmlinux"))).is_err());
    let dir = tempfile::tempdir().unwrap();
    let named = dir.path().join("vmlinux");
    std::fs::write(&named, b"my own kernel").unwrap();
    let image = load_kernel(Some(&named)).unwrap();
    assert_eq!(&*image.bytes, b"my own kernel");
    // Swapping the file afterwards changes nothing that boots.
    std::fs::write(&named, b"swapped").unwrap();
    assert_eq!(&*image.bytes, b"my own kernel");
    // A FIFO is refused at once instead of blocking on open.
    let fifo = dir.path().join("fifo");
    rustix::fs::mknodat(
        rustix::fs::CWD,
        &fifo,
        rustix::fs::FileType::Fifo,
        rustix::fs::Mode::from_raw_mode(0o600),
        0,
    )
    .unwrap();
    let err = load_kernel(Some(&fifo)).unwrap_err();
    assert!(
        matches!(err, ApplianceError::KernelNotFound { .. }),
        "{err}"
    );
    assert!(load_kernel(Some(dir.path())).is_err());
}

#[test]
fn fragment_hash_matches_the_build_script() {
    // build-kernel.sh: `cat appliance.config | sha256sum | cut -c1-12`
    let mut child = Command::new("sha256sum")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("sha256sum (coreutils)");
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(KERNEL_FRAGMENT.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(&String::from_utf8_lossy(&out.stdout)[..12], fragment_hash());
}

/// build-kernel.sh refuses the same caches, before it builds anything.
#[test]
fn the_build_script_refuses_an_untrusted_cache() {
    assert_eq!(
        rustix::process::geteuid().as_raw(),
        0,
        "run as root (chown)"
    );
    let top = tempfile::tempdir().unwrap();
    let script = top.path().join("build-kernel.sh");
    std::fs::write(&script, BUILD_SCRIPT).unwrap();
    std::fs::write(top.path().join("appliance.config"), KERNEL_FRAGMENT).unwrap();
    std::fs::write(top.path().join("testhost.config"), TESTHOST_FRAGMENT).unwrap();
    let run = |cache: &Path| {
        let out = Command::new("bash")
            .arg(&script)
            .arg("appliance")
            .env("LIBGUEST_CACHE_DIR", cache)
            .output()
            .unwrap();
        assert!(!out.status.success(), "accepted {}", cache.display());
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let theirs = top.path().join("theirs");
    std::fs::create_dir(&theirs).unwrap();
    std::os::unix::fs::chown(&theirs, Some(65534), Some(65534)).unwrap();
    let err = run(&theirs);
    assert!(
        err.contains("uid 65534") && err.contains("LIBGUEST_CACHE_DIR"),
        "{err}"
    );
    let open = top.path().join("open");
    std::fs::create_dir(&open).unwrap();
    std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o777)).unwrap();
    let err = run(&open);
    assert!(err.contains("chmod go-w"), "{err}");
    // The symlinked root: a link to another user's directory.
    let link = top.path().join("link");
    std::os::unix::fs::symlink(&theirs, &link).unwrap();
    assert!(run(&link).contains("uid 65534"));
    // A subdirectory the cache uses, planted by someone else.
    let ours = top.path().join("ours");
    std::fs::create_dir_all(ours.join("kernels")).unwrap();
    std::os::unix::fs::chown(ours.join("kernels"), Some(65534), None).unwrap();
    let err = run(&ours);
    assert!(
        err.contains("kernels") && err.contains("uid 65534"),
        "{err}"
    );
    // Under a world-writable directory without the sticky bit.
    let err = run(&open.join("cache"));
    assert!(err.contains("sticky"), "{err}");
}
