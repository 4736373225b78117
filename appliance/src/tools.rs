//! The tools layer: the host's mkfs, fsck and label tools with the shared
//! libraries and dynamic loader they need, as a second cpio that the
//! library streams into a running appliance (`internal_load_tools`) before
//! the first call flagged `needs_tools`. Plain inspection never pays for it.
//!
//! Files keep their host paths (libraries where the loader found them,
//! the loader at the tools' PT_INTERP path), so they resolve in the
//! appliance as on the host. The loader itself lists the libraries
//! (`ld.so --list`, what `ldd` runs): no shell needed, which matters in
//! the e2e test host. Cached in `<cache>/tools/`, keyed by the tools'
//! paths, sizes and mtimes: a tool installed or upgraded makes a new layer.
//!
//! The cached layer is trusted as the rest of the cache is (see
//! [`super::cache`]): `tools-KEY.cpio` has its SHA-256 beside it in
//! `tools-KEY.cpio.sha256`, written with it; the layer is read once,
//! checked, and those bytes are what the appliance loads. One that does
//! not match is built again, never loaded.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Component, Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use sha2::{Digest, Sha256};

use super::cache::{cache_root, hex, parse_sha256_record, sha256, CacheError, TrustedDir};
use super::cpio::CpioWriter;
use crate::error::{ApplianceError, Result};

pub use protocol::tools::TOOLS;
use protocol::tools::{DATA_FILES, SEARCH_DIRS};

use protocol::tools::LAYER_TOP_DIRS as ALLOWED_TOP;

/// Bump when what goes into the layer changes.
const LAYOUT_VERSION: &str = "tools-v3";
/// The largest layer read back from the cache.
const MAX_LAYER: u64 = 1 << 30;

/// A tool found on this host.
#[derive(Debug)]
struct HostTool {
    /// Where it was found (a symlink is fine: it is read through).
    source: PathBuf,
    /// The canonical directory and the same name: its path in the
    /// appliance, when the layer can hold it (see [`appliance_path`]).
    dest: PathBuf,
    size: u64,
    mtime_ns: i128,
}

/// A built (or reused) layer.
#[derive(Debug, Clone)]
pub struct ToolsLayer {
    /// Where it is cached.
    pub path: PathBuf,
    /// A hash of the tools' paths, sizes and mtimes: a new one when a
    /// tool is installed or upgraded.
    pub key: String,
    /// The tools in it, by name.
    pub tools: Vec<&'static str>,
    /// The layer's bytes, checked: what the appliance loads.
    pub bytes: Arc<[u8]>,
}

/// `/usr/lib/x/libc.so.6` → `usr/lib/x/libc.so.6`, if it is a plain
/// absolute UTF-8 path under a directory the appliance accepts.
fn appliance_path(path: &Path) -> Option<String> {
    let mut parts = Vec::new();
    for c in path.components() {
        match c {
            Component::RootDir => {}
            Component::Normal(s) => parts.push(s.to_str()?),
            _ => return None,
        }
    }
    let top = parts.first()?;
    (path.is_absolute() && ALLOWED_TOP.contains(top)).then(|| parts.join("/"))
}

fn dest_of(path: &Path) -> std::result::Result<String, String> {
    appliance_path(path).ok_or_else(|| {
        format!(
            "{} is outside the directories the layer holds",
            path.display()
        )
    })
}

fn find_tools(dirs: &[PathBuf]) -> BTreeMap<&'static str, HostTool> {
    let mut found = BTreeMap::new();
    for (name, _) in TOOLS {
        for dir in dirs {
            let source = dir.join(name);
            let Ok(meta) = std::fs::metadata(&source) else {
                continue;
            };
            if !meta.is_file() || meta.permissions().mode() & 0o111 == 0 {
                continue;
            }
            let canonical_dir = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.clone());
            let dest = canonical_dir.join(name);
            let mtime_ns = i128::from(meta.mtime()) * 1_000_000_000 + i128::from(meta.mtime_nsec());
            found.insert(
                *name,
                HostTool {
                    source,
                    dest,
                    size: meta.len(),
                    mtime_ns,
                },
            );
            break;
        }
    }
    found
}

/// The data files of `tool` present on this host (see [`DATA_FILES`]),
/// with their size and mtime (of the file a symlink leads to).
fn data_files(tool: &str) -> Vec<(&'static str, u64, i128)> {
    DATA_FILES
        .iter()
        .filter(|(t, _, _)| *t == tool)
        .filter_map(|(_, path, _)| {
            let meta = std::fs::metadata(path).ok().filter(|m| m.is_file())?;
            let mtime_ns = i128::from(meta.mtime()) * 1_000_000_000 + i128::from(meta.mtime_nsec());
            Some((*path, meta.len(), mtime_ns))
        })
        .collect()
}

