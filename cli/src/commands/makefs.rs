//! `make-fs` (virt-make-fs): a new image holding one unpartitioned
//! filesystem with the contents of a host directory or tarball. It runs
//! on a handle of its own; the session's drives are not involved.
//!
//! Security rule: the user's paths stay file names. qemu-img reads a
//! leading `-` as an option and `json:`, `nbd:`, `file:`… as a protocol,
//! so it is given [`plain_file_arg`] (`./` before a relative path); the
//! decompressor that sizes a tarball reads it on its standard input,
//! never by name.

use std::fs::File;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use clap::Parser;
use libguest::{calls, Compression, DriveFormat, DriveOptions, Guest};

use super::copy::copy_in_with;
use super::fs::parse;
use crate::error::{CliError, Result};
use crate::progress;
use crate::session::Config;

const MIB: u64 = 1 << 20;

#[derive(Parser)]
#[command(disable_help_flag = true)]
struct MakeFsArgs {
    input: PathBuf,
    output: PathBuf,
    /// ext2, ext3, ext4, xfs, vfat or btrfs.
    #[arg(short = 't', long = "type", default_value = "ext4")]
    fstype: String,
    /// N[KMG]: the image size; +N[KMG]: added to the estimate.
    #[arg(short = 's', long)]
    size: Option<String>,
    #[arg(short = 'F', long, default_value = "raw")]
    format: DriveFormat,
    #[arg(long)]
    label: Option<String>,
}

/// What the input is.
enum Input {
    Dir,
    Tar(Option<Compression>),
}

fn input_kind(path: &Path) -> Result<Input> {
    let meta = std::fs::metadata(path)
        .map_err(|e| CliError::msg(format!("make-fs: {}: {e}", path.display())))?;
    if meta.is_dir() {
        return Ok(Input::Dir);
    }
    let name = path.to_string_lossy().to_ascii_lowercase();
    let kinds = [
        (".tar", None),
        (".tar.gz", Some(Compression::Gzip)),
        (".tgz", Some(Compression::Gzip)),
        (".tar.xz", Some(Compression::Xz)),
        (".txz", Some(Compression::Xz)),
        (".tar.zst", Some(Compression::Zstd)),
        (".tzst", Some(Compression::Zstd)),
        (".tar.bz2", Some(Compression::Bzip2)),
        (".tbz2", Some(Compression::Bzip2)),
    ];
    match kinds.iter().find(|(ext, _)| name.ends_with(ext)) {
        Some((_, compress)) if meta.is_file() => Ok(Input::Tar(*compress)),
        _ => Err(CliError::msg(format!(
            "make-fs: {} is neither a directory nor a tarball (.tar, .tar.gz, .tar.bz2, .tar.xz, .tar.zst)",
            path.display()
        ))),
    }
}

/// `N[KMG]` or `+N[KMG]` (added to the estimate): (relative, bytes).
fn parse_size(text: &str) -> Result<(bool, u64)> {
    let bad = || {
        CliError::msg(format!(
            "make-fs: --size {text:?}: expected N[K|M|G|T] or +N[K|M|G|T]"
        ))
    };
    let (relative, rest) = match text.strip_prefix('+') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let digits = rest.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let shift = match rest[digits.len()..].to_ascii_uppercase().as_str() {
        "" | "B" => 0,
        "K" | "KB" | "KIB" => 10,
        "M" | "MB" | "MIB" => 20,
        "G" | "GB" | "GIB" => 30,
        "T" | "TB" | "TIB" => 40,
        _ => return Err(bad()),
    };
    let n: u64 = digits.parse().map_err(|_| bad())?;
    let bytes = n.checked_mul(1 << shift).ok_or_else(bad)?;
    Ok((relative, bytes))
}

/// Bytes of file data (in 4 KiB blocks) and the number of entries.
#[derive(Debug, Default)]
struct Content {
    data: u64,
    entries: u64,
}

impl Content {
    fn add(&mut self, len: u64) {
        self.data += len.div_ceil(4096) * 4096;
        self.entries += 1;
    }
}

fn dir_content(path: &Path, c: &mut Content) -> std::io::Result<()> {
    for entry in std::fs::read_dir(path)? {
        let entry = entry?;
        let meta = entry.path().symlink_metadata()?;
        if meta.is_dir() {
            c.add(4096);
            dir_content(&entry.path(), c)?;
        } else {
            c.add(meta.len());
        }
    }
    Ok(())
}

