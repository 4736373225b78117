//! The API table's own test cases (`protocol::CallInfo::tests`), as
//! libguestfs's generator runs its tests: every case starts from its init
//! kind on fresh scratch disks in one appliance, runs its steps through
//! the generic [`protocol::Call`] path with the CLI's word parsing, and
//! checks its last step. `tests/e2e/table.rs` runs them on both backends.

use std::io::Write;
use std::path::{Path, PathBuf};

use libguest::{calls, Backend, DriveFormat, DriveOptions, Guest, Stream};
use protocol::{Call, CallKind, TableTest, TestExpect, TestInit};

const MIB: i64 = 1 << 20;
/// /dev/sda: the disk every init kind prepares.
const SDA_MIB: i64 = 512;
/// /dev/sdb: a second blank disk (copies between devices).
const SDB_MIB: i64 = 32;

/// The files of the ISO (`iso_fs`) and their contents, as libguestfs's
/// test.iso has them.
pub fn iso_files() -> Vec<(&'static str, Vec<u8>)> {
    let lines: String = (0..10_000)
        .map(|i| format!("{i}abcdefghijklmnopqrstuvwxyz\n"))
        .collect();
    vec![
        ("known-1", b"abcdef\n".to_vec()),
        ("known-2", b"ghijkl\n".to_vec()),
        ("known-3", b"mnopqr\n".to_vec()),
        ("known-4", b"abc\ndef\nghi".to_vec()),
        ("known-5", b"abc\ndef\nghi\n".to_vec()),
        ("empty", Vec::new()),
        ("10klines", lines.into_bytes()),
        ("directory/file", b"in a directory\n".to_vec()),
    ]
}

/// A static busybox (Debian's busybox-static, which setup.sh installs):
/// the guest program that `command`, `sh` and `file_architecture` cases
/// run or inspect, as libguestfs's tests upload their own test binaries.
const BUSYBOX: &str = "/bin/busybox";

/// The ISO 9660 image (Rock Ridge, volume id TESTISO) of [`iso_files`]
/// plus an absolute symlink `/abssymlink -> /10klines`, `/bin/busybox`
/// (mode 0755) and `/bin/sh -> busybox`, made in `dir` with genisoimage (setup.sh
/// installs both).
pub fn iso_image(dir: &Path) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let tree = dir.join("table-iso-tree");
    let _ = std::fs::remove_dir_all(&tree);
    for (name, bytes) in iso_files() {
        let path = tree.join(name);
        std::fs::create_dir_all(path.parent().expect("a parent")).expect("make the ISO tree");
        std::fs::write(&path, bytes).expect("write an ISO file");
    }
    std::os::unix::fs::symlink("/10klines", tree.join("abssymlink")).expect("symlink");
    let busybox = std::fs::read(BUSYBOX).unwrap_or_else(|e| {
        panic!("{BUSYBOX}: {e} (the table tests need a static busybox: apt-get install busybox-static)")
    });
    std::fs::create_dir_all(tree.join("bin")).expect("make the ISO's bin");
    let guest_busybox = tree.join("bin/busybox");
    std::fs::write(&guest_busybox, busybox).expect("write busybox");
    std::fs::set_permissions(&guest_busybox, std::fs::Permissions::from_mode(0o755))
        .expect("chmod busybox");
    // /bin/sh for sh and sh_lines: busybox runs the applet argv[0] names.
    std::os::unix::fs::symlink("busybox", tree.join("bin/sh")).expect("symlink /bin/sh");
    let iso = dir.join("table-test.iso");
    let out = std::process::Command::new("genisoimage")
        .args(["-quiet", "-R", "-V", "TESTISO", "-o"])
        .arg(&iso)
        .arg(&tree)
        .output()
        .unwrap_or_else(|e| panic!("genisoimage: {e} (apt-get install genisoimage)"));
    assert!(
        out.status.success(),
        "genisoimage: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    iso
}

/// What went wrong in one step.
enum StepError {
    /// The test's own words are wrong (a bug in the table's test).
    Usage(String),
    /// The call failed.
    Call(libguest::Error),
}