fn key_of(tools: &BTreeMap<&'static str, HostTool>) -> String {
    let mut h = Sha256::new();
    h.update(LAYOUT_VERSION);
    for (name, t) in tools {
        h.update(format!(
            "\0{name}\0{}\0{}\0{}",
            t.dest.display(),
            t.size,
            t.mtime_ns
        ));
        for (path, size, mtime_ns) in data_files(name) {
            h.update(format!("\0{path}\0{size}\0{mtime_ns}"));
        }
    }
    h.finalize()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn default_dirs() -> Vec<PathBuf> {
    SEARCH_DIRS.iter().map(PathBuf::from).collect()
}

/// The key of the layer this host's tools make now (a few stat calls):
/// the library compares it with the layer it loaded.
pub fn tools_key() -> String {
    key_of(&find_tools(&default_dirs()))
}

/// Builds the layer from this host's tools, or reuses the cached one.
pub fn build_tools_layer() -> Result<ToolsLayer> {
    build_in(&cache_root()?.subdir("tools")?, &default_dirs())
}

/// The cached layer `name` if it matches its record; `None` when it is
/// missing, has no record, or does not match (it is then built again).
fn reuse(dir: &TrustedDir, name: &str, record: &str) -> Result<Option<Vec<u8>>> {
    let Some(line) = dir.read_file(record, 4096)? else {
        return Ok(None);
    };
    let Some(expected) = parse_sha256_record(&line) else {
        tracing::warn!(
            "{}: not a sha256sum line; building the layer again",
            dir.path().join(record).display()
        );
        return Ok(None);
    };
    match dir.read_verified(name, &expected, MAX_LAYER, "building it again") {
        Ok(bytes) => Ok(bytes),
        Err(e @ (CacheError::Tampered { .. } | CacheError::TooLarge { .. })) => {
            tracing::warn!("{e}");
            Ok(None)
        }
        Err(e) => Err(e.into()),
    }
}

fn build_in(dir: &TrustedDir, search: &[PathBuf]) -> Result<ToolsLayer> {
    let tools = find_tools(search);
    let key = key_of(&tools);
    let name = format!("tools-{key}.cpio");
    let record = format!("{name}.sha256");
    let path = dir.path().join(&name);
    if let Some(bytes) = reuse(dir, &name, &record)? {
        return Ok(ToolsLayer {
            path,
            key,
            tools: tools.keys().copied().collect(),
            bytes: bytes.into(),
        });
    }
    let (bytes, packed) = pack(&tools)?;
    // The layer first, then its record: a reader that finds a record
    // finds the layer it describes (or one it refuses and rebuilds).
    dir.write_file(&name, &bytes)?;
    dir.write_file(
        &record,
        format!("{}  {name}\n", hex(&sha256(&bytes))).as_bytes(),
    )?;
    Ok(ToolsLayer {
        path,
        key,
        tools: packed,
        bytes: bytes.into(),
    })
}

/// The layer's archive, and the tools that made it in.
fn pack(tools: &BTreeMap<&'static str, HostTool>) -> Result<(Vec<u8>, Vec<&'static str>)> {
    // appliance path → host file
    let mut files: BTreeMap<String, PathBuf> = BTreeMap::new();
    let mut packed = Vec::new();
    for (name, tool) in tools {
        match dest_of(&tool.dest).and_then(|dest| Ok((dest, dependencies(&tool.source)?))) {
            Ok((dest, deps)) => {
                files.insert(dest, tool.source.clone());
                files.extend(deps);
                for (path, _, _) in data_files(name) {
                    match dest_of(Path::new(path)) {
                        Ok(dest) => {
                            files.insert(dest, PathBuf::from(path));
                        }
                        Err(why) => tracing::warn!("tools layer: leaving out {path}: {why}"),
                    }
                }
                packed.push(*name);
            }
            Err(why) => tracing::warn!("tools layer: leaving out {name}: {why}"),
        }
    }
    let mut dirs = BTreeSet::new();
    for dest in files.keys() {
        let mut prefix = Path::new(dest.as_str()).parent();
        while let Some(p) = prefix.filter(|p| !p.as_os_str().is_empty()) {
            dirs.insert(p.to_string_lossy().into_owned());
            prefix = p.parent();
        }
    }
    let mut w = CpioWriter::new(Vec::with_capacity(16 << 20));
    let werr = || ApplianceError::io("writing the tools layer");
    for d in &dirs {
        w.dir(d, 0o755).map_err(werr())?;
    }
    for (dest, source) in &files {
        let mut data = Vec::new();
        let mode = std::fs::File::open(source)
            .and_then(|mut f| {
                f.read_to_end(&mut data)?;
                f.metadata()
            })
            .map_err(ApplianceError::io(format!("reading {}", source.display())))?
            .permissions()
            .mode();
        w.file(dest, mode & 0o777, &data).map_err(werr())?;
    }
    Ok((w.finish().map_err(werr())?, packed))
}

/// The loader and libraries a program needs, by appliance path.
fn dependencies(program: &Path) -> std::result::Result<BTreeMap<String, PathBuf>, String> {
    let mut deps = BTreeMap::new();
    let Some(interp) = elf_interpreter(program).map_err(|e| format!("reading it: {e}"))? else {
        return Ok(deps); // static, or not ELF
    };
    let listed = list_libraries(&interp, program)?;
    let unwinder = runtime_unwinder(&listed);
    for lib in listed.into_iter().chain([interp]).chain(unwinder) {
        deps.insert(dest_of(&lib)?, lib);
    }
    Ok(deps)
}

/// glibc loads libgcc_s.so.1 with dlopen when a thread exits or is
/// cancelled (pthread_exit unwinds its stack), so no library list names
/// it; without it such a program aborts ("libgcc_s.so.1 must be installed
/// for pthread_exit to work": mksquashfs's threads do). It is taken from
/// libc's own directory, where glibc looks first.
fn runtime_unwinder(listed: &[PathBuf]) -> Option<PathBuf> {
    let libc = listed
        .iter()
        .find(|l| l.file_name().is_some_and(|n| n == "libc.so.6"))?;
    let unwinder = libc.with_file_name("libgcc_s.so.1");
    let listed_already = listed.iter().any(|l| l.file_name() == unwinder.file_name());
    (!listed_already && unwinder.is_file()).then_some(unwinder)
}

/// `ld.so --list PROGRAM`, or `ldd PROGRAM` if that fails; the paths.
fn list_libraries(interp: &Path, program: &Path) -> std::result::Result<Vec<PathBuf>, String> {
    let run = |cmd: &mut Command| -> Option<String> {
        let out = cmd.env_clear().env("LC_ALL", "C").output().ok()?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
    };
    let text = run(Command::new(interp).arg("--list").arg(program))
        .or_else(|| {
            run(Command::new("ldd")
                .arg(program)
                .env("PATH", "/usr/bin:/bin"))
        })
        .ok_or_else(|| {
            format!(
                "neither {} --list nor ldd could list its libraries",
                interp.display()
            )
        })?;
    parse_list(&text)
}

fn parse_list(text: &str) -> std::result::Result<Vec<PathBuf>, String> {
    let mut libs = Vec::new();
    for line in text.lines().map(str::trim) {
        if line.contains("not found") {
            return Err(format!("a library is missing on this host: {line}"));
        }
        let path = line.split_once("=>").map_or(line, |(_, rest)| rest.trim());
        let path = path.split(" (").next().unwrap_or("").trim();
        if path.starts_with('/') {
            libs.push(PathBuf::from(path));
        }
    }
    Ok(libs)
}

/// The PT_INTERP path of a 64-bit little-endian ELF program (what the
/// appliance runs); None for a static program or anything else.
fn elf_interpreter(program: &Path) -> std::io::Result<Option<PathBuf>> {
    use std::os::unix::fs::FileExt;
    const PT_INTERP: u32 = 3;
    let f = std::fs::File::open(program)?;
    let mut eh = [0u8; 64];
    if f.read_at(&mut eh, 0)? < 64 || !eh.starts_with(b"\x7fELF\x02\x01") {
        return Ok(None);
    }
    let u16_at = |b: &[u8], o: usize| u64::from(u16::from_le_bytes([b[o], b[o + 1]]));
    let u32_at = |b: &[u8], o: usize| u32::from_le_bytes([b[o], b[o + 1], b[o + 2], b[o + 3]]);
    let u64_at = |b: &[u8], o: usize| u64::from(u32_at(b, o)) | u64::from(u32_at(b, o + 4)) << 32;
    let (phoff, phentsize, phnum) = (u64_at(&eh, 0x20), u16_at(&eh, 0x36), u16_at(&eh, 0x38));
    let mut ph = [0u8; 56];
    for i in 0..phnum {
        let at = phoff.saturating_add(i * phentsize);
        if phentsize < 56 || f.read_at(&mut ph, at)? < 56 {
            return Ok(None);
        }
        if u32_at(&ph, 0) == PT_INTERP {
            let mut name = vec![0u8; u64_at(&ph, 32).min(4096) as usize];
            let got = f.read_at(&mut name, u64_at(&ph, 8))?;
            name.truncate(got);
            let end = name.iter().position(|&b| b == 0).unwrap_or(name.len());
            return Ok(Some(PathBuf::from(
                String::from_utf8_lossy(&name[..end]).into_owned(),
            )));
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests;
