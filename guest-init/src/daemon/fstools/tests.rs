//! The filesystem and swap calls on loop devices, checked against the
//! host's own tools (blkid, swapon --show, tune2fs -l, lsattr, xfs_db…;
//! scripts/setup.sh installs them). Needs root.

mod ext;
mod signatures;
mod swap;
mod xfs;

use protocol::{Call, ErrorReply};

use crate::daemon::root::Root;
use crate::daemon::state::GuestDaemon;
use crate::daemon::tests::TestIo;

/// A daemon with nothing mounted (for the device calls).
fn bare() -> (tempfile::TempDir, GuestDaemon) {
    let dir = tempfile::tempdir().expect("temp root");
    let d = GuestDaemon::new(Root::new(dir.path()));
    (dir, d)
}

/// Arguments by name, parsed as command words are.
struct Named<'a>(&'a [(&'a str, &'a str)]);

impl protocol::ArgSource for Named<'_> {
    type Error = String;
    fn required<T: protocol::ArgType>(&mut self, name: &'static str) -> Result<T, String> {
        self.optional(name)?
            .ok_or_else(|| format!("missing {name}"))
    }
    fn optional<T: protocol::ArgType>(&mut self, name: &'static str) -> Result<Option<T>, String> {
        self.0
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, w)| T::from_word(w))
            .transpose()
    }
}

/// Builds a call's arguments from name/word pairs.
fn args<C: Call>(pairs: &[(&str, &str)]) -> C::Args {
    C::read_args(&mut Named(pairs)).unwrap_or_else(|e| panic!("{}: {e}", C::INFO.name))
}

fn io() -> TestIo {
    TestIo::default()
}

/// A random-enough tag for labels and UUIDs the other tests on this host
/// will not have.
fn unique(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!("{prefix}{:06x}", (nanos ^ std::process::id()) & 0xff_ffff)
}

fn random_uuid() -> String {
    crate::daemon::tests::run("cat", &["/proc/sys/kernel/random/uuid"])
}

fn expect_ok<T>(what: &str, r: Result<T, ErrorReply>) -> T {
    r.unwrap_or_else(|e| panic!("{what}: {e:?}"))
}
