//! The tools-layer builder on this host's tools.

use super::super::cache::trusted_dir;
use super::*;

fn cache_in(top: &tempfile::TempDir) -> TrustedDir {
    trusted_dir(&top.path().join("tools")).unwrap()
}

/// The entry names of a newc archive.
fn cpio_names(bytes: &[u8]) -> Vec<String> {
    let (mut names, mut pos) = (Vec::new(), 0);
    let field = |at: usize, i: usize| {
        let s = std::str::from_utf8(&bytes[at + 6 + i * 8..at + 14 + i * 8]).unwrap();
        usize::from_str_radix(s, 16).unwrap()
    };
    loop {
        let (size, namesize) = (field(pos, 6), field(pos, 11));
        let name = String::from_utf8(bytes[pos + 110..pos + 109 + namesize].to_vec()).unwrap();
        if name == "TRAILER!!!" {
            return names;
        }
        names.push(name);
        pos = (pos + 110 + namesize).div_ceil(4) * 4;
        pos = (pos + size).div_ceil(4) * 4;
    }
}

#[test]
fn tools_layer_holds_mke2fs_its_libraries_and_the_loader() {
    let Some(mke2fs) = SEARCH_DIRS
        .iter()
        .map(|d| Path::new(d).join("mke2fs"))
        .find(|p| p.is_file())
    else {
        eprintln!("mke2fs is not installed here (apt-get install e2fsprogs): test skipped");
        return;
    };
    let cache = tempfile::tempdir().unwrap();
    let started = std::time::Instant::now();
    let layer = build_in(&cache_in(&cache), &default_dirs()).unwrap();
    let built_in = started.elapsed();
    let bytes = std::fs::read(&layer.path).unwrap();
    assert_eq!(&*layer.bytes, &bytes[..]);
    eprintln!(
        "tools layer: {} bytes, {:?}, built in {built_in:?}",
        bytes.len(),
        layer.tools
    );
    let names = cpio_names(&bytes);
    assert!(layer.tools.contains(&"mke2fs"));
    assert!(
        names.iter().any(|n| n.ends_with("sbin/mke2fs")),
        "{names:?}"
    );
    assert!(
        names.iter().any(|n| n.contains("/libext2fs.so")),
        "{names:?}"
    );
    assert!(names.iter().any(|n| n.contains("/libc.so")), "{names:?}");
    // glibc's dlopen'ed unwinder, which no library list names.
    if Path::new("/lib/x86_64-linux-gnu/libgcc_s.so.1").is_file() {
        assert!(
            names.iter().any(|n| n.ends_with("/libgcc_s.so.1")),
            "{names:?}"
        );
    }
    let interp = elf_interpreter(&mke2fs)
        .unwrap()
        .expect("mke2fs is dynamic");
    let interp = appliance_path(&interp).unwrap();
    assert!(names.contains(&interp), "{interp} not in {names:?}");
    // Parents come before what they hold.
    let usr = names.iter().position(|n| n == "usr").unwrap();
    let tool = names
        .iter()
        .position(|n| n.ends_with("sbin/mke2fs"))
        .unwrap();
    assert!(usr < tool);
    assert_eq!(layer.key, key_of(&find_tools(&default_dirs())));
}

#[test]
fn tools_layer_is_reused_from_the_cache() {
    let cache = tempfile::tempdir().unwrap();
    let dir = cache_in(&cache);
    let first = build_in(&dir, &default_dirs()).unwrap();
    let mtime = std::fs::metadata(&first.path).unwrap().modified().unwrap();
    let second = build_in(&dir, &default_dirs()).unwrap();
    assert_eq!(first.path, second.path);
    assert_eq!(first.key, second.key);
    assert_eq!(first.bytes, second.bytes);
    assert_eq!(
        std::fs::metadata(&second.path).unwrap().modified().unwrap(),
        mtime
    );
    // The layer and its record.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);
}

/// A layer changed in the cache is built again; its bytes are never the
/// ones loaded.
#[test]
fn a_changed_cached_layer_is_rebuilt_not_loaded() {
    let bin = tempfile::tempdir().unwrap();
    let usr_sbin = Path::new("/usr/sbin");
    let cache = tempfile::tempdir().unwrap();
    let dir = cache_in(&cache);
    // The host's tools if any, else an empty layer: either is a real layer.
    let search = vec![usr_sbin.to_path_buf(), bin.path().to_path_buf()];
    let built = build_in(&dir, &search).unwrap();
    let mut planted = built.bytes.to_vec();
    planted.extend_from_slice(b"070701 a planted entry");
    std::fs::write(&built.path, &planted).unwrap();
    let again = build_in(&dir, &search).unwrap();
    assert_eq!(again.bytes, built.bytes);
    assert_eq!(std::fs::read(&again.path).unwrap(), &*built.bytes);
    // A record rewritten to match a planted layer is no help without
    // write access: the directory is checked first.
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    assert!(matches!(
        trusted_dir(dir.path()).unwrap_err(),
        CacheError::Writable { .. }
    ));
    // A missing record: built again too.
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
    std::fs::remove_file(built.path.with_extension("cpio.sha256")).unwrap();
    std::fs::write(&built.path, &planted).unwrap();
    assert_eq!(build_in(&dir, &search).unwrap().bytes, built.bytes);
}

/// A new or changed tool is a new key; no tools is an empty layer.
#[test]
fn tools_key_follows_the_tools() {
    let bin = tempfile::tempdir().unwrap();
    let dirs = vec![bin.path().to_path_buf()];
    let cache = tempfile::tempdir().unwrap();
    let cache = cache_in(&cache);
    let empty = build_in(&cache, &dirs).unwrap();
    assert!(empty.tools.is_empty());
    assert_eq!(
        cpio_names(&std::fs::read(&empty.path).unwrap()),
        Vec::<String>::new()
    );
    let tool = bin.path().join("fatlabel");
    std::fs::write(&tool, b"#!/bin/true\n").unwrap();
    std::fs::set_permissions(&tool, std::fs::Permissions::from_mode(0o755)).unwrap();
    let one = key_of(&find_tools(&dirs));
    assert_ne!(one, empty.key);
    // A tool under /tmp has no place in the appliance: left out, loudly.
    let layer = build_in(&cache, &dirs).unwrap();
    assert_eq!((layer.key.as_str(), layer.tools.len()), (one.as_str(), 0));
    std::fs::write(&tool, b"#!/bin/true --longer\n").unwrap();
    assert_ne!(key_of(&find_tools(&dirs)), one);
}

#[test]
fn library_lists_are_parsed() {
    let text = "\tlinux-vdso.so.1 (0x00007ffd)\n\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x2)\n\t/lib64/ld-linux-x86-64.so.2 (0x3)\n";
    assert_eq!(
        parse_list(text).unwrap(),
        [
            PathBuf::from("/lib/x86_64-linux-gnu/libc.so.6"),
            PathBuf::from("/lib64/ld-linux-x86-64.so.2")
        ]
    );
    assert!(parse_list("\tlibfoo.so.1 => not found\n").is_err());
    assert_eq!(
        appliance_path(Path::new("/usr/lib/libx.so")).as_deref(),
        Some("usr/lib/libx.so")
    );
    assert_eq!(appliance_path(Path::new("/usr/../sysroot/x")), None);
    assert_eq!(appliance_path(Path::new("/sysroot/lib/x")), None);
    assert_eq!(appliance_path(Path::new("usr/lib/x")), None);
}
