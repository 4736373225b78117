//! Arbitrary bytes as the tar stream of `copy_out`: `unpack_into` may fail,
//! but must never create or change anything outside its destination, even
//! with a symlink to the outside already in it.
#![no_main]

use std::fs;
use std::os::unix::fs::{symlink, MetadataExt, PermissionsExt};
use std::path::Path;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let root = tempfile::tempdir().expect("temp dir");
    let dest = root.path().join("dest");
    let sentinel = root.path().join("sentinel");
    fs::create_dir(&dest).expect("mkdir dest");
    fs::create_dir(&sentinel).expect("mkdir sentinel");
    fs::write(sentinel.join("canary"), b"canary").expect("write canary");
    // Entries named `out/...` or `up/...` must not go through these.
    symlink(&sentinel, dest.join("out")).expect("symlink");
    symlink("..", dest.join("up")).expect("symlink");

    let _ = libguest::transfer::unpack_into(data, &dest);

    assert_eq!(
        names(root.path()),
        ["dest", "sentinel"],
        "something escaped"
    );
    assert_eq!(names(&sentinel), ["canary"], "something escaped");
    let canary = sentinel.join("canary");
    assert_eq!(fs::read(&canary).expect("read canary"), b"canary");
    assert_eq!(fs::metadata(&canary).expect("stat canary").nlink(), 1);
    open_up(root.path()); // read-only directories would defeat cleanup
});

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .expect("read_dir")
        .map(|e| {
            e.expect("dirent")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    v.sort();
    v
}

fn open_up(dir: &Path) {
    let _ = fs::set_permissions(dir, fs::Permissions::from_mode(0o700));
    for entry in fs::read_dir(dir).into_iter().flatten().flatten() {
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            open_up(&entry.path());
        }
    }
}
