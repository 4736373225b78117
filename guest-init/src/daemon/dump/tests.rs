//! equal, is_zero, strings, strings_e and hexdump, compared with the
//! host's cmp-free truth, strings(1) and hexdump(1).

use std::fs;
use std::path::Path;
use std::process::Command;

use protocol::{calls, Daemon, ErrorKind};

use crate::daemon::state::GuestDaemon;
use crate::daemon::tests::{each_fs, p, LoopFs, TestIo};
use crate::daemon::util::CHUNK;

fn io() -> TestIo {
    TestIo::default()
}

fn equal(d: &mut GuestDaemon, a: &str, b: &str) -> bool {
    d.equal(
        &mut io(),
        calls::equal::Args {
            file1: p(a),
            file2: p(b),
        },
    )
    .unwrap()
}

fn is_zero(d: &mut GuestDaemon, path: &str) -> bool {
    d.is_zero(&mut io(), calls::is_zero::Args { path: p(path) })
        .unwrap()
}

#[test]
fn equal_and_is_zero() {
    each_fs(|fstype, d, root| {
        let big: Vec<u8> = (0..CHUNK * 2 + 7).map(|i| (i % 251) as u8).collect();
        fs::write(root.join("a"), &big).unwrap();
        fs::write(root.join("b"), &big).unwrap();
        let mut c = big.clone();
        *c.last_mut().unwrap() ^= 1;
        fs::write(root.join("c"), &c).unwrap();
        fs::write(root.join("short"), &big[..CHUNK]).unwrap();
        assert!(equal(d, "/a", "/b"), "{fstype}");
        assert!(!equal(d, "/a", "/c"), "{fstype}");
        assert!(!equal(d, "/a", "/short"));
        assert!(equal(d, "/a", "/a"));
        let e = d.equal(
            &mut io(),
            calls::equal::Args {
                file1: p("/a"),
                file2: p("/nope"),
            },
        );
        assert_eq!(e.unwrap_err().errno, libc::ENOENT);

        fs::write(root.join("empty"), b"").unwrap();
        let mut zeros = vec![0u8; CHUNK + 100];
        fs::write(root.join("zeros"), &zeros).unwrap();
        zeros[CHUNK + 50] = 1;
        fs::write(root.join("late"), &zeros).unwrap();
        assert!(is_zero(d, "/empty") && is_zero(d, "/zeros"), "{fstype}");
        assert!(!is_zero(d, "/late") && !is_zero(d, "/a"));
        // A sparse file reads as zeroes.
        let f = fs::File::create(root.join("sparse")).unwrap();
        f.set_len(3 << 20).unwrap();
        assert!(is_zero(d, "/sparse"));
    });
}

