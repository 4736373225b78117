//! Parsers of guest data for libguest's appliance daemon (guest-init):
//! what is on a block device ([`probe`]), Windows registry hives
//! ([`hive`]), rpm databases (SQLite, Berkeley DB hash, ndb) and the
//! rpm headers in them ([`sqlite`], [`rpm_bdb`], [`rpm_ndb`], [`rpm`]),
//! LVM2 labels, metadata and the device-mapper tables of its linear and
//! striped volumes ([`lvm`]), fstab ([`fstab`]), os-release ([`os_release`]), text package
//! databases ([`package_text`]) and executable headers ([`binarch`]).
//!
//! Security rule: every byte these parsers see comes from a guest image
//! and is hostile. No parser may panic, loop or recurse without bound,
//! or allocate more than a fixed cap on it: every field read is
//! bounds-checked ([`bytes`] returns `Option`), every count, list and
//! string is capped, and a malformed input is an error or "nothing
//! found", never a crash. Large files are read through [`ReadAt`] in
//! bounded pieces, never loaded whole. The crate does no I/O of its own
//! beyond the caller's [`ReadAt`], and has no `unsafe`. The fuzz crate
//! (`fuzz/`: `fs_probe`, `registry_hive`, `rpm_db`, `rpm_bdb`,
//! `rpm_ndb`, `lvm_metadata`) exercises it.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod binarch;
pub mod bytes;
#[cfg(any(test, feature = "test-utils"))]
pub mod fixtures;
pub mod fstab;
pub mod hive;
pub mod lvm;
pub mod os_release;
pub mod package_text;
pub mod probe;
pub mod rpm;
pub mod rpm_bdb;
pub mod rpm_ndb;
pub mod source;
pub mod sqlite;
pub mod text;

pub use source::{FileSource, ReadAt};
