//! make-fs sizing, inputs, and names that must stay file names.

use super::*;

#[test]
fn sizes() {
    assert_eq!(parse_size("512").unwrap(), (false, 512));
    assert_eq!(parse_size("+10M").unwrap(), (true, 10 << 20));
    assert_eq!(parse_size("2g").unwrap(), (false, 2 << 30));
    assert!(parse_size("ten").is_err());
    assert!(parse_size("5X").is_err());
    assert!(parse_size("+").is_err());
    let c = Content {
        data: 100 * MIB,
        entries: 10,
    };
    assert!(estimate(&c, "ext4") > 120 * MIB);
    assert_eq!(estimate(&Content::default(), "xfs"), 300 * MIB);
}

#[test]
fn compressed_tarballs_are_sized_through_the_decompressor() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    std::fs::create_dir(&src).unwrap();
    std::fs::write(src.join("f"), vec![1u8; 10_000]).unwrap();
    let tar = dir.path().join("t.tar");
    let mut b = tar::Builder::new(File::create(&tar).unwrap());
    b.append_dir_all("top", &src).unwrap();
    b.into_inner().unwrap();
    let plain = tar_content(&tar, None).unwrap();
    assert_eq!((plain.data, plain.entries), (4096 + 12288, 2));
    let gz = Command::new("gzip").arg("-k").arg(&tar).status();
    if gz.is_ok_and(|s| s.success()) {
        let gz = tar_content(&dir.path().join("t.tar.gz"), Some(Compression::Gzip)).unwrap();
        assert_eq!((gz.data, gz.entries), (plain.data, plain.entries));
    }
    let err = tar_content(&src.join("f"), None).unwrap_err().to_string();
    assert!(err.contains("--size"), "{err}");
}

/// The current directory set to `dir` until dropped; one test at a
/// time (it is the process's), since these need relative names.
struct InDir {
    _one_at_a_time: std::sync::MutexGuard<'static, ()>,
    before: PathBuf,
}

impl InDir {
    fn enter(dir: &Path) -> InDir {
        static ONE: std::sync::Mutex<()> = std::sync::Mutex::new(());
        let guard = ONE.lock().unwrap_or_else(|e| e.into_inner());
        let before = std::env::current_dir().unwrap();
        std::env::set_current_dir(dir).unwrap();
        InDir {
            _one_at_a_time: guard,
            before,
        }
    }
}

impl Drop for InDir {
    fn drop(&mut self) {
        let _ = std::env::set_current_dir(&self.before);
    }
}

/// Names qemu-img would read as options or protocols make exactly
/// the file they name.
#[test]
fn output_names_stay_file_names_for_qemu_img() {
    let Ok(version) = Command::new("qemu-img").arg("--version").output() else {
        panic!("qemu-img is needed (apt-get install qemu-utils)");
    };
    assert!(version.status.success());
    let dir = tempfile::tempdir().unwrap();
    let names = [
        "-obacking_file=x.img",
        "json:{\"driver\":\"file\",\"filename\":\"elsewhere.img\"}",
        "nbd:localhost:10809",
        "file:other.img",
    ];
    let _in_dir = InDir::enter(dir.path());
    for name in names {
        let relative = Path::new(name);
        create_image(relative, DriveFormat::Qcow2, MIB).unwrap_or_else(|e| panic!("{name}: {e}"));
        let made = dir.path().join(name);
        let header = std::fs::read(&made).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(header.starts_with(b"QFI\xfb"), "{name}: not a qcow2 image");
    }
    let mut listed: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    listed.sort();
    let mut expected = names.map(String::from).to_vec();
    expected.sort();
    assert_eq!(listed, expected, "only the files named, nothing else");
    assert_eq!(plain_file_arg(Path::new("/abs/-x")), Path::new("/abs/-x"));
    assert_eq!(plain_file_arg(Path::new("-x")), Path::new("./-x"));
}

/// A tarball whose name is an option to the decompressor is still
/// read as that file.
#[test]
fn a_tarball_named_like_an_option_is_sized() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    std::fs::create_dir(&src).unwrap();
    std::fs::write(src.join("f"), vec![1u8; 5000]).unwrap();
    let tar = dir.path().join("t.tar");
    let mut b = tar::Builder::new(File::create(&tar).unwrap());
    b.append_dir_all("top", &src).unwrap();
    b.into_inner().unwrap();
    let gz = Command::new("gzip")
        .arg("-k")
        .arg(&tar)
        .status()
        .expect("gzip");
    assert!(gz.success());
    // "-f" and "-c" to gzip: force, to stdout (ignoring the input).
    let dashed = dir.path().join("-fc.tar.gz");
    std::fs::rename(dir.path().join("t.tar.gz"), &dashed).unwrap();
    let _in_dir = InDir::enter(dir.path());
    let sized = tar_content(Path::new("-fc.tar.gz"), Some(Compression::Gzip)).unwrap();
    assert_eq!((sized.data, sized.entries), (4096 + 8192, 2));
}

#[test]
fn inputs() {
    let dir = tempfile::tempdir().unwrap();
    assert!(matches!(input_kind(dir.path()).unwrap(), Input::Dir));
    let tgz = dir.path().join("a.tar.gz");
    std::fs::write(&tgz, b"").unwrap();
    assert!(matches!(
        input_kind(&tgz).unwrap(),
        Input::Tar(Some(Compression::Gzip))
    ));
    let txt = dir.path().join("a.txt");
    std::fs::write(&txt, b"").unwrap();
    assert!(input_kind(&txt).is_err());
}
