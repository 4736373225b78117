//! Every mutating call through symlinks that point out of the root
//! (absolute, `..` chains, a symlinked parent directory) acts inside the
//! root and leaves the host alone.

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use protocol::{calls, Daemon, ErrorReply};

use super::{chmod, chown, cp, cp_a, errno, io, ln_s, mkdir, mkdir_p, mv, rm_rf, utimens};
use crate::daemon::state::GuestDaemon;
use crate::daemon::tests::{each_fs, p, TestIo};

/// Snapshot of a host directory: names, contents, modes, owners, mtimes.
fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>, u32, u32, i64)> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let m = fs::symlink_metadata(entry.path()).unwrap();
        let data = if m.is_file() {
            fs::read(entry.path()).unwrap()
        } else {
            Vec::new()
        };
        out.push((
            entry.file_name().to_string_lossy().into_owned(),
            data,
            m.mode(),
            m.uid(),
            m.mtime(),
        ));
    }
    out.sort();
    out
}

#[test]
fn symlinks_never_leave_the_root() {
    each_fs(|fstype, d, root| {
        if fstype == "vfat" {
            assert_eq!(errno(ln_s(d, "/etc", "/etclink")), libc::EPERM);
            return;
        }
        let outside = tempfile::tempdir().unwrap();
        let out = outside.path();
        fs::write(out.join("secret"), "host").unwrap();
        fs::create_dir(out.join("sub")).unwrap();
        let before = snapshot(out);
        let marker = format!("libguest-escape-test-{}", std::process::id());

        fs::create_dir_all(root.join("etc")).unwrap();
        fs::create_dir_all(root.join("real")).unwrap();
        ln_s(d, "/etc", "/etclink").unwrap();
        ln_s(d, "../../../../../..", "/up").unwrap();
        ln_s(d, out.to_str().unwrap(), "/out").unwrap();
        ln_s(d, "/real", "/subdir").unwrap();
        ln_s(d, &format!("/{marker}"), "/dangling").unwrap();

        write_str(d, &format!("/etclink/{marker}"), "guest");
        assert!(root.join("etc").join(&marker).exists());
        assert!(!Path::new("/etc").join(&marker).exists());
        write_str(d, &format!("/up/{marker}"), "guest");
        write_str(d, &format!("/up/up/../up/{marker}2"), "guest");
        assert!(root.join(&marker).exists() && root.join(format!("{marker}2")).exists());
        assert!(!Path::new("/").join(&marker).exists());
        write_str(d, "/subdir/file", "guest");
        assert_eq!(fs::read(root.join("real/file")).unwrap(), b"guest");
        // Writing through a dangling absolute link creates its target in the root.
        write_str(d, "/dangling", "guest");
        assert!(root.join(&marker).exists());

        let o = out.to_str().unwrap();
        let through = |rest: &str| format!("/out{rest}");
        let host_path = format!("/up{o}/secret");
        let _ = write_str_res(d, &through("/secret"), "changed");
        let _ = write_str_res(d, &host_path, "changed");
        let _ = mkdir(d, &through("/newdir"));
        let _ = mkdir_p(d, &format!("/up{o}/a/b"));
        let _ = rm_rf(d, &through("/sub"));
        let _ = rm_rf(d, &format!("/up{o}/secret"));
        let _ = chmod(d, 0o777, &through("/secret"));
        let _ = chown(d, 99, 99, &format!("/up{o}/secret"));
        let _ = utimens(d, &through("/secret"), (1, 0), (1, 0));
        let _ = d.touch(
            &mut io(),
            calls::touch::Args {
                path: p(&through("/secret")),
            },
        );
        let _ = d.truncate(
            &mut io(),
            calls::truncate::Args {
                path: p(&host_path),
            },
        );
        let _ = cp(d, "/subdir/file", &through("/secret"));
        let _ = cp_a(d, "/real", &through("/sub"));
        let _ = mv(d, "/subdir/file", &through("/moved"));
        let _ = ln_s(d, "x", &through("/newlink"));
        let _ = d.rm(
            &mut io(),
            calls::rm::Args {
                path: p(&through("/secret")),
            },
        );
        let mut up = TestIo::default();
        up.input.push_back(b"changed".to_vec());
        let _ = d.upload(
            &mut up,
            calls::upload::Args {
                remotefilename: p(&host_path),
            },
        );
        // The link itself is what rm_rf removes.
        rm_rf(d, "/out").unwrap();
        assert!(!root.join("out").exists());

        assert_eq!(snapshot(out), before, "the host directory is unchanged");
        assert!(!Path::new("/etc").join(&marker).exists());
        assert!(!Path::new("/").join(&marker).exists());
        // What could be done happened inside the root.
        assert!(root.join(o.trim_start_matches('/')).join("a/b").is_dir());
    });
}

fn write_str_res(d: &mut GuestDaemon, path: &str, text: &str) -> Result<(), ErrorReply> {
    d.write(
        &mut io(),
        calls::write::Args {
            path: p(path),
            content: text.as_bytes().to_vec(),
        },
    )
}

fn write_str(d: &mut GuestDaemon, path: &str, text: &str) {
    write_str_res(d, path, text).unwrap_or_else(|e| panic!("write {path}: {e:?}"));
}