/// The tarball's uncompressed entries, read through the decompressor as
/// virt-make-fs does.
fn tar_content(path: &Path, compress: Option<Compression>) -> Result<Content> {
    let fail = |e: String| {
        CliError::msg(format!(
            "make-fs: sizing {}: {e}; or give --size",
            path.display()
        ))
    };
    let tool = match compress {
        None => None,
        Some(Compression::Gzip) => Some(("gzip", "gzip")),
        Some(Compression::Xz) => Some(("xz", "xz-utils")),
        Some(Compression::Zstd) => Some(("zstd", "zstd")),
        Some(Compression::Bzip2) => Some(("bzip2", "bzip2")),
    };
    let mut child = None;
    let file = File::open(path).map_err(|e| fail(e.to_string()))?;
    let reader: Box<dyn std::io::Read> = match tool {
        None => Box::new(file),
        Some((tool, package)) => {
            let mut c = Command::new(tool)
                .arg("-dc")
                .stdin(Stdio::from(file))
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()
                .map_err(|e| {
                    fail(format!(
                        "cannot run {tool} ({e}; apt-get install {package})"
                    ))
                })?;
            let out = c
                .stdout
                .take()
                .ok_or_else(|| fail(format!("no output from {tool}")))?;
            child = Some(c);
            Box::new(out)
        }
    };
    let mut content = Content::default();
    let mut archive = tar::Archive::new(reader);
    let entries = archive.entries().map_err(|e| fail(e.to_string()))?;
    for entry in entries {
        let entry = entry.map_err(|e| fail(format!("not a readable tar archive: {e}")))?;
        content.add(entry.header().size().unwrap_or(0).max(1));
    }
    drop(archive);
    if let Some(mut c) = child {
        let status = c.wait().map_err(|e| fail(e.to_string()))?;
        if !status.success() {
            return Err(fail(format!("the decompressor failed ({status})")));
        }
    }
    Ok(content)
}

/// The estimate: content plus per-inode metadata, 20 % headroom, the
/// filesystem's own overhead, and its minimum size.
fn estimate(c: &Content, fstype: &str) -> u64 {
    let content = c.data + c.entries * 256;
    let (overhead, minimum) = match fstype {
        "xfs" => (16 * MIB, 300 * MIB),
        "btrfs" => (32 * MIB, 256 * MIB),
        "vfat" => (MIB, 2 * MIB),
        _ => (8 * MIB, 8 * MIB),
    };
    (content + content / 5 + overhead).max(minimum)
}

pub fn run(config: &Config, progress: bool, args: &[String]) -> Result<()> {
    let opts: MakeFsArgs = parse("make-fs", args)?;
    if !["ext2", "ext3", "ext4", "xfs", "vfat", "btrfs"].contains(&opts.fstype.as_str()) {
        return Err(CliError::msg(format!(
            "make-fs: --type {:?}: expected ext2, ext3, ext4, xfs, vfat or btrfs",
            opts.fstype
        )));
    }
    let input = input_kind(&opts.input)?;
    let size = match opts.size.as_deref().map(parse_size).transpose()? {
        Some((false, bytes)) => bytes,
        requested => {
            let content = match input {
                Input::Dir => {
                    let mut c = Content::default();
                    dir_content(&opts.input, &mut c).map_err(|e| {
                        CliError::msg(format!("make-fs: reading {}: {e}", opts.input.display()))
                    })?;
                    c
                }
                Input::Tar(compress) => tar_content(&opts.input, compress)?,
            };
            estimate(&content, &opts.fstype) + requested.map_or(0, |(_, extra)| extra)
        }
    };
    let size = size.div_ceil(MIB) * MIB;
    if std::fs::metadata(&opts.output).is_ok_and(|m| !m.is_file()) {
        return Err(CliError::msg(format!(
            "make-fs: {} exists and is not a regular file",
            opts.output.display()
        )));
    }
    create_image(&opts.output, opts.format, size)?;
    let result = fill(config, progress, &opts, &input);
    if result.is_err() {
        // A half-made image is worse than none.
        let _ = std::fs::remove_file(&opts.output);
    }
    result
}

