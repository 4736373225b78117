//! mksquashfs: a guest directory packed into a squashfs image in the
//! appliance's /tmp (mksquashfs seeks in its output), then streamed.

use std::ffi::OsString;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use protocol::{calls, CallIo, ErrorReply};
use rustix::fs::{Mode, OFlags};

use super::super::mkfs::run::run_ok;
use super::super::state::GuestDaemon;
use super::super::util::{check_cancel, errno_reply, invalid, CHUNK};
use super::{child_fd_path, os_args};

const COMPRESSORS: [&str; 6] = ["gzip", "lzma", "lzo", "lz4", "xz", "zstd"];

/// A file in the temporary directory, removed on drop.
struct TempPath(PathBuf);

impl TempPath {
    fn create(what: &str) -> Result<(TempPath, std::fs::File), ErrorReply> {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!("libguest-{what}-{}-{n}", std::process::id()));
        let file = std::fs::OpenOptions::new()
            .write(true)
            .read(true)
            .create_new(true)
            .open(&path)
            .map_err(|e| errno_reply("mksquashfs: create", &path.to_string_lossy(), e))?;
        Ok((TempPath(path), file))
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempPath {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

pub(in crate::daemon) fn mksquashfs(
    d: &mut GuestDaemon,
    io: &mut dyn CallIo,
    a: calls::mksquashfs::Args,
) -> Result<calls::mksquashfs::Ret, ErrorReply> {
    let call = "mksquashfs";
    if let Some(c) = a.compress.as_deref().filter(|c| !COMPRESSORS.contains(c)) {
        return Err(invalid(format!(
            "{call}: unknown compression {c:?} (gzip, lzma, lzo, lz4, xz or zstd)"
        )));
    }
    let dir = d
        .root
        .open(&a.path, OFlags::RDONLY | OFlags::DIRECTORY, Mode::empty())?;
    // "/." makes mksquashfs see the directory, not the /proc link.
    let mut source = child_fd_path(&dir);
    source.push("/.");
    let (image, mut out) = TempPath::create("squashfs")?;
    let mut argv: Vec<OsString> = vec![source, image.path().into(), "-noappend".into()];
    argv.push("-no-progress".into());
    if let Some(c) = &a.compress {
        argv.extend(["-comp".into(), c.into()]);
    }
    let excludes = match &a.excludes {
        Some(list) if !list.is_empty() => {
            if list.iter().any(|e| e.contains('\n')) {
                return Err(invalid(format!("{call}: an exclude pattern has a newline")));
            }
            let (path, mut file) = TempPath::create("excludes")?;
            let text: String = list.iter().map(|e| format!("{e}\n")).collect();
            file.write_all(text.as_bytes())
                .map_err(|e| errno_reply("mksquashfs: write", &path.0.to_string_lossy(), e))?;
            argv.extend(["-wildcards".into(), "-ef".into(), path.path().into()]);
            Some(path)
        }
        _ => None,
    };
    run_ok(call, "mksquashfs", &os_args(&argv))?;
    drop(excludes);
    let mut buf = vec![0u8; CHUNK];
    loop {
        check_cancel(io)?;
        let n = match out.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(errno_reply("read", &image.0.to_string_lossy(), e)),
        };
        io.write_chunk(&buf[..n])?;
    }
}