/// The host files of streaming steps: the fixtures below, and whatever
/// earlier steps of the case saved (a FileOut step's host file word is
/// `-`, its output as the result, or a name in here).
struct HostFiles(PathBuf);

/// The fixtures every case finds among its host files, as libguestfs's
/// tests find them in test-data/files.
fn host_fixtures() -> Vec<(&'static str, Vec<u8>)> {
    let mut tar = tar::Builder::new(Vec::new());
    for (name, body) in [("hello", "hello\n"), ("world", "world\n")] {
        let mut header = tar::Header::new_gnu();
        header.set_size(body.len() as u64);
        header.set_mode(0o644);
        header.set_mtime(1_500_000_000);
        header.set_uid(0);
        header.set_gid(0);
        header.set_entry_type(tar::EntryType::Regular);
        tar.append_data(&mut header, name, body.as_bytes())
            .expect("tar fixture");
    }
    let tar = tar.into_inner().expect("tar fixture");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&tar).expect("gzip fixture");
    let gz = gz.finish().expect("gzip fixture");
    vec![
        ("helloworld.tar", tar),
        ("helloworld.tar.gz", gz),
        ("hello.b64", b"aGVsbG8K\n".to_vec()),
    ]
}

impl HostFiles {
    fn new(dir: PathBuf) -> HostFiles {
        std::fs::create_dir_all(&dir).expect("host files dir");
        for (name, bytes) in host_fixtures() {
            std::fs::write(dir.join(name), bytes).expect("write a host fixture");
        }
        HostFiles(dir)
    }

    /// A step's host file: a plain name in the directory.
    fn path(&self, name: &str) -> Result<PathBuf, StepError> {
        if name.is_empty() || name.contains('/') || name == "." || name == ".." {
            return Err(StepError::Usage(format!(
                "host file {name:?}: give a plain name (a fixture, or a file an earlier step wrote)"
            )));
        }
        Ok(self.0.join(name))
    }
}

/// A host call's words with each `@name` (alone, or as an optional
/// argument's value) made the path of host file `name`: host calls such
/// as disk_create and disk_format take host paths.
fn host_paths(files: &HostFiles, words: &[String]) -> Result<Vec<String>, StepError> {
    let at = |w: &str| -> Result<Option<String>, StepError> {
        match w.strip_prefix('@') {
            Some(name) => Ok(Some(files.path(name)?.to_string_lossy().into_owned())),
            None => Ok(None),
        }
    };
    words
        .iter()
        .map(|w| {
            if let Some(path) = at(w)? {
                return Ok(path);
            }
            match w.split_once(':') {
                Some((opt, value)) => Ok(match at(value)? {
                    Some(path) => format!("{opt}:{path}"),
                    None => w.clone(),
                }),
                None => Ok(w.clone()),
            }
        })
        .collect()
}

/// Runs one step of call `C` and renders its result.
fn step<C: Call>(g: &mut Guest, files: &HostFiles, words: &[String]) -> Result<String, StepError> {
    let info = C::INFO;
    let words = match info.kind {
        CallKind::Host => host_paths(files, words)?,
        _ => words.to_vec(),
    };
    let mut w = words_for::<C>(&words).map_err(StepError::Usage)?;
    let ret = match info.kind {
        CallKind::Plain | CallKind::Host => {
            let args = C::read_args(&mut w).map_err(StepError::Usage)?;
            g.call::<C>(&args, Stream::None).map_err(StepError::Call)?
        }
        CallKind::FileOut => {
            let args = C::read_args(&mut w).map_err(StepError::Usage)?;
            let host: String = w.next("HOSTFILE").map_err(StepError::Usage)?;
            let mut out = Vec::new();
            let mut sink: Box<dyn Write + '_> = Box::new(&mut out);
            g.call::<C>(&args, Stream::Out(&mut sink))
                .map_err(StepError::Call)?;
            drop(sink);
            if host == "-" {
                return Ok(String::from_utf8_lossy(&out).into_owned());
            }
            let path = files.path(&host)?;
            std::fs::write(&path, &out)
                .map_err(|e| StepError::Usage(format!("{}: {e}", path.display())))?;
            return Ok(String::new());
        }
        CallKind::FileIn => {
            let host: String = w.next("HOSTFILE").map_err(StepError::Usage)?;
            let args = C::read_args(&mut w).map_err(StepError::Usage)?;
            let path = files.path(&host)?;
            let mut source = std::fs::File::open(&path)
                .map_err(|e| StepError::Usage(format!("{}: {e}", path.display())))?;
            g.call::<C>(&args, Stream::In(&mut source))
                .map_err(StepError::Call)?
        }
    };
    let value = serde_json::to_value(&ret)
        .map_err(|e| StepError::Usage(format!("{}: result not renderable: {e}", info.name)))?;
    Ok(render(&value, info.ret))
}

