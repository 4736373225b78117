//! libguest: create, inspect and edit virtual machine disk images.
//!
//! A [`Guest`] handle boots a tiny appliance (our own kernel build plus
//! guest-init, a Rust PID 1) through a KVM VMM that runs inside this
//! process: no qemu, no helper daemon. Call names follow libguestfs.
//!
//! ```no_run
//! let mut g = libguest::Guest::new()?;
//! g.add_drive_ro("disk.img")?;
//! g.launch()?;
//! println!("appliance ready in {} ms", g.launch_duration().unwrap().as_millis());
//! g.shutdown()?;
//! # Ok::<(), libguest::Error>(())
//! ```

#![warn(missing_docs)]
#![recursion_limit = "512"]

mod api;
mod backend;
mod connection;
mod copy;
mod drive;
mod error;
mod guest;
pub mod transfer;

/// What the `channel_replies` fuzz target drives: the channel client
/// against a hostile appliance (feature `fuzzing`).
#[cfg(feature = "fuzzing")]
pub mod fuzzing {
    pub use crate::connection::fuzzing::replies;
}

pub use api::{Sink, Source};
pub use backend::{Backend, UnknownBackend};
pub use connection::{CancelHandle, Stream};
pub use copy::CopyOutOptions;
pub use drive::{Drive, DriveDiscard, DriveFormat, DriveOptions, DriveSource};
pub use error::{ApplianceError, Error, Result};
pub use guest::{parse_key_selector, Guest, KeyPrompt, KeySelectorError, KeyTarget, KillHandle};
/// Per-call argument types: `calls::<name>::Opts` holds a call's optional
/// arguments.
pub use protocol::calls;
pub use protocol::types::{
    ArgError, BtrfsSubvolume, Compression, Device, Dirent, FsEntry, Key, LvmLv, LvmPv, LvmVg,
    MdStat, MountEntry, Mountable, Pathname, StatVfs, Statns, Utsname, Version, XfsInfo,
};
pub use vmm::{ExitStats, KvmStatus};

/// The line guest-init prints on the console once it can serve requests.
pub use protocol::READY_LINE;
