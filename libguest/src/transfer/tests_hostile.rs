//! Hostile archives against `unpack_into`, built header by header, plus
//! tests that pin down what `tar::Entry::unpack_in` does by itself (the
//! reasons extract.rs checks paths, links and types on its own).
//!
//! Every case unpacks into `root/dest` next to `root/sentinel/canary` and
//! checks that nothing outside `dest` appeared or changed.

use std::fs;
use std::os::unix::fs::{symlink, MetadataExt};
use std::path::Path;

use tar::{EntryType, Header};

use super::tests_support::*;
use super::{unpack_into, TransferError};

#[test]
fn dotdot_entry_is_refused() {
    let sb = Sandbox::new();
    let err = sb
        .unpack(&archive(&[file(b"../escape", b"x")]))
        .unwrap_err();
    assert!(err.to_string().contains("../escape"), "{err}");
    assert_refused(Err(err), "../escape");
    sb.assert_untouched();
}

#[test]
fn absolute_entry_is_refused_not_rewritten() {
    let sb = Sandbox::new();
    let abs = sb.outside("pwned");
    let name = String::from_utf8(abs.clone()).unwrap();
    assert_refused(sb.unpack(&archive(&[file(&abs, b"x")])), &name);
    sb.assert_untouched();
    assert!(names(&sb.dest).is_empty());
}

#[test]
fn dotdot_in_the_middle_is_refused() {
    let sb = Sandbox::new();
    assert_refused(
        sb.unpack(&archive(&[file(b"a/../../x", b"x")])),
        "a/../../x",
    );
    sb.assert_untouched();
}

#[test]
fn long_name_and_pax_paths_are_checked_too() {
    let sb = Sandbox::new();
    let long = b"../sentinel/pwned\0";
    let mut l = raw(b"././@LongLink", EntryType::GNULongName, b"", long, 0o644);
    l.extend(file(b"innocent", b"x"));
    assert_refused(sb.unpack(&archive(&[l])), "../sentinel/pwned");
    let record = b"26 path=../sentinel/pwned\n";
    let mut x = raw(b"pax", EntryType::XHeader, b"", record, 0o644);
    x.extend(file(b"innocent", b"x"));
    assert_refused(sb.unpack(&archive(&[x])), "../sentinel/pwned");
    sb.assert_untouched();
}

#[test]
fn nothing_is_written_through_an_archive_symlink() {
    let sb = Sandbox::new();
    let evil = raw(b"evil", EntryType::Symlink, &sb.outside(""), b"", 0o777);
    let err = sb.unpack(&archive(&[evil, file(b"evil/passwd", b"root::0:0")]));
    assert_refused(err, "evil/passwd");
    sb.assert_untouched();
    // The symlink itself may point anywhere and was created.
    assert!(fs::symlink_metadata(sb.dest.join("evil"))
        .unwrap()
        .is_symlink());
}

#[test]
fn symlink_to_parent_is_not_followed() {
    let sb = Sandbox::new();
    let up = raw(b"up", EntryType::Symlink, b"..", b"", 0o777);
    let dir = raw(b"up/sentinel/", EntryType::Directory, b"", b"", 0o755);
    assert_refused(
        sb.unpack(&archive(&[up.clone(), file(b"up/x", b"x")])),
        "up/x",
    );
    assert_refused(sb.unpack(&archive(&[up, dir])), "up/sentinel/");
    sb.assert_untouched();
}

#[test]
fn hard_links_must_stay_in_the_tree() {
    let sb = Sandbox::new();
    let etc = raw(b"l", EntryType::Link, b"/etc/passwd", b"", 0o644);
    assert_refused(sb.unpack(&archive(&[etc])), "l");
    let abs = raw(b"l", EntryType::Link, &sb.outside("canary"), b"", 0o644);
    assert_refused(sb.unpack(&archive(&[abs])), "l");
    let up = raw(b"l", EntryType::Link, b"../sentinel/canary", b"", 0o644);
    let err = sb.unpack(&archive(&[up])).unwrap_err();
    assert!(err.to_string().contains("../sentinel/canary"), "{err}");
    let evil = raw(b"evil", EntryType::Symlink, &sb.outside(""), b"", 0o777);
    let via = raw(b"l", EntryType::Link, b"evil/canary", b"", 0o644);
    assert_refused(sb.unpack(&archive(&[evil, via])), "l");
    let missing = raw(b"l", EntryType::Link, b"nothing-here", b"", 0o644);
    assert_refused(sb.unpack(&archive(&[missing])), "l");
    sb.assert_untouched();
}

#[test]
fn hard_link_to_an_outward_symlink_stays_a_symlink() {
    let sb = Sandbox::new();
    let s = raw(b"s", EntryType::Symlink, &sb.outside("canary"), b"", 0o777);
    let h = raw(b"h", EntryType::Link, b"s", b"", 0o644);
    sb.unpack(&archive(&[
        s,
        h,
        file(b"h", b"pwned"),
        file(b"s", b"pwned"),
    ]))
    .unwrap();
    sb.assert_untouched();
    assert_eq!(fs::read(sb.dest.join("h")).unwrap(), b"pwned");
}

