//! The stream calls on a real ext4 tree, checked with the host's cpio,
//! base64, gzip, xz and sha256sum.

use std::fs;
use std::io::Write;
use std::os::unix::fs::symlink;
use std::path::Path;
use std::process::{Command, Stdio};

use protocol::types::Device;
use protocol::{calls, Daemon, ErrorKind};

use crate::daemon::state::GuestDaemon;
use crate::daemon::tests::{p, LoopFs, TestIo};

/// Runs a host tool with `input` on stdin; its stdout.
fn pipe(tool: &str, args: &[&str], dir: &Path, input: &[u8]) -> (Vec<u8>, String) {
    let mut child = Command::new(tool)
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{tool}: {e} (see scripts/setup.sh)"));
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_vec();
    let feeder = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let out = child.wait_with_output().unwrap();
    feeder.join().unwrap();
    assert!(
        out.status.success(),
        "{tool} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (
        out.stdout,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn tree(root: &Path) {
    fs::create_dir_all(root.join("d/e")).unwrap();
    fs::write(root.join("a"), "hello\n").unwrap();
    fs::write(root.join("d/odd"), b"12345").unwrap();
    fs::write(root.join("d/e/empty"), b"").unwrap();
    let big: Vec<u8> = (0..3_000_000u32).map(|i| (i * 7 % 251) as u8).collect();
    fs::write(root.join("d/big"), big).unwrap();
    symlink("../a", root.join("d/link")).unwrap();
    symlink("/nowhere", root.join("dangling")).unwrap();
    fs::write(root.join("back\\slash"), "b").unwrap();
    fs::write(root.join("new\nline"), "n").unwrap();
}

fn guest() -> (LoopFs, GuestDaemon) {
    let mut fs = LoopFs::new("ext4", 64, "OUT");
    let d = fs.daemon();
    tree(d.root.path());
    (fs, d)
}

#[test]
fn cpio_out_unpacks_with_cpio() {
    let (_fs, mut d) = guest();
    let root = d.root.path().to_path_buf();
    for format in [None, Some("newc"), Some("crc")] {
        let mut io = TestIo::default();
        let args = calls::cpio_out::Args {
            directory: p("/"),
            format: format.map(str::to_owned),
        };
        d.cpio_out(&mut io, args).unwrap();
        let magic = if format == Some("crc") {
            "070702"
        } else {
            "070701"
        };
        assert_eq!(&io.output[..6], magic.as_bytes());
        let out = tempfile::tempdir().unwrap();
        let (_, stderr) = pipe("cpio", &["-idm", "--quiet"], out.path(), &io.output);
        assert!(!stderr.contains("checksum"), "{format:?}: {stderr}");
        // Same names as find lists, same contents, links kept.
        let (listing, _) = pipe("cpio", &["-t", "--quiet"], out.path(), &io.output);
        let mut listed: Vec<&[u8]> = listing
            .split(|&b| b == b'\n')
            .filter(|l| !l.is_empty())
            .collect();
        listed.sort();
        let found = Command::new("find")
            .arg(".")
            .current_dir(&root)
            .output()
            .unwrap()
            .stdout;
        let mut found: Vec<&[u8]> = found
            .split(|&b| b == b'\n')
            .filter(|l| !l.is_empty())
            .collect();
        found.retain(|l| !l.starts_with(b"./lost+found/"));
        found.sort();
        // The newline name is split in both listings alike.
        assert_eq!(listed, found, "{format:?}");
        for f in [
            "a",
            "d/odd",
            "d/big",
            "d/e/empty",
            "back\\slash",
            "new\nline",
        ] {
            assert_eq!(
                fs::read(out.path().join(f)).unwrap(),
                fs::read(root.join(f)).unwrap(),
                "{f}"
            );
        }
        assert_eq!(
            fs::read_link(out.path().join("d/link")).unwrap(),
            Path::new("../a")
        );
        assert_eq!(
            fs::read_link(out.path().join("dangling")).unwrap(),
            Path::new("/nowhere")
        );
    }
    let args = calls::cpio_out::Args {
        directory: p("/"),
        format: Some("odc".into()),
    };
    let e = d.cpio_out(&mut TestIo::default(), args).unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidArgument);
}

#[test]
fn base64_both_ways() {
    let (_fs, mut d) = guest();
    let root = d.root.path().to_path_buf();
    for f in ["/a", "/d/odd", "/d/big", "/d/e/empty"] {
        let mut io = TestIo::default();
        let args = calls::base64_out::Args { filename: p(f) };
        d.base64_out(&mut io, args).unwrap();
        let host = Command::new("base64")
            .arg(root.join(&f[1..]))
            .output()
            .unwrap()
            .stdout;
        assert_eq!(io.output, host, "{f}");
        // Back in, split at odd places.
        let mut io = TestIo::default();
        for piece in host.chunks(777) {
            io.input.push_back(piece.to_vec());
        }
        let args = calls::base64_in::Args {
            filename: p("/copy"),
        };
        d.base64_in(&mut io, args).unwrap();
        assert_eq!(
            fs::read(root.join("copy")).unwrap(),
            fs::read(root.join(&f[1..])).unwrap()
        );
    }
    let mut io = TestIo::default();
    io.input.push_back(b"Zm9v*".to_vec());
    io.input.push_back(b"more".to_vec());
    let args = calls::base64_in::Args {
        filename: p("/bad"),
    };
    let e = d.base64_in(&mut io, args).unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidArgument);
    assert!(e.message.contains("invalid base64"), "{}", e.message);
    assert!(io.input.is_empty(), "the stream is read to its end");
}

