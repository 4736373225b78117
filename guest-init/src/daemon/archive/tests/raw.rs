//! tar_in of hand-made archives a hostile host could send: names that
//! climb out, symlinks and hard links leading out; and pax xattrs.

use std::os::unix::fs::{symlink, MetadataExt};

use super::*;

/// A raw archive entry, names unchecked (as a hostile host could send).
fn raw(name: &str, kind: u8, link: &str, data: &[u8]) -> Vec<u8> {
    let mut h = tar::Header::new_gnu();
    h.as_old_mut().name[..name.len()].copy_from_slice(name.as_bytes());
    h.as_old_mut().linkname[..link.len()].copy_from_slice(link.as_bytes());
    h.set_entry_type(tar::EntryType::new(kind));
    h.set_mode(0o644);
    h.set_uid(0);
    h.set_gid(0);
    h.set_mtime(1_000_000_000);
    h.set_size(data.len() as u64);
    h.set_cksum();
    let mut out = h.as_bytes().to_vec();
    out.extend_from_slice(data);
    out.resize(out.len().div_ceil(512) * 512, 0);
    out
}

fn archive(entries: &[Vec<u8>]) -> Vec<u8> {
    let mut out = entries.concat();
    out.extend_from_slice(&[0; 1024]);
    out.extend_from_slice(&vec![0xAB; 200_000]); // trailing junk is drained too
    out
}

#[test]
fn hostile_archives_are_refused() {
    on_real_fs(|fstype, d, root| {
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret"), b"host").unwrap();
        std::fs::create_dir_all(root.join("guest/dst")).unwrap();
        std::fs::write(root.join("guest/secret"), b"guest").unwrap();
        symlink(outside.path(), root.join("guest/dst/out")).unwrap();
        let host_secret = outside.path().join("secret");
        let out_dir = outside.path().to_str().unwrap();
        let (escape, dotdot, absolute) = ("leads out of the target", "containing ..", "absolute");
        let cases: Vec<(&str, &str, Vec<Vec<u8>>)> = vec![
            (
                "dotdot",
                dotdot,
                vec![
                    raw("ok", b'0', "", b"fine"),
                    raw("../x", b'0', "", b"pwned"),
                ],
            ),
            ("absolute", absolute, vec![raw("/x", b'0', "", b"pwned")]),
            (
                "pre-existing symlink",
                escape,
                vec![raw("out/x", b'0', "", b"pwned")],
            ),
            (
                "through a new symlink",
                escape,
                vec![raw("l", b'2', out_dir, b""), raw("l/x", b'0', "", b"p")],
            ),
            (
                "relative escape",
                escape,
                vec![
                    raw("up", b'2', "../..", b""),
                    raw("up/guest/x", b'0', "", b"p"),
                ],
            ),
            (
                "nested escape",
                escape,
                vec![
                    raw("d/", b'5', "", b""),
                    raw("d/e", b'2', "../..", b""),
                    raw("d/e/x", b'0', "", b"p"),
                ],
            ),
            (
                "hard link out",
                dotdot,
                vec![raw("h", b'1', "../secret", b"")],
            ),
            (
                "hard link via symlink",
                escape,
                vec![raw("h", b'1', "out/secret", b"")],
            ),
            (
                "absolute hard link",
                absolute,
                vec![raw("h", b'1', host_secret.to_str().unwrap(), b"")],
            ),
        ];
        for (what, why, entries) in cases {
            let data = archive(&entries);
            let mut io = feeding(&data, 1000);
            let err = tar_in(d, &mut io, in_args("/guest/dst", None)).expect_err(what);
            assert!(io.input.is_empty(), "{what}: stream not drained");
            assert!(
                err.message.starts_with("tar_in: entry") && err.message.contains(why),
                "{fstype} {what}: {err}"
            );
            assert_eq!(std::fs::read(&host_secret).unwrap(), b"host", "{what}");
            assert_eq!(
                std::fs::metadata(&host_secret).unwrap().nlink(),
                1,
                "{what}"
            );
            assert_eq!(
                std::fs::read(root.join("guest/secret")).unwrap(),
                b"guest",
                "{what}"
            );
            let names: Vec<_> = std::fs::read_dir(outside.path()).unwrap().collect();
            assert_eq!(names.len(), 1, "{what}: something was created outside");
            assert!(
                !root.join("guest/x").exists() && !root.join("x").exists(),
                "{what}"
            );
        }
        // A symlink replaced by a file: the file is new, nothing written through.
        let data = archive(&[
            raw("s", b'2', host_secret.to_str().unwrap(), b""),
            raw("s", b'0', "", b"new"),
        ]);
        tar_in(d, &mut feeding(&data, 512), in_args("/guest/dst", None)).expect("replace symlink");
        assert_eq!(std::fs::read(root.join("guest/dst/s")).unwrap(), b"new");
        assert_eq!(std::fs::read(&host_secret).unwrap(), b"host");
        // A missing target directory, and garbage: errors, stream drained.
        let mut io = feeding(&data, 100);
        assert_eq!(
            tar_in(d, &mut io, in_args("/missing", None))
                .unwrap_err()
                .errno,
            libc::ENOENT
        );
        assert!(io.input.is_empty());
        let mut io = feeding(&[0x55; 5000], 700);
        assert!(tar_in(d, &mut io, in_args("/guest/dst", Some(Compression::Gzip))).is_err());
        assert!(io.input.is_empty());
    });
}

#[test]
fn xattrs_when_asked() {
    on_real_fs(|_, d, root| {
        // A pax record counts its own length digits.
        let body = " SCHILY.xattr.user.note=hello\n";
        let record = format!("{}{body}", body.len() + 2);
        let pax = raw("././@PaxHeader", b'x', "", record.as_bytes());
        let data = archive(&[pax, raw("f", b'0', "", b"data")]);
        std::fs::create_dir(root.join("x1")).unwrap();
        let mut args = in_args("/x1", None);
        args.xattrs = Some(true);
        tar_in(d, &mut feeding(&data, 4096), args).expect("tar_in with xattrs");
        let mut buf = [0u8; 16];
        let n = rustix::fs::getxattr(root.join("x1/f").as_path(), "user.note", &mut buf[..])
            .expect("xattr set");
        assert_eq!(&buf[..n], b"hello");
    });
}