/// A result as text: strings as they are, numbers and booleans as words,
/// lists one item a line, pairs `key: value`, structs `field: value`
/// lines; bytes (`Vec<u8>`) as text.
pub fn render(value: &serde_json::Value, ret_ty: &str) -> String {
    use serde_json::Value;
    if ret_ty.replace(' ', "") == "Vec<u8>" {
        if let Value::Array(items) = value {
            let bytes: Vec<u8> = items
                .iter()
                .filter_map(|v| v.as_u64().and_then(|b| u8::try_from(b).ok()))
                .collect();
            return String::from_utf8_lossy(&bytes).into_owned();
        }
    }
    let pairs = ret_ty.contains("(String, String)");
    let scalar = |v: &Value| match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let item = |v: &Value| match v {
        Value::Array(kv) if pairs && kv.len() == 2 => {
            format!("{}: {}", scalar(&kv[0]), scalar(&kv[1]))
        }
        Value::Object(fields) => fields
            .iter()
            .map(|(k, v)| format!("{k}: {}", scalar(v)))
            .collect::<Vec<_>>()
            .join(", "),
        other => scalar(other),
    };
    match value {
        Value::Array(items) => items.iter().map(item).collect::<Vec<_>>().join("\n"),
        Value::Object(fields) => fields
            .iter()
            .map(|(k, v)| format!("{k}: {}", scalar(v)))
            .collect::<Vec<_>>()
            .join("\n"),
        other => scalar(other),
    }
}

/// Parses one step of call `C` without running it.
fn parse<C: Call>(words: &[String]) -> Result<(), String> {
    let mut w = words_for::<C>(words)?;
    if C::INFO.kind == CallKind::FileIn {
        w.next::<String>("HOSTFILE")?;
    }
    C::read_args(&mut w).map(drop)
}

/// A step's words checked against call `C`'s arguments, with the host
/// file of a streaming call where guestfish has it: first for FileIn,
/// last for FileOut.
fn words_for<C: Call>(words: &[String]) -> Result<protocol::words::Words<'_>, String> {
    let info = C::INFO;
    let names: Vec<&str> = info.args.iter().map(|a| a.name).collect();
    let opts: Vec<&str> = info.opts.iter().map(|a| a.name).collect();
    let host = matches!(info.kind, CallKind::FileIn | CallKind::FileOut).then_some("HOSTFILE");
    protocol::words::Words::new(info.name, words, &names, &opts, host)
}

macro_rules! dispatcher {
    ($($name:ident)*) => {
        /// Parses one step by its command name, as [`dispatch`] would.
        pub fn parse_step(words: &[String]) -> Result<(), String> {
            let Some((name, args)) = words.split_first() else {
                return Err("an empty step".into());
            };
            match name.replace('-', "_").as_str() {
                $( stringify!($name) => parse::<calls::$name::Call>(args), )*
                other => Err(format!("no call {other}")),
            }
        }

        /// Runs one step by its command name (`-` or `_`).
        fn dispatch(g: &mut Guest, files: &HostFiles, words: &[String]) -> Result<String, StepError> {
            let Some((name, args)) = words.split_first() else {
                return Err(StepError::Usage("an empty step".into()));
            };
            match name.replace('-', "_").as_str() {
                $( stringify!($name) => step::<calls::$name::Call>(g, files, args), )*
                other => Err(StepError::Usage(format!("no call {other}"))),
            }
        }
    };
}
protocol::for_each_call_name!(dispatcher);