#[test]
fn hard_links_inside_work_and_are_not_written_through() {
    let sb = Sandbox::new();
    let a = file(b"d/a", b"original");
    let b = raw(b"b", EntryType::Link, b"d/a", b"", 0o644);
    let s = sb.unpack(&archive(&[a, b])).unwrap();
    assert_eq!((s.files, s.bytes), (2, 8));
    let ino = |p: &str| fs::metadata(sb.dest.join(p)).unwrap().ino();
    assert_eq!(ino("d/a"), ino("b"));
    sb.unpack(&archive(&[file(b"b", b"replaced")])).unwrap();
    assert_eq!(fs::read(sb.dest.join("d/a")).unwrap(), b"original");
    sb.assert_untouched();
}

#[test]
fn special_files_are_skipped_and_counted() {
    let sb = Sandbox::new();
    let entries = [
        raw(b"fifo", EntryType::Fifo, b"", b"", 0o644),
        raw(b"null", EntryType::Char, b"", b"", 0o666),
        raw(b"sda", EntryType::Block, b"", b"", 0o660),
        raw(b"odd", EntryType::new(b'Z'), b"", b"data", 0o644),
        file(b"after", b"ok"),
    ];
    let s = sb.unpack(&archive(&entries)).unwrap();
    assert_eq!((s.skipped_special, s.files), (4, 1));
    assert_eq!(names(&sb.dest), ["after"]);
    sb.assert_untouched();
}

#[test]
fn setuid_setgid_and_sticky_bits_are_dropped() {
    let sb = Sandbox::new();
    let dir = raw(b"d/", EntryType::Directory, b"", b"", 0o3777);
    let suid = raw(b"d/su", EntryType::Regular, b"", b"#!", 0o6755);
    sb.unpack(&archive(&[dir, suid])).unwrap();
    let mode = |p: &str| fs::metadata(sb.dest.join(p)).unwrap().mode() & 0o7777;
    // Group/other write go too (tests_escape.rs checks modes in full).
    assert_eq!(mode("d"), 0o755 & !umask());
    assert_eq!(mode("d/su"), 0o755 & !umask());
}

#[test]
fn existing_links_in_dest_are_not_written_through() {
    let sb = Sandbox::new();
    symlink(&sb.sentinel, sb.dest.join("dirlink")).unwrap();
    symlink(sb.sentinel.join("canary"), sb.dest.join("filelink")).unwrap();
    assert_refused(
        sb.unpack(&archive(&[file(b"dirlink/canary", b"pwned")])),
        "dirlink/canary",
    );
    let dir = raw(b"dirlink/", EntryType::Directory, b"", b"", 0o777);
    assert_refused(sb.unpack(&archive(&[dir])), "dirlink/");
    // A non-directory entry replaces the link instead of following it.
    sb.unpack(&archive(&[file(b"filelink", b"pwned")])).unwrap();
    assert!(fs::symlink_metadata(sb.dest.join("filelink"))
        .unwrap()
        .is_file());
    // So does one over a hard link to a file outside.
    fs::hard_link(sb.sentinel.join("canary"), sb.dest.join("hard")).unwrap();
    sb.unpack(&archive(&[file(b"hard", b"pwned")])).unwrap();
    sb.assert_untouched();
}

#[test]
fn oversized_long_name_is_refused_with_bounded_memory() {
    let sb = Sandbox::new();
    let name = vec![b'a'; 2 << 20];
    let mut l = raw(b"././@LongLink", EntryType::GNULongName, b"", &name, 0o644);
    l.extend(file(b"x", b"x"));
    let err = sb.unpack(&archive(&[file(b"first", b"1"), l])).unwrap_err();
    assert!(
        matches!(&err, TransferError::MetadataTooLarge { after, .. } if after == "first"),
        "{err}"
    );
    sb.assert_untouched();
}

#[test]
fn truncated_stream_names_the_entry() {
    let sb = Sandbox::new();
    let mut entry = raw(b"big", EntryType::Regular, b"", &[7; 100], 0o644);
    entry[124..136].copy_from_slice(b"00000023420\0"); // size 10000
    let mut h = Header::from_byte_slice(&entry[..512]).clone();
    h.set_cksum();
    entry[..512].copy_from_slice(h.as_bytes());
    let err = sb.unpack(&entry).unwrap_err();
    assert!(
        matches!(&err, TransferError::Archive { after, .. } if after == "big"),
        "{err}"
    );
}

#[test]
fn destination_must_be_a_directory() {
    let sb = Sandbox::new();
    let err = unpack_into(&archive(&[])[..], &sb.sentinel.join("canary")).unwrap_err();
    assert!(matches!(err, TransferError::BadDestination { .. }), "{err}");
    let err = unpack_into(&archive(&[])[..], &sb.sentinel.join("missing")).unwrap_err();
    assert!(matches!(err, TransferError::BadDestination { .. }), "{err}");
}

