//! Arbitrary bytes as the tar stream of `copy_out`. `unpack_into_opts` may
//! fail, but after it:
//! - nothing outside the destination exists or changed (a sentinel
//!   directory beside it, reached through links planted in the
//!   destination, keeps its names, contents, link counts and modes);
//! - no file or directory has a mode above what the umask allows, less
//!   group/other write (keep_modes is off), nor setuid/setgid/sticky; a
//!   directory that was there keeps its mode;
//! - a destination root that is a symlink is refused, touching nothing;
//! - the work is bounded by the input: the entry data the unpacker
//!   processes (counted by its stop check, deterministically) never exceeds
//!   the input's length, so holes are never read.
//!
//! An odd-length input goes to a destination the unpacker creates (its
//! `./` entry then sets the root's mode), an even one to an existing one.
#![no_main]

use std::fs;
use std::os::unix::fs::{symlink, MetadataExt, PermissionsExt};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use libguest::transfer::{unpack_into, unpack_into_opts, TransferError, UnpackOptions};

const UMASK: u32 = 0o022;
/// What a created file or directory may have with keep_modes off.
const ALLOWED: u32 = 0o777 & !UMASK & !0o022;

libfuzzer_sys::fuzz_target!(
    init: {
        // SAFETY: umask(2) cannot fail; set once, before any input runs.
        unsafe { libc_umask(UMASK) };
    },
    |data: &[u8]| check(data)
);

extern "C" {
    #[link_name = "umask"]
    fn libc_umask(mask: u32) -> u32;
}

fn check(data: &[u8]) {
    let root = tempfile::tempdir().expect("temp dir");
    let dest = root.path().join("dest");
    let sentinel = root.path().join("sentinel");
    fs::create_dir(&sentinel).expect("mkdir sentinel");
    fs::write(sentinel.join("canary"), b"canary").expect("write canary");
    fs::create_dir(sentinel.join("sub")).expect("mkdir sentinel/sub");
    fs::set_permissions(sentinel.join("sub"), fs::Permissions::from_mode(0o700)).expect("chmod");
    symlink(&sentinel, root.path().join("dest-link")).expect("symlink");
    let create = data.len() % 2 == 1;
    if !create {
        fs::create_dir(&dest).expect("mkdir dest");
        // Entries named `out/...` or `up/...` must not go through these;
        // `keep` was there and keeps its mode.
        symlink(&sentinel, dest.join("out")).expect("symlink");
        symlink("..", dest.join("up")).expect("symlink");
        fs::create_dir(dest.join("keep")).expect("mkdir keep");
        fs::set_permissions(dest.join("keep"), fs::Permissions::from_mode(0o700)).expect("chmod");
    }

    let processed = Arc::new(AtomicU64::new(0));
    let seen = Arc::clone(&processed);
    let budget = data.len() as u64;
    let opts = UnpackOptions {
        create_dest: create,
        stop: Some(Arc::new(move |n| {
            seen.store(n, Ordering::Relaxed);
            n > budget
        })),
        ..UnpackOptions::default()
    };
    let _ = unpack_into_opts(data, &dest, &opts);
    let work = processed.load(Ordering::Relaxed);
    assert!(work <= budget, "processed {work} bytes of a {budget}-byte input");

    // A symlinked destination root is refused before anything is read.
    match unpack_into(data, &root.path().join("dest-link")) {
        Err(TransferError::BadDestination { .. }) => {}
        other => panic!("a symlinked destination was not refused: {other:?}"),
    }

    // Modes as extracted, then read-only directories opened up so that
    // the checks and the temp dir's removal can go through them.
    let mut modes = Vec::new();
    open_up(&dest, &mut modes);
    for (path, mode) in &modes {
        assert_eq!(mode & !ALLOWED, 0, "{path} has mode {mode:o}");
    }
    assert_eq!(
        names(root.path()),
        ["dest", "dest-link", "sentinel"],
        "something escaped"
    );
    assert_eq!(names(&sentinel), ["canary", "sub"], "something escaped");
    assert!(names(&sentinel.join("sub")).is_empty(), "something escaped");
    let canary = sentinel.join("canary");
    assert_eq!(fs::read(&canary).expect("read canary"), b"canary");
    let meta = fs::metadata(&canary).expect("stat canary");
    assert_eq!((meta.nlink(), meta.mode() & 0o7777), (1, 0o644));
    assert_eq!(mode(&sentinel.join("sub")), 0o700, "chmod outside");
    if !create {
        assert_eq!(mode(&dest.join("keep")), 0o700, "an existing directory changed mode");
    }
}

fn mode(path: &Path) -> u32 {
    fs::symlink_metadata(path).expect("lstat").mode() & 0o7777
}

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .expect("read_dir")
        .map(|e| e.expect("dirent").file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// Records the mode of `dir` and of every file and directory below it
/// (not following links), and makes each directory searchable and writable.
fn open_up(dir: &Path, modes: &mut Vec<(String, u32)>) {
    let Ok(meta) = fs::symlink_metadata(dir) else {
        return;
    };
    modes.push((dir.display().to_string(), meta.mode() & 0o7777));
    let _ = fs::set_permissions(dir, fs::Permissions::from_mode(0o700));
    for entry in fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        match entry.file_type() {
            Ok(t) if t.is_dir() => open_up(&path, modes),
            Ok(t) if t.is_file() => {
                if let Ok(m) = fs::symlink_metadata(&path) {
                    modes.push((path.display().to_string(), m.mode() & 0o7777));
                }
            }
            _ => {}
        }
    }
}
