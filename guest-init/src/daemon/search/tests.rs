//! checksum and grep on real ext4, xfs and vfat filesystems.

use std::fs;

use protocol::{calls, Daemon, ErrorKind, ErrorReply};
use sha2::Digest;

use super::MAX_PATTERN;
use crate::daemon::state::GuestDaemon;
use crate::daemon::tests::{each_fs, p, TestIo};
use crate::daemon::util::MAX_DATA;

fn checksum(d: &mut GuestDaemon, kind: &str, path: &str) -> Result<String, ErrorReply> {
    d.checksum(
        &mut TestIo::default(),
        calls::checksum::Args {
            csumtype: kind.into(),
            path: p(path),
        },
    )
}

#[derive(Default)]
struct Opts {
    extended: Option<bool>,
    fixed: Option<bool>,
    insensitive: Option<bool>,
    compressed: Option<bool>,
}

fn grep(d: &mut GuestDaemon, regex: &str, path: &str, o: Opts) -> Result<Vec<String>, ErrorReply> {
    d.grep(
        &mut TestIo::default(),
        calls::grep::Args {
            regex: regex.into(),
            path: p(path),
            extended: o.extended,
            fixed: o.fixed,
            insensitive: o.insensitive,
            compressed: o.compressed,
        },
    )
}