/// The appliance the cases run in, with its scratch disks.
pub struct Runner {
    g: Guest,
    dir: tempfile::TempDir,
    /// The host files of streaming steps, made anew for every case.
    files: Option<HostFiles>,
    /// Whether /dev/sda holds the LVM of `basic_fs_on_lvm`.
    lvm: bool,
}

fn must<T>(g: &Guest, what: &str, r: libguest::Result<T>) -> T {
    r.unwrap_or_else(|e| panic!("table test init: {what}: {e}\n{}", g.console_log()))
}

impl Runner {
    /// Launches on `backend` with /dev/sda and /dev/sdb blank and the ISO
    /// at `iso` (read-only) as /dev/sdc.
    pub fn launch(backend: Backend, iso: &Path) -> Runner {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut g = Guest::new().expect("handle");
        g.set_backend(backend).expect("backend");
        for (name, mib) in [("sda.img", SDA_MIB), ("sdb.img", SDB_MIB)] {
            let path = dir.path().join(name);
            g.disk_create(&path, "raw", mib * MIB, calls::disk_create::Opts::default())
                .expect("disk_create");
            let opts = DriveOptions {
                format: Some(DriveFormat::Raw),
                ..Default::default()
            };
            g.add_drive_opts(&path, opts).expect("add_drive_opts");
        }
        let opts = DriveOptions {
            format: Some(DriveFormat::Raw),
            readonly: true,
            ..Default::default()
        };
        g.add_drive_opts(iso, opts).expect("add the ISO");
        g.set_call_timeout(Some(std::time::Duration::from_secs(120)));
        if let Err(e) = g.launch() {
            panic!("launch: {e}\n{}", g.console_log());
        }
        Runner {
            g,
            dir,
            files: None,
            lvm: false,
        }
    }

    /// Puts the disks in `init`'s state: everything of the last case
    /// unmounted and wiped first.
    fn init(&mut self, init: TestInit) {
        let g = &mut self.g;
        let r = g.umount_all();
        must(g, "umount_all", r);
        if self.lvm {
            let r = g.vgremove("VG");
            must(g, "vgremove VG", r);
            let r = g.pvremove("/dev/sda1");
            must(g, "pvremove", r);
            self.lvm = false;
        }
        for disk in ["/dev/sda", "/dev/sdb"] {
            let r = g.zero(disk);
            must(g, "zero", r);
        }
        let r = g.blockdev_rereadpt("/dev/sda");
        must(g, "blockdev_rereadpt", r);
        let part = matches!(
            init,
            TestInit::Partition | TestInit::BasicFs | TestInit::BasicFsOnLvm
        );
        if part {
            let r = g.part_disk("/dev/sda", "mbr");
            must(g, "part_disk", r);
            // The last case's filesystem or PV label starts where the new
            // partition does.
            let r = g.zero("/dev/sda1");
            must(g, "zero /dev/sda1", r);
        }
        let fs_device = match init {
            TestInit::BasicFs => Some("/dev/sda1"),
            TestInit::BasicFsOnLvm => {
                let r = g.pvcreate("/dev/sda1");
                must(g, "pvcreate", r);
                let r = g.vgcreate("VG", vec!["/dev/sda1"]);
                must(g, "vgcreate", r);
                self.lvm = true;
                let r = g.lvcreate("LV", "VG", 8);
                must(g, "lvcreate", r);
                Some("/dev/VG/LV")
            }
            _ => None,
        };
        if let Some(dev) = fs_device {
            let r = g.mkfs("ext2", dev, calls::mkfs::Opts::default());
            must(g, "mkfs ext2", r);
            let r = g.mount(dev, "/");
            must(g, "mount", r);
        }
        if init == TestInit::IsoFs {
            let r = g.mount_ro("/dev/sdc", "/");
            must(g, "mount_ro the ISO", r);
        }
    }

