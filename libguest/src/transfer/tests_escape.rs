//! Writes outside the destination the user named, and modes: the planted
//! symlink of a first copy-out used by a second, a directory swapped for a
//! link while the extraction runs, the host files of download/tar_out and
//! copy_out of a file, the umask, directories that were there, setuid.

use std::fs;
use std::io::{self, Read};
use std::os::unix::fs::{symlink, MetadataExt, PermissionsExt};
use std::path::PathBuf;

use tar::EntryType;

use super::tests_support::*;
use super::{
    create_fresh_file, create_output, unpack_into, unpack_into_opts, TransferError, UnpackOptions,
};

fn creating() -> UnpackOptions {
    UnpackOptions {
        create_dest: true,
        ..UnpackOptions::default()
    }
}

fn dir(name: &[u8], mode: u32) -> Vec<u8> {
    raw(name, EntryType::Directory, b"", b"", mode)
}

fn assert_bad_destination(result: Result<super::UnpackSummary, TransferError>, needle: &str) {
    match result {
        Err(e @ TransferError::BadDestination { .. }) => {
            assert!(e.to_string().contains(needle), "{needle:?} not in: {e}")
        }
        other => panic!("expected the destination to be refused, got {other:?}"),
    }
}

/// The example: `copy-out /docs out` plants `out/docs/notes ->
/// ~/.ssh`; then `copy-out /docs/notes out/docs` must not write there.
#[test]
fn a_symlink_planted_by_a_first_copy_out_is_not_used_by_a_second() {
    let sb = Sandbox::new();
    let out = sb.dest.join("out");
    fs::create_dir(&out).unwrap();
    let plant = raw(b"notes", EntryType::Symlink, &sb.outside(""), b"", 0o777);
    let docs = archive(&[dir(b"./", 0o755), plant, file(b"readme", b"hi")]);
    unpack_into_opts(&docs[..], &out.join("docs"), &creating()).unwrap();
    assert!(fs::symlink_metadata(out.join("docs/notes"))
        .unwrap()
        .is_symlink());

    // copy_out of the directory /docs/notes (in the guest) into out/docs.
    let keys = archive(&[dir(b"./", 0o700), file(b"authorized_keys", b"ssh-rsa evil")]);
    let notes = out.join("docs/notes");
    assert_bad_destination(
        unpack_into_opts(&keys[..], &notes, &creating()),
        "symbolic link",
    );
    assert_bad_destination(unpack_into(&keys[..], &notes), "remove the link");
    // copy_out of a file /docs/notes.
    match create_fresh_file(&out.join("docs"), "notes".as_ref()) {
        Err(e @ TransferError::BadDestination { .. }) => {
            assert!(e.to_string().contains("symbolic link"), "{e}")
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    sb.assert_untouched();
}

/// The directory the user names may be reached through their own links.
#[test]
fn the_named_directory_itself_may_be_reached_through_links() {
    let sb = Sandbox::new();
    let real = sb.dest.join("real");
    fs::create_dir(&real).unwrap();
    symlink(&real, sb.dest.join("alias")).unwrap();
    let tree = archive(&[dir(b"./", 0o755), file(b"f", b"data")]);
    unpack_into_opts(&tree[..], &sb.dest.join("alias/top"), &creating()).unwrap();
    assert_eq!(fs::read(real.join("top/f")).unwrap(), b"data");
    let mut file = create_fresh_file(&sb.dest.join("alias"), "one".as_ref()).unwrap();
    io::Write::write_all(&mut file, b"1").unwrap();
    assert_eq!(fs::read(real.join("one")).unwrap(), b"1");
}

/// Reads `data`, and once `at` bytes are consumed runs `swap` (a local user
/// replacing a directory by a link between two entries).
struct SwapAt {
    data: Vec<u8>,
    pos: usize,
    at: usize,
    swap: Option<Box<dyn FnOnce()>>,
}

impl Read for SwapAt {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.pos >= self.at {
            if let Some(swap) = self.swap.take() {
                swap();
            }
        }
        let end = if self.pos < self.at {
            self.at
        } else {
            self.data.len()
        };
        let n = buf.len().min(end - self.pos);
        buf[..n].copy_from_slice(&self.data[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

#[test]
fn a_directory_swapped_for_a_link_mid_extraction_gains_nothing() {
    let sb = Sandbox::new();
    let victim = sb.sentinel.join("sub");
    fs::create_dir(&victim).unwrap();
    fs::set_permissions(&victim, fs::Permissions::from_mode(0o700)).unwrap();
    let before = fs::metadata(&victim).unwrap();
    let first = [
        dir(b"d/", 0o777),
        dir(b"d/sub/", 0o777),
        file(b"d/sub/f", b"inside"),
    ]
    .concat();
    // After the swap, `z` makes the unpacker close (chmod, set the mtime
    // of) d/sub and d, which a path lookup would now find in the sentinel
    // directory; `d/late` goes to a directory that is now a link.
    let rest = archive(&[file(b"z", b"z"), file(b"d/late", b"pwned")]);
    let (dest, sentinel) = (sb.dest.clone(), sb.sentinel.clone());
    let reader = SwapAt {
        at: first.len(),
        data: [first, rest].concat(),
        pos: 0,
        swap: Some(Box::new(move || {
            fs::rename(dest.join("d"), dest.join("d.moved")).unwrap();
            symlink(&sentinel, dest.join("d")).unwrap();
        })),
    };
    let result = unpack_into(reader, &sb.dest);
    // Nothing outside changed: not the victim's mode, times or contents.
    let after = fs::metadata(&victim).unwrap();
    assert_eq!(
        mode_of(&victim),
        0o700,
        "the victim was chmodded ({result:?})"
    );
    assert_eq!(after.mtime(), before.mtime(), "{result:?}");
    assert!(names(&victim).is_empty(), "{:?}", names(&victim));
    assert_eq!(names(&sb.sentinel), ["canary", "sub"]);
    assert_eq!(fs::read(sb.sentinel.join("canary")).unwrap(), b"canary");
    // The directories the unpacker had open got their modes, moved or not.
    assert_eq!(fs::read(sb.dest.join("d.moved/sub/f")).unwrap(), b"inside");
    assert_eq!(mode_of(&sb.dest.join("d.moved/sub")), 0o755 & !umask());
    assert_refused(result, "d/late");
}

#[test]
fn output_files_are_not_written_through_links_to_regular_files() {
    let sb = Sandbox::new();
    let canary = sb.sentinel.join("canary");
    let link = sb.dest.join("planted");
    symlink(&canary, &link).unwrap();
    let err = create_output(&link).unwrap_err();
    assert!(err.to_string().contains("symbolic link"), "{err}");
    let dangling = sb.dest.join("dangling");
    symlink(sb.sentinel.join("new"), &dangling).unwrap();
    assert!(create_output(&dangling).is_err());
    sb.assert_untouched();
    // A link to a device (as /dev/stdout is) is written as named.
    let null = sb.dest.join("null");
    symlink("/dev/null", &null).unwrap();
    io::Write::write_all(&mut create_output(&null).unwrap(), b"x").unwrap();
    // A plain path: created, then truncated.
    let plain = sb.dest.join("plain");
    io::Write::write_all(&mut create_output(&plain).unwrap(), b"long content").unwrap();
    io::Write::write_all(&mut create_output(&plain).unwrap(), b"short").unwrap();
    assert_eq!(fs::read(&plain).unwrap(), b"short");
}

#[test]
fn copy_out_of_a_file_makes_a_fresh_file() {
    let sb = Sandbox::new();
    fs::write(sb.dest.join("f"), b"old").unwrap();
    fs::hard_link(sb.dest.join("f"), sb.dest.join("partner")).unwrap();
    let mut file = create_fresh_file(&sb.dest, "f".as_ref()).unwrap();
    io::Write::write_all(&mut file, b"new").unwrap();
    assert_eq!(fs::read(sb.dest.join("f")).unwrap(), b"new");
    assert_eq!(fs::read(sb.dest.join("partner")).unwrap(), b"old");
    fs::create_dir(sb.dest.join("d")).unwrap();
    assert!(create_fresh_file(&sb.dest, "d".as_ref()).is_err());
    symlink(sb.sentinel.join("canary"), sb.dest.join("l")).unwrap();
    assert!(create_fresh_file(&sb.dest, "l".as_ref()).is_err());
    assert!(create_fresh_file(&sb.dest, "..".as_ref()).is_err());
    sb.assert_untouched();
}

fn mode_tree() -> Vec<u8> {
    archive(&[
        dir(b"./", 0o777),
        dir(b"d/", 0o777),
        raw(b"d/f", EntryType::Regular, b"", b"f", 0o666),
        raw(b"x", EntryType::Regular, b"", b"#!", 0o777),
        raw(b"su", EntryType::Regular, b"", b"#!", 0o6755),
        dir(b"sticky/", 0o1777),
        raw(b"implicit/g", EntryType::Regular, b"", b"g", 0o644),
    ])
}

/// Modes under umask 027, in a child process (the umask is per process).
#[test]
fn modes_follow_the_umask() {
    if !in_child_with_umask("transfer::tests_escape::modes_follow_the_umask", 0o027) {
        return;
    }
    let sb = Sandbox::new();
    let top = sb.dest.join("top");
    unpack_into_opts(&mode_tree()[..], &top, &creating()).unwrap();
    let expect = [
        ("", 0o750),
        ("d", 0o750),
        ("d/f", 0o640),
        ("x", 0o750),
        ("su", 0o750),
        ("sticky", 0o750),
        ("implicit", 0o750),
        ("implicit/g", 0o640),
    ];
    for (path, mode) in expect {
        assert_eq!(mode_of(&top.join(path)), mode, "{path:?}");
    }
    // keep_modes: the archive's bits exactly, still no setuid or sticky.
    let exact = sb.dest.join("exact");
    let keep = UnpackOptions {
        keep_modes: true,
        ..creating()
    };
    unpack_into_opts(&mode_tree()[..], &exact, &keep).unwrap();
    let expect = [
        ("", 0o777),
        ("d", 0o777),
        ("d/f", 0o666),
        ("x", 0o777),
        ("su", 0o755),
        ("sticky", 0o777),
        ("implicit", 0o750),
        ("implicit/g", 0o644),
    ];
    for (path, mode) in expect {
        assert_eq!(mode_of(&exact.join(path)), mode, "keep_modes: {path:?}");
    }
}

/// Today's 0700 `.ssh` stays 0700 (and the destination keeps its mode).
#[test]
fn directories_that_were_there_keep_their_mode() {
    let sb = Sandbox::new();
    let ssh: PathBuf = sb.dest.join(".ssh");
    fs::create_dir(&ssh).unwrap();
    fs::set_permissions(&ssh, fs::Permissions::from_mode(0o700)).unwrap();
    fs::set_permissions(&sb.dest, fs::Permissions::from_mode(0o711)).unwrap();
    let tree = archive(&[
        dir(b"./", 0o777),
        dir(b".ssh/", 0o777),
        raw(
            b".ssh/authorized_keys",
            EntryType::Regular,
            b"",
            b"key",
            0o666,
        ),
    ]);
    for keep_modes in [false, true] {
        let opts = UnpackOptions {
            keep_modes,
            ..UnpackOptions::default()
        };
        sb.unpack_opts(&tree, &opts).unwrap();
        assert_eq!(mode_of(&ssh), 0o700, "keep_modes {keep_modes}");
        assert_eq!(mode_of(&sb.dest), 0o711, "keep_modes {keep_modes}");
    }
}
