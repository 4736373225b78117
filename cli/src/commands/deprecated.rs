//! guestfish's deprecated spellings that scripts still use, each run as
//! the current call libguestfs replaced it with: `egrep` is grep with
//! `extended:true`, `get-e2label` is vfs-label, and `stat`/`lstat` print
//! the old struct stat fields (seconds only) from statns/lstatns.

use libguest::calls;

use crate::api;
use crate::error::{CliError, Result};
use crate::session::Session;

/// grep with the options the old name stood for.
pub fn grep(s: &mut Session, args: &[String], opts: &[&str]) -> Result<()> {
    let mut words = args.to_vec();
    words.extend(opts.iter().map(|o| o.to_string()));
    api::run::<calls::grep::Call>(s, &words)
}

pub fn get_e2label(s: &mut Session, args: &[String]) -> Result<()> {
    api::run::<calls::vfs_label::Call>(s, args)
}

pub fn get_e2uuid(s: &mut Session, args: &[String]) -> Result<()> {
    api::run::<calls::vfs_uuid::Call>(s, args)
}

pub fn set_e2label(s: &mut Session, args: &[String]) -> Result<()> {
    api::run::<calls::set_label::Call>(s, args)
}

/// `stat PATH` / `lstat PATH`: libguestfs's old struct stat.
pub fn stat(s: &mut Session, args: &[String], follow: bool) -> Result<()> {
    let name = if follow { "stat" } else { "lstat" };
    let [path] = args else {
        return Err(CliError::msg(format!("{name}: usage: {name} PATH")));
    };
    let g = s.guest()?;
    let st = match follow {
        true => g.statns(path.as_str())?,
        false => g.lstatns(path.as_str())?,
    };
    let fields = [
        ("dev", st.st_dev),
        ("ino", st.st_ino),
        ("mode", st.st_mode),
        ("nlink", st.st_nlink),
        ("uid", st.st_uid),
        ("gid", st.st_gid),
        ("rdev", st.st_rdev),
        ("size", st.st_size),
        ("blksize", st.st_blksize),
        ("blocks", st.st_blocks),
        ("atime", st.st_atime_sec),
        ("mtime", st.st_mtime_sec),
        ("ctime", st.st_ctime_sec),
    ];
    for (field, value) in fields {
        outln!("{field}: {value}");
    }
    Ok(())
}