#[test]
fn checksums() {
    each_fs(|fstype, d, root| {
        fs::write(root.join("abc"), "abc").unwrap();
        let known = [
            ("md5", "900150983cd24fb0d6963f7d28e17f72"),
            ("sha1", "a9993e364706816aba3e25717850c26c9cd0d89d"),
            ("sha224", "23097d223405d8228642a477bda255b32aadbce4bda0b3f7e36c9da7"),
            ("sha256", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
            (
                "sha384",
                "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7",
            ),
            (
                "sha512",
                "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
            ),
        ];
        for (kind, want) in known {
            assert_eq!(checksum(d, kind, "/abc").unwrap(), want, "{fstype} {kind}");
        }
        assert_eq!(checksum(d, "SHA256", "/abc").unwrap(), known[3].1);

        // Several reads' worth.
        let data: Vec<u8> = (0..(5usize << 20) / 2).map(|i| (i % 253) as u8).collect();
        fs::write(root.join("big"), &data).unwrap();
        let want: String = sha2::Sha256::digest(&data)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(checksum(d, "sha256", "/big").unwrap(), want);

        let e = checksum(d, "crc", "/abc").unwrap_err();
        assert_eq!(e.kind, ErrorKind::InvalidArgument);
        assert!(e.message.contains("sha512"), "{}", e.message);
        assert_eq!(checksum(d, "md5", "/none").unwrap_err().errno, libc::ENOENT);
        fs::create_dir(root.join("dir")).unwrap();
        assert_eq!(checksum(d, "md5", "/dir").unwrap_err().errno, libc::EISDIR);
        let mut cancelled = TestIo {
            cancel: true,
            ..Default::default()
        };
        let e = d
            .checksum(
                &mut cancelled,
                calls::checksum::Args {
                    csumtype: "md5".into(),
                    path: p("/big"),
                },
            )
            .unwrap_err();
        assert_eq!(e.kind, ErrorKind::Cancelled);
    });
}

#[test]
fn grepping() {
    each_fs(|fstype, d, root| {
        fs::write(root.join("text"), "alpha\nBeta\ngamma\r\na.b\n\nlast").unwrap();
        let none = Opts::default;
        assert_eq!(
            grep(d, "^[ab]", "/text", none()).unwrap(),
            ["alpha", "a.b"],
            "{fstype}"
        );
        assert_eq!(
            grep(
                d,
                "^[ab]",
                "/text",
                Opts {
                    insensitive: Some(true),
                    ..none()
                }
            )
            .unwrap(),
            ["alpha", "Beta", "a.b"]
        );
        assert_eq!(
            grep(d, "a$", "/text", none()).unwrap(),
            ["alpha", "Beta"],
            "CR stays in the line"
        );
        assert_eq!(grep(d, "gamma", "/text", none()).unwrap(), ["gamma\r"]);
        // compressed: as zgrep, gzip, bzip2 and xz, and plain files too.
        let text = b"one\ntwo\nthree\n";
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        std::io::Write::write_all(&mut gz, text).unwrap();
        fs::write(root.join("t.gz"), gz.finish().unwrap()).unwrap();
        let mut bz = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::default());
        std::io::Write::write_all(&mut bz, text).unwrap();
        fs::write(root.join("t.bz2"), bz.finish().unwrap()).unwrap();
        let mut xz = xz2::write::XzEncoder::new(Vec::new(), 6);
        std::io::Write::write_all(&mut xz, text).unwrap();
        fs::write(root.join("t.xz"), xz.finish().unwrap()).unwrap();
        let compressed = || Opts {
            compressed: Some(true),
            ..none()
        };
        for file in ["/t.gz", "/t.bz2", "/t.xz"] {
            assert_eq!(
                grep(d, "^t", file, compressed()).unwrap(),
                ["two", "three"],
                "{file}"
            );
        }
        assert!(
            grep(d, "^t", "/t.gz", none()).unwrap().is_empty(),
            "read raw"
        );
        assert_eq!(grep(d, "^g", "/text", compressed()).unwrap(), ["gamma\r"]);
        assert_eq!(
            grep(
                d,
                "a.b",
                "/text",
                Opts {
                    fixed: Some(true),
                    ..none()
                }
            )
            .unwrap(),
            ["a.b"]
        );
        assert_eq!(grep(d, "^$", "/text", none()).unwrap(), [""]);
        assert_eq!(
            grep(d, "st$", "/text", none()).unwrap(),
            ["last"],
            "a last line without newline"
        );
        assert_eq!(
            grep(
                d,
                "a|e",
                "/text",
                Opts {
                    extended: Some(true),
                    ..none()
                }
            )
            .unwrap()
            .len(),
            5
        );
        assert!(grep(d, "zzz", "/text", none()).unwrap().is_empty());

        fs::write(root.join("bin"), b"\xff\xfeneedle\x00\nnothing\n").unwrap();
        assert_eq!(
            grep(d, "needle", "/bin", none()).unwrap(),
            ["\u{fffd}\u{fffd}needle\0"]
        );

        let invalid = |r: Result<Vec<String>, ErrorReply>| r.unwrap_err().kind;
        assert_eq!(
            invalid(grep(
                d,
                "a",
                "/text",
                Opts {
                    extended: Some(true),
                    fixed: Some(true),
                    ..none()
                }
            )),
            ErrorKind::InvalidArgument
        );
        assert_eq!(
            invalid(grep(d, "(", "/text", none())),
            ErrorKind::InvalidArgument
        );
        assert_eq!(
            invalid(grep(d, &"a".repeat(MAX_PATTERN + 1), "/text", none())),
            ErrorKind::InvalidArgument
        );
        // Compiles far past the size limit.
        assert_eq!(
            invalid(grep(d, r"\w{1000}{1000}", "/text", none())),
            ErrorKind::InvalidArgument
        );
        assert_eq!(
            grep(d, "a", "/none", none()).unwrap_err().errno,
            libc::ENOENT
        );

        // Results and lines over the message limit.
        fs::write(root.join("many"), "xy\n".repeat(MAX_DATA / 2)).unwrap();
        assert_eq!(invalid(grep(d, "x", "/many", none())), ErrorKind::TooLarge);
        assert_eq!(grep(d, "z", "/many", none()).unwrap().len(), 0);
        fs::write(root.join("long"), vec![b'x'; MAX_DATA + 10]).unwrap();
        assert_eq!(invalid(grep(d, "y", "/long", none())), ErrorKind::TooLarge);

        let mut cancelled = TestIo {
            cancel: true,
            ..Default::default()
        };
        let e = d
            .grep(
                &mut cancelled,
                calls::grep::Args {
                    regex: "x".into(),
                    path: p("/many"),
                    extended: None,
                    fixed: None,
                    insensitive: None,
                    compressed: None,
                },
            )
            .unwrap_err();
        assert_eq!(e.kind, ErrorKind::Cancelled);
    });
}