fn host(cmd: &str, args: &[&str], file: &Path) -> String {
    let out = Command::new(cmd)
        .args(args)
        .arg(file)
        .output()
        .unwrap_or_else(|e| panic!("{cmd}: {e} (see scripts/setup.sh)"));
    assert!(
        out.status.success(),
        "{cmd}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Text in every encoding strings knows, at odd and even offsets, some
/// runs too short, tabs and high bytes, with one string across the
/// daemon's read pieces.
fn strings_sample() -> Vec<u8> {
    let mut v = Vec::new();
    v.extend_from_slice(b"\x00\x01hello world\x00abc\x00tab\there\x7f\xffhigh\xe9t\xe9 bytes\n");
    for s in ["utf16 little", "x", "another one"] {
        v.push(0);
        v.extend(s.bytes().flat_map(|b| [b, 0]));
    }
    v.push(0x41); // odd alignment from here
    for s in ["utf16 big", "ab", "again"] {
        v.extend(s.bytes().flat_map(|b| [0, b]));
        v.extend_from_slice(&[0, 0]);
    }
    for s in ["thirty-two LE", "zz"] {
        v.extend(s.bytes().flat_map(|b| [b, 0, 0, 0]));
        v.extend_from_slice(&[1, 2, 3]);
    }
    v.extend(b"thirty-two BE".iter().flat_map(|b| [0, 0, 0, *b]));
    v.resize(CHUNK - 5, 0xee);
    v.extend(
        b"straddling the piece boundary"
            .iter()
            .flat_map(|b| [*b, 0]),
    );
    for i in 0..20000u32 {
        v.extend_from_slice(&i.to_le_bytes());
        if i % 97 == 0 {
            v.extend_from_slice(b"marker text");
        }
    }
    v.extend_from_slice(b"ends without a terminator");
    v
}

#[test]
fn strings_match_binutils() {
    let mut fs_ = LoopFs::new("ext4", 64, "STRINGS");
    let mut d = fs_.daemon();
    let root = fs_.mountpoint.as_ref().unwrap().path().to_path_buf();
    let file = root.join("bin");
    fs::write(&file, strings_sample()).unwrap();
    let lines = |text: String| -> Vec<String> { text.lines().map(str::to_owned).collect() };
    let got = d
        .strings(&mut io(), calls::strings::Args { path: p("/bin") })
        .unwrap();
    assert_eq!(got, lines(host("strings", &["-a"], &file)));
    assert!(got.contains(&"hello world".to_owned()), "{got:?}");
    for enc in ["s", "S", "b", "l", "B", "L"] {
        let args = calls::strings_e::Args {
            encoding: enc.into(),
            path: p("/bin"),
        };
        let got = d.strings_e(&mut io(), args).unwrap();
        let want = lines(host("strings", &["-a", "-e", enc], &file));
        assert_eq!(got, want, "strings -e {enc}");
        assert!(!got.is_empty(), "strings -e {enc}");
    }
    let args = calls::strings_e::Args {
        encoding: "x".into(),
        path: p("/bin"),
    };
    let e = d.strings_e(&mut io(), args).unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidArgument);
    fs::write(root.join("empty"), b"").unwrap();
    assert!(d
        .strings(&mut io(), calls::strings::Args { path: p("/empty") })
        .unwrap()
        .is_empty());
}

#[test]
fn hexdump_matches_hexdump_c() {
    let mut fs_ = LoopFs::new("ext4", 64, "HEXDUMP");
    let mut d = fs_.daemon();
    let root = fs_.mountpoint.as_ref().unwrap().path().to_path_buf();
    let mut patterned: Vec<u8> = (0..=255u8).cycle().take(5000).collect();
    patterned.extend(std::iter::repeat_n(0u8, 4096));
    patterned.extend(b"Hello, world!\n".repeat(30));
    patterned.extend(std::iter::repeat_n(b'A', 33));
    let mut squeezed_tail = vec![7u8; 64];
    squeezed_tail.extend([7u8; 5]);
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("empty", vec![]),
        ("one", vec![0x41]),
        ("sixteen", (0..16).collect()),
        ("seventeen", (0..17).collect()),
        ("zeros40", vec![0; 40]),
        ("zeros48", vec![0; 48]),
        ("squeezed_tail", squeezed_tail),
        ("patterned", patterned),
        ("big", (0..200_000u32).map(|i| (i / 4096) as u8).collect()),
    ];
    for (name, data) in cases {
        let file = root.join(name);
        fs::write(&file, &data).unwrap();
        let got = d
            .hexdump(
                &mut io(),
                calls::hexdump::Args {
                    path: p(&format!("/{name}")),
                },
            )
            .unwrap();
        assert_eq!(got, host("hexdump", &["-C"], &file), "{name}");
    }
    // A dump over the message limit is refused, not truncated.
    let f = fs::File::create(root.join("huge")).unwrap();
    let noisy: Vec<u8> = (0..(2u32 << 20))
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    std::io::Write::write_all(&mut &f, &noisy).unwrap();
    let e = d
        .hexdump(&mut io(), calls::hexdump::Args { path: p("/huge") })
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::TooLarge);
}
