//! guestfish's own host-side commands: `echo`, `time`, `lcd`, and the
//! drive makers `sparse` and `alloc`.

use std::fs::{File, OpenOptions};
use std::os::fd::AsRawFd;
use std::os::unix::fs::FileTypeExt;
use std::path::Path;
use std::time::Instant;

use protocol::FromWord;

use crate::error::{CliError, Result};
use crate::registry::{self, Flow};
use crate::session::Session;

/// `echo WORDS…`: the words joined by one space.
pub fn echo(args: &[String]) -> Result<()> {
    outln!("{}", args.join(" "));
    Ok(())
}

/// `time CMD ARGS…`: runs the command, then prints the time it took as
/// guestfish does (`elapsed time: 1.23 seconds`).
pub fn time(s: &mut Session, args: &[String]) -> Result<Flow> {
    if args.is_empty() {
        return Err(CliError::msg(
            "time: give a command to time: time CMD ARGS…",
        ));
    }
    let start = Instant::now();
    let flow = registry::run(s, args)?;
    let elapsed = start.elapsed();
    outln!(
        "elapsed time: {}.{:02} seconds",
        elapsed.as_secs(),
        elapsed.subsec_millis() / 10
    );
    Ok(flow)
}

/// `lcd DIR`: the host directory that relative host paths start from.
pub fn lcd(args: &[String]) -> Result<()> {
    let [dir] = args else {
        return Err(CliError::msg("lcd: give one host directory: lcd DIR"));
    };
    std::env::set_current_dir(dir).map_err(|e| {
        CliError::msg(format!(
            "lcd: cannot change to the host directory {dir}: {e}"
        ))
    })
}

/// `FILE SIZE` of sparse and alloc; the size takes guestfish's suffixes.
fn file_and_size(name: &str, args: &[String]) -> Result<(String, u64)> {
    let [file, size] = args else {
        return Err(CliError::msg(format!(
            "{name}: give a host file and a size: {name} FILE SIZE (e.g. 1G, 512M)"
        )));
    };
    Ok((file.clone(), parse_size(name, size)?))
}

/// A size as guestfish reads one (`1G`, `512MiB`, `0x1000`), above zero.
pub(crate) fn parse_size(name: &str, size: &str) -> Result<u64> {
    i64::from_word(size)
        .ok()
        .and_then(|n| u64::try_from(n).ok())
        .filter(|&n| n > 0)
        .ok_or_else(|| {
            CliError::msg(format!(
                "{name}: {size:?} is not a size above zero (digits with an optional k, M, G, T, P, E suffix: 512M and 512MiB are 512×1024², 512MB is 512×1000²)"
            ))
        })
}

/// Creates or truncates `file` to `size` bytes. An existing file is reused
/// only when it is a regular file: truncating a device or a FIFO the name
/// happens to point at is never what `alloc disk.img 1G` meant.
pub(crate) fn create(name: &str, file: &str, size: u64) -> Result<File> {
    let path = Path::new(file);
    if let Ok(meta) = std::fs::metadata(path) {
        let kind = meta.file_type();
        if !kind.is_file() {
            let what = match () {
                _ if kind.is_dir() => "a directory",
                _ if kind.is_block_device() => "a block device",
                _ if kind.is_char_device() => "a character device",
                _ if kind.is_fifo() => "a FIFO",
                _ => "not a regular file",
            };
            return Err(CliError::msg(format!(
                "{name}: {file} is {what}; give the name of a new or regular file"
            )));
        }
    }
    let out = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(path)
        .map_err(|e| CliError::msg(format!("{name}: cannot create {file}: {e}")))?;
    out.set_len(size)
        .map_err(|e| CliError::msg(format!("{name}: cannot size {file} to {size} bytes: {e}")))?;
    Ok(out)
}

fn add(s: &mut Session, name: &str, file: &str) -> Result<()> {
    if s.launched() {
        return Err(CliError::msg(format!(
            "{name}: drives are added before the appliance is launched; put {name} before the first command that uses the disks"
        )));
    }
    let options = libguest::DriveOptions {
        format: Some(libguest::DriveFormat::Raw),
        ..Default::default()
    };
    s.handle().add_drive_opts(file, options)?;
    Ok(())
}

/// `sparse FILE SIZE`: a sparse raw image, added read-write.
pub fn sparse(s: &mut Session, args: &[String]) -> Result<()> {
    let (file, size) = file_and_size("sparse", args)?;
    create("sparse", &file, size)?;
    add(s, "sparse", &file)
}

/// `alloc FILE SIZE` (alias `allocate`): a raw image with its blocks
/// allocated (posix_fallocate), added read-write.
pub fn alloc(s: &mut Session, args: &[String]) -> Result<()> {
    let (file, size) = file_and_size("alloc", args)?;
    let out = create("alloc", &file, size)?;
    let len = libc::off_t::try_from(size)
        .map_err(|_| CliError::msg(format!("alloc: {size} bytes is too large")))?;
    // SAFETY: posix_fallocate takes a descriptor `out` keeps open and two
    // integers; it touches no memory of ours.
    let rc = unsafe { libc::posix_fallocate(out.as_raw_fd(), 0, len) };
    if rc != 0 {
        return Err(CliError::msg(format!(
            "alloc: cannot allocate {size} bytes for {file}: {} (sparse makes the file without allocating it)",
            std::io::Error::from_raw_os_error(rc)
        )));
    }
    add(s, "alloc", &file)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(w: &[&str]) -> Vec<String> {
        w.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn sizes_take_suffixes_and_refuse_nonsense() {
        assert_eq!(
            file_and_size("alloc", &words(&["d.img", "1M"])).unwrap(),
            ("d.img".into(), 1 << 20)
        );
        assert_eq!(
            file_and_size("alloc", &words(&["d", "0x200"])).unwrap().1,
            512
        );
        for bad in ["0", "-1", "1Q", ""] {
            assert!(
                file_and_size("alloc", &words(&["d", bad])).is_err(),
                "{bad}"
            );
        }
        assert!(file_and_size("alloc", &words(&["d"])).is_err());
    }

    #[test]
    fn create_refuses_what_is_not_a_regular_file() {
        let dir = tempfile::tempdir().unwrap();
        let dirname = dir.path().to_str().unwrap();
        let err = create("alloc", dirname, 512).unwrap_err().to_string();
        assert!(err.contains("is a directory"), "{err}");
        let err = create("alloc", "/dev/null", 512).unwrap_err().to_string();
        assert!(err.contains("character device"), "{err}");
        let file = dir.path().join("disk.img");
        std::fs::write(&file, b"old contents").unwrap();
        create("sparse", file.to_str().unwrap(), 4096).unwrap();
        let data = std::fs::read(&file).unwrap();
        assert_eq!(data.len(), 4096);
        assert!(data.iter().all(|&b| b == 0), "truncated, then sized");
    }
}