#[test]
fn compress_out_gzip_xz() {
    let (_fs, mut d) = guest();
    let root = d.root.path().to_path_buf();
    let want = fs::read(root.join("d/big")).unwrap();
    for (ctype, tool, level) in [
        ("gzip", "gzip", None),
        ("gzip", "gzip", Some(1)),
        ("xz", "xz", Some(9)),
        ("bzip2", "bzip2", None),
        ("bzip2", "bzip2", Some(1)),
        ("lzop", "lzop", Some(9)),
        ("compress", "compress", None),
    ] {
        let mut io = TestIo::default();
        let args = calls::compress_out::Args {
            ctype: ctype.into(),
            file: p("/d/big"),
            level,
        };
        d.compress_out(&mut io, args).unwrap();
        assert!(io.output.len() < want.len() / 2, "{ctype} compresses");
        let args: &[&str] = if tool == "uncompress" {
            &["-c"]
        } else {
            &["-dc"]
        };
        let (plain, _) = pipe(tool, args, &root, &io.output);
        assert_eq!(plain, want, "{ctype} {level:?}");
    }
    for (ctype, level, text) in [
        ("bzip2", Some(0), "1 to 9"),
        ("compress", Some(5), "no compression levels"),
        ("zip", None, "unknown"),
        ("gzip", Some(10), "out of range"),
    ] {
        let args = calls::compress_out::Args {
            ctype: ctype.into(),
            file: p("/a"),
            level,
        };
        let e = d.compress_out(&mut TestIo::default(), args).unwrap_err();
        assert_eq!(e.kind, ErrorKind::InvalidArgument);
        assert!(e.message.contains(text), "{}", e.message);
    }
}

#[test]
fn compress_device_out_reads_the_device() {
    let dev = LoopFs::new("ext4", 16, "DEV");
    let mut d = GuestDaemon::new(crate::daemon::root::Root::new("/nonexistent"));
    let mut io = TestIo::default();
    let args = calls::compress_device_out::Args {
        ctype: "gzip".into(),
        device: Device::new(&dev.device).unwrap(),
        level: None,
    };
    d.compress_device_out(&mut io, args).unwrap();
    let (plain, _) = pipe("gzip", &["-dc"], Path::new("/"), &io.output);
    assert_eq!(plain, fs::read(dev.image.path()).unwrap());
}

#[test]
fn checksums_out_matches_sha256sum() {
    let (_fs, mut d) = guest();
    let root = d.root.path().to_path_buf();
    let mut io = TestIo::default();
    let args = calls::checksums_out::Args {
        csumtype: "sha256".into(),
        directory: p("/d"),
    };
    d.checksums_out(&mut io, args).unwrap();
    let host = Command::new("sh")
        .args(["-c", "find . -type f -print0 | xargs -0 sha256sum"])
        .current_dir(root.join("d"))
        .output()
        .unwrap()
        .stdout;
    let sorted = |b: &[u8]| {
        let mut l: Vec<Vec<u8>> = b.split(|&c| c == b'\n').map(<[u8]>::to_vec).collect();
        l.sort();
        l
    };
    assert_eq!(sorted(&io.output), sorted(&host));
    // Escaped names, as coreutils writes them.
    let mut io = TestIo::default();
    let args = calls::checksums_out::Args {
        csumtype: "md5".into(),
        directory: p("/"),
    };
    d.checksums_out(&mut io, args).unwrap();
    let host = Command::new("sh")
        .args(["-c", "find . -type f -print0 | xargs -0 md5sum"])
        .current_dir(&root)
        .output()
        .unwrap()
        .stdout;
    assert_eq!(sorted(&io.output), sorted(&host));
    let text = String::from_utf8_lossy(&io.output).into_owned();
    assert!(
        text.contains("  ./new\\nline\n") && text.contains("  ./back\\\\slash\n"),
        "{text}"
    );
    let args = calls::checksums_out::Args {
        csumtype: "sha3".into(),
        directory: p("/"),
    };
    assert!(d.checksums_out(&mut TestIo::default(), args).is_err());
}