fn create_image(path: &Path, format: DriveFormat, size: u64) -> Result<()> {
    let fail = |e: String| CliError::msg(format!("make-fs: creating {}: {e}", path.display()));
    match format {
        DriveFormat::Raw => {
            let file = File::create(path).map_err(|e| fail(e.to_string()))?;
            file.set_len(size).map_err(|e| fail(e.to_string()))
        }
        DriveFormat::Qcow2 => {
            let out = Command::new("qemu-img")
                .args(["create", "-q", "-f", "qcow2"])
                .arg(plain_file_arg(path))
                .arg(size.to_string())
                .output()
                .map_err(|e| {
                    fail(format!(
                        "cannot run qemu-img ({e}; apt-get install qemu-utils)"
                    ))
                })?;
            match out.status.success() {
                true => Ok(()),
                false => Err(fail(crate::error::one_line(&String::from_utf8_lossy(
                    &out.stderr,
                )))),
            }
        }
    }
}

/// `path` as an argument that a program (qemu-img) can only read as a
/// file name: absolute paths start with `/`, relative ones get `./`, so
/// neither looks like an option (`-o…`) nor like a protocol prefix
/// (`json:{…}`, `nbd:…`: qemu sees one only before the first `/`).
pub fn plain_file_arg(path: &Path) -> PathBuf {
    match path.is_absolute() {
        true => path.to_path_buf(),
        false => Path::new(".").join(path),
    }
}

fn fill(config: &Config, progress: bool, opts: &MakeFsArgs, input: &Input) -> Result<()> {
    let mut g = config.new_guest()?;
    let drive = DriveOptions {
        format: Some(opts.format),
        ..Default::default()
    };
    g.add_drive_opts(&opts.output, drive)?;
    let launched = g.launch();
    if config.verbose {
        errprint!("{}", g.console_log());
    }
    launched?;
    crate::interrupt::set(g.cancel_handle());
    let filled = make_and_fill(&mut g, progress, opts, input);
    crate::interrupt::set(None);
    filled?;
    g.shutdown()?;
    Ok(())
}

fn make_and_fill(g: &mut Guest, progress: bool, opts: &MakeFsArgs, input: &Input) -> Result<()> {
    let mkfs = calls::mkfs::Opts {
        label: opts.label.clone(),
        ..Default::default()
    };
    g.mkfs(opts.fstype.as_str(), "/dev/sda", mkfs)?;
    g.mount("/dev/sda", "/")?;
    match input {
        Input::Dir => copy_dir(g, progress, &opts.input, &opts.fstype)?,
        Input::Tar(compress) => {
            let file = File::open(&opts.input)
                .map_err(|e| CliError::msg(format!("make-fs: {}: {e}", opts.input.display())))?;
            let tar = calls::tar_in::Opts {
                compress: *compress,
                ..Default::default()
            };
            if progress {
                let len = file.metadata().map(|m| m.len()).ok();
                let bar = progress::bytes(&opts.input.to_string_lossy(), len);
                let result = g.tar_in(&mut bar.wrap_read(file), "/", tar);
                bar.finish_and_clear();
                result?;
            } else {
                g.tar_in(&mut { file }, "/", tar)?;
            }
        }
    }
    g.umount_all()?;
    Ok(())
}

/// The directory's contents (not the directory itself) into /, then its
/// mode and owner onto / as `tar -C dir .` would.
fn copy_dir(g: &mut Guest, progress: bool, dir: &Path, fstype: &str) -> Result<()> {
    let read =
        |e: std::io::Error| CliError::msg(format!("make-fs: reading {}: {e}", dir.display()));
    let mut children: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(read)?
        .map(|e| e.map(|e| e.path()))
        .collect::<std::io::Result<_>>()
        .map_err(read)?;
    children.sort();
    let bar =
        progress.then(|| progress::bytes(&dir.to_string_lossy(), Some(progress::tree_size(dir))));
    for child in &children {
        match &bar {
            Some(bar) => copy_in_with(g, child, "/", bar)?,
            None => g.copy_in(child, "/")?,
        }
    }
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    if fstype != "vfat" {
        let meta = std::fs::metadata(dir).map_err(read)?;
        g.chmod(i64::from(meta.mode() & 0o7777), "/")?;
        g.chown(i64::from(meta.uid()), i64::from(meta.gid()), "/")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests;