    /// Runs one case; Err says how it failed.
    pub fn run(&mut self, t: &TableTest) -> Result<(), String> {
        self.init(t.init);
        let dir = self.dir.path().join("host-files");
        let _ = std::fs::remove_dir_all(&dir);
        let files = self.files.insert(HostFiles::new(dir));
        let Some((last, before)) = t.steps.split_last() else {
            return Err("no steps".into());
        };
        let words = |s: &[&str]| s.iter().map(|w| w.to_string()).collect::<Vec<String>>();
        for s in before {
            match dispatch(&mut self.g, files, &words(s)) {
                Ok(_) => {}
                Err(StepError::Usage(m)) => return Err(format!("{s:?}: {m}")),
                Err(StepError::Call(e)) => return Err(format!("{s:?} failed: {e}")),
            }
        }
        let got = dispatch(&mut self.g, files, &words(last));
        match (t.expect, got) {
            (_, Err(StepError::Usage(m))) => Err(format!("{last:?}: {m}")),
            (TestExpect::Fails, Err(StepError::Call(_))) => Ok(()),
            (TestExpect::Fails, Ok(out)) => {
                Err(format!("{last:?} succeeded ({out:?}); it must fail"))
            }
            (_, Err(StepError::Call(e))) => Err(format!("{last:?} failed: {e}")),
            (TestExpect::Succeeds, Ok(_)) => Ok(()),
            (TestExpect::Output(want), Ok(out)) if out == want => Ok(()),
            (TestExpect::Contains(want), Ok(out)) if out.contains(want) => Ok(()),
            (expect, Ok(out)) => Err(format!("{last:?} gave {out:?}; expected {expect:?}")),
        }
    }

    /// Runs every case of the table, each call's in order; the failures
    /// as "call #N: why", and how many ran.
    pub fn run_all(&mut self) -> (usize, Vec<String>) {
        let mut ran = 0;
        let mut failures = Vec::new();
        for info in protocol::CALLS {
            for (n, t) in info.tests.iter().enumerate() {
                ran += 1;
                if let Err(why) = self.run(t) {
                    eprintln!("table test {} #{n}: FAILED: {why}", info.name);
                    failures.push(format!("{} #{n}: {why}", info.name));
                }
            }
        }
        (ran, failures)
    }

    /// Shuts the appliance down.
    pub fn shutdown(mut self) {
        let r = self.g.shutdown();
        must(&self.g, "shutdown", r);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every step of every case names a call and parses, so a typo in the
    /// table fails here, without an appliance.
    #[test]
    fn every_table_test_step_parses() {
        let mut cases = 0;
        for info in protocol::CALLS {
            for (n, t) in info.tests.iter().enumerate() {
                cases += 1;
                assert!(!t.steps.is_empty(), "{} #{n}: no steps", info.name);
                for step in t.steps {
                    let words: Vec<String> = step.iter().map(|w| w.to_string()).collect();
                    if let Err(e) = parse_step(&words) {
                        panic!("{} #{n}: {step:?}: {e}", info.name);
                    }
                }
                let last = t.steps[t.steps.len() - 1][0].replace('-', "_");
                let uses_call = t.steps.iter().any(|s| s[0].replace('-', "_") == info.name);
                assert!(
                    uses_call,
                    "{} #{n}: no step runs {} (last: {last})",
                    info.name, info.name
                );
            }
        }
        assert!(cases >= 250, "{cases} table test cases");
    }

    #[test]
    fn results_render_as_the_cases_expect() {
        use serde_json::json;
        assert_eq!(render(&json!(["a", "b"]), "Vec<String>"), "a\nb");
        assert_eq!(render(&json!(true), "bool"), "true");
        assert_eq!(render(&json!(null), "()"), "");
        assert_eq!(render(&json!([104, 105]), "Vec<u8>"), "hi");
        assert_eq!(
            render(&json!([["k", "v"]]), "Vec<(String, String)>"),
            "k: v"
        );
        assert_eq!(render(&json!({"a": 1, "b": "x"}), "Statns"), "a: 1\nb: x");
        assert_eq!(render(&json!([{"a": 1}]), "Vec<Dirent>"), "a: 1");
    }
}
