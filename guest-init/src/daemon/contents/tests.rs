//! head, tail and wc on real ext4, xfs and vfat filesystems.

use std::fs;

use protocol::{calls, Daemon, ErrorKind};

use crate::daemon::state::GuestDaemon;
use crate::daemon::tests::{each_fs, p, TestIo};
use crate::daemon::util::MAX_DATA;

fn nums(r: std::ops::RangeInclusive<u32>) -> Vec<String> {
    r.map(|i| i.to_string()).collect()
}

fn head_n(d: &mut GuestDaemon, n: i64, path: &str) -> Vec<String> {
    let args = calls::head_n::Args {
        nrlines: n,
        path: p(path),
    };
    d.head_n(&mut TestIo::default(), args).unwrap()
}

fn tail_n(d: &mut GuestDaemon, n: i64, path: &str) -> Vec<String> {
    let args = calls::tail_n::Args {
        nrlines: n,
        path: p(path),
    };
    d.tail_n(&mut TestIo::default(), args).unwrap()
}

#[test]
fn heads_and_tails() {
    each_fs(|fstype, d, root| {
        let text: String = (1..=20).map(|i| format!("{i}\n")).collect();
        fs::write(root.join("n"), text).unwrap();
        fs::write(root.join("ab"), "a\n\nb").unwrap();
        let io = &mut TestIo::default();
        let head = d.head(io, calls::head::Args { path: p("/n") });
        assert_eq!(head.unwrap(), nums(1..=10), "{fstype}");
        let tail = d.tail(io, calls::tail::Args { path: p("/n") });
        assert_eq!(tail.unwrap(), nums(11..=20));
        assert_eq!(head_n(d, 3, "/n"), nums(1..=3));
        assert_eq!(head_n(d, 30, "/n"), nums(1..=20));
        assert_eq!(head_n(d, -18, "/n"), nums(1..=2));
        assert!(head_n(d, -30, "/n").is_empty());
        assert!(head_n(d, 0, "/n").is_empty());
        assert_eq!(tail_n(d, 2, "/n"), nums(19..=20));
        assert_eq!(tail_n(d, -19, "/n"), nums(19..=20));
        assert_eq!(tail_n(d, -1, "/n"), nums(1..=20));
        assert!(tail_n(d, 0, "/n").is_empty());
        assert_eq!(head_n(d, 5, "/ab"), ["a", "", "b"]);
        assert_eq!(tail_n(d, 1, "/ab"), ["b"]);
        assert_eq!(head_n(d, -1, "/ab"), ["a", ""]);
        let e = d
            .head(io, calls::head::Args { path: p("/none") })
            .unwrap_err();
        assert_eq!(e.errno, libc::ENOENT);
        // One line over the message limit.
        fs::write(root.join("long"), vec![b'x'; MAX_DATA + 10]).unwrap();
        let e = d
            .head(io, calls::head::Args { path: p("/long") })
            .unwrap_err();
        assert_eq!(e.kind, ErrorKind::TooLarge, "{fstype}: {e:?}");
        assert!(tail_n(d, -2, "/long").is_empty());
    });
}

#[test]
fn word_counts() {
    each_fs(|fstype, d, root| {
        fs::write(root.join("w"), "hello  world\n\tfoo\nbar").unwrap();
        let io = &mut TestIo::default();
        assert_eq!(
            d.wc_l(io, calls::wc_l::Args { path: p("/w") }).unwrap(),
            2,
            "{fstype}"
        );
        assert_eq!(d.wc_w(io, calls::wc_w::Args { path: p("/w") }).unwrap(), 4);
        assert_eq!(d.wc_c(io, calls::wc_c::Args { path: p("/w") }).unwrap(), 21);
        fs::write(root.join("e"), "").unwrap();
        assert_eq!(d.wc_l(io, calls::wc_l::Args { path: p("/e") }).unwrap(), 0);
        assert_eq!(d.wc_w(io, calls::wc_w::Args { path: p("/e") }).unwrap(), 0);
    });
}