#[test]
fn entries_never_replace_directories() {
    let sb = Sandbox::new();
    let dir = raw(b"d/", EntryType::Directory, b"", b"", 0o755);
    assert_refused(sb.unpack(&archive(&[dir, file(b"d", b"x")])), "d");
    let link = raw(b"d", EntryType::Symlink, &sb.outside(""), b"", 0o777);
    assert_refused(sb.unpack(&archive(&[link])), "d");
    assert_refused(sb.unpack(&archive(&[file(b".", b"x")])), ".");
}

#[test]
fn read_only_directory_is_filled_then_closed() {
    let sb = Sandbox::new();
    let dest_mode = fs::metadata(&sb.dest).unwrap().mode();
    let dot = raw(b"./", EntryType::Directory, b"", b"", 0o700);
    let ro = raw(b"ro/", EntryType::Directory, b"", b"", 0o555);
    let sub = raw(b"ro/sub/", EntryType::Directory, b"", b"", 0o500);
    let entries = [
        dot,
        ro,
        sub,
        file(b"ro/sub/g", b"g"),
        file(b"ro/f", b"inside"),
    ];
    let s = sb
        .unpack(&archive(&[&entries[..], &[file(b"next", b"n")]].concat()))
        .unwrap();
    assert_eq!((s.dirs, s.files), (2, 3));
    for (dir, mode) in [("ro", 0o555), ("ro/sub", 0o500)] {
        let meta = fs::metadata(sb.dest.join(dir)).unwrap();
        assert_eq!(
            (meta.mode() & 0o777, meta.mtime()),
            (mode & !umask(), 1_500_000_000),
            "{dir}"
        );
    }
    assert_eq!(fs::read(sb.dest.join("ro/f")).unwrap(), b"inside");
    // `./` left the destination's own mode alone.
    assert_eq!(fs::metadata(&sb.dest).unwrap().mode(), dest_mode);
}

// What tar::Entry::unpack_in does on its own (tar 0.4.46).

fn crate_unpack_in(sb: &Sandbox, entries: &[Vec<u8>]) -> Vec<std::io::Result<bool>> {
    let bytes = archive(entries);
    let mut ar = tar::Archive::new(&bytes[..]);
    let entries = ar.entries().unwrap();
    entries.map(|e| e.unwrap().unpack_in(&sb.dest)).collect()
}

#[test]
fn tar_crate_unpack_in_skips_dotdot_silently() {
    let sb = Sandbox::new();
    let r = crate_unpack_in(&sb, &[file(b"../escape", b"x")]);
    assert!(matches!(r[..], [Ok(false)]), "{r:?}");
    sb.assert_untouched();
}

#[test]
fn tar_crate_unpack_in_rewrites_absolute_paths() {
    let sb = Sandbox::new();
    let abs = sb.outside("pwned");
    let r = crate_unpack_in(&sb, &[file(&abs, b"x")]);
    assert!(matches!(r[..], [Ok(true)]), "{r:?}");
    let rel = Path::new(std::str::from_utf8(&abs).unwrap())
        .strip_prefix("/")
        .unwrap();
    assert!(sb.dest.join(rel).is_file());
    sb.assert_untouched();
}

#[test]
fn tar_crate_unpack_in_blocks_writes_through_symlinks() {
    let sb = Sandbox::new();
    let evil = raw(b"evil", EntryType::Symlink, &sb.outside(""), b"", 0o777);
    let r = crate_unpack_in(&sb, &[evil, file(b"evil/pwned", b"x")]);
    assert!(matches!(r[..], [Ok(true), Err(_)]), "{r:?}");
    sb.assert_untouched();
}

#[test]
fn tar_crate_unpack_in_makes_devices_regular_files() {
    let sb = Sandbox::new();
    let r = crate_unpack_in(&sb, &[raw(b"null", EntryType::Char, b"", b"", 0o666)]);
    assert!(matches!(r[..], [Ok(true)]), "{r:?}");
    assert!(fs::symlink_metadata(sb.dest.join("null"))
        .unwrap()
        .is_file());
}

#[test]
fn sparse_entries_stay_sparse() {
    use std::io::{Seek, SeekFrom, Write};
    let sb = Sandbox::new();
    let src = sb.tmp.path().join("sparse");
    let mut f = fs::File::create(&src).unwrap();
    f.write_all(b"head").unwrap();
    f.seek(SeekFrom::Start(64 << 20)).unwrap();
    f.write_all(b"tail").unwrap();
    // tar::Builder stores holes as a GNU sparse map (what an appliance
    // using the tar crate would send).
    let mut b = tar::Builder::new(Vec::new());
    b.append_path_with_name(&src, "sparse").unwrap();
    let bytes = b.into_inner().unwrap();
    fs::remove_file(&src).unwrap();
    assert!(bytes.len() < 1 << 20);
    let s = sb.unpack(&bytes).unwrap();
    let out = sb.dest.join("sparse");
    let meta = fs::metadata(&out).unwrap();
    assert_eq!((s.bytes, meta.len()), ((64 << 20) + 4, (64 << 20) + 4));
    assert!(meta.blocks() * 512 < 1 << 20, "holes were written out");
    let data = fs::read(&out).unwrap();
    assert_eq!(
        (&data[..4], &data[64 << 20..]),
        (&b"head"[..], &b"tail"[..])
    );
}
