//! `libguest --ro -a IMG inspect --json` on the same Debian tree laid out
//! three ways, in one run (issue 12's figure; target: LVM within 1.3x of
//! plain):
//!
//! 1. plain: MBR, ext4 root on /dev/sda1 (the peer);
//! 2. LVM: MBR, PV on /dev/sda1, VG debian-vg, ext4 root LV;
//! 3. LUKS+LVM: MBR, LUKS2 on /dev/sda1 (opened with `--key`), the same
//!    VG inside.
//!
//! The images are built with libguest's own API; every run's JSON must
//! name the same OS. Runs are interleaved (plain, LVM, LUKS, plain, …) so
//! a slow phase of the machine hits all three alike.
//!
//!     cargo bench -p libguest-benches --bench inspect_layouts
//!
//! LIBGUEST_BENCH_ITERS: runs per layout (default 5). LIBGUEST_BENCH_BACKEND:
//! tcg (the default, runs anywhere qemu does) or kvm (where KVM can run
//! Linux). Where /dev/kvm cannot run Linux these are TCG figures: the
//! ratios carry over, the seconds do not.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use libguest::{calls, Backend, DriveFormat, DriveOptions, Guest};
use libguest_benches::summarize;

const MIB: i64 = 1 << 20;
const KEY: &str = "bench-pass";

#[derive(Clone, Copy, PartialEq)]
enum Layout {
    Plain,
    Lvm,
    LuksLvm,
}

impl Layout {
    fn name(self) -> &'static str {
        match self {
            Layout::Plain => "plain ext4 partition",
            Layout::Lvm => "ext4 LV on LVM",
            Layout::LuksLvm => "ext4 LV on LVM on LUKS2",
        }
    }

    fn root(self) -> &'static str {
        match self {
            Layout::Plain => "/dev/sda1",
            _ => "/dev/debian-vg/root",
        }
    }
}

fn main() {
    let backend: Backend = std::env::var("LIBGUEST_BENCH_BACKEND")
        .unwrap_or_else(|_| "tcg".into())
        .parse()
        .unwrap_or_else(|e| panic!("LIBGUEST_BENCH_BACKEND: {e}"));
    let iters = libguest_benches::iterations(5);
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let cli = libguest_benches::release_cli(&root);
    let kernel = libguest_tests::appliance_kernel();
    let dir = tempfile::tempdir().expect("temporary directory");
    let layouts = [Layout::Plain, Layout::Lvm, Layout::LuksLvm];
    let images: Vec<PathBuf> = layouts
        .iter()
        .map(|&l| build_image(dir.path(), l, backend, &kernel))
        .collect();
    println!(
        "inspect --json, {iters} runs per layout, backend {backend:?}, same Debian tree in each"
    );
    let mut samples: Vec<Vec<Duration>> = vec![Vec::new(); layouts.len()];
    // One uncounted round first: the tools layer's cache is filled there.
    for round in 0..=iters {
        for (i, (&layout, image)) in layouts.iter().zip(&images).enumerate() {
            let took = inspect_once(&cli, &kernel, backend, layout, image);
            if round > 0 {
                samples[i].push(took);
            }
        }
    }
    let plain = summarize(&samples[0]).median_ms;
    println!(
        "{:<26} {:>10} {:>10} {:>10} {:>8}",
        "layout", "median ms", "min ms", "max ms", "ratio"
    );
    for (layout, s) in layouts.iter().zip(&samples) {
        let s = summarize(s);
        println!(
            "{:<26} {:>10.0} {:>10.0} {:>10.0} {:>8.2}",
            layout.name(),
            s.median_ms,
            s.min_ms,
            s.max_ms,
            s.median_ms / plain
        );
    }
}

/// One image of `layout` holding the Debian tree; built with the API.
fn build_image(dir: &Path, layout: Layout, backend: Backend, kernel: &Path) -> PathBuf {
    let image = dir.join(format!("{:?}.img", layout as u8));
    let mut g = Guest::new().expect("handle");
    g.disk_create(
        &image,
        "raw",
        256 * MIB,
        calls::disk_create::Opts::default(),
    )
    .expect("disk_create");
    g.set_backend(backend).expect("backend");
    g.set_kernel(kernel).expect("kernel");
    let opts = DriveOptions {
        format: Some(DriveFormat::Raw),
        ..Default::default()
    };
    g.add_drive_opts(&image, opts).expect("add_drive");
    g.launch()
        .unwrap_or_else(|e| panic!("launch: {e}\n{}", g.console_log()));
    g.part_disk("/dev/sda", "mbr").expect("part_disk");
    let pv = match layout {
        Layout::Plain => None,
        Layout::Lvm => Some("/dev/sda1"),
        Layout::LuksLvm => {
            g.luks_format("/dev/sda1", KEY, 0).expect("luks_format");
            g.cryptsetup_open("/dev/sda1", KEY, "cryptsda1", Default::default())
                .expect("cryptsetup_open");
            Some("/dev/mapper/cryptsda1")
        }
    };
    if let Some(pv) = pv {
        g.pvcreate(pv).expect("pvcreate");
        g.vgcreate("debian-vg", vec![pv]).expect("vgcreate");
        g.lvcreate_free("root", "debian-vg", 100)
            .expect("lvcreate_free");
    }
    let root = layout.root();
    g.mkfs("ext4", root, calls::mkfs::Opts::default())
        .expect("mkfs");
    g.mount(root, "/").expect("mount");
    for d in ["/etc", "/usr/bin", "/var/lib/dpkg"] {
        g.mkdir_p(d).expect("mkdir_p");
    }
    g.ln_s("usr/bin", "/bin").expect("ln_s");
    g.upload(Path::new("/bin/true"), "/usr/bin/bash")
        .expect("upload");
    g.write(
        "/etc/os-release",
        "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\nID=debian\n",
    )
    .expect("write");
    g.write("/etc/debian_version", "12.7\n").expect("write");
    g.write("/etc/hostname", "bench\n").expect("write");
    let fstab = match layout {
        Layout::Plain => "/dev/sda1 / ext4 defaults 0 1\n",
        _ => "/dev/mapper/debian--vg-root / ext4 defaults 0 1\n",
    };
    g.write("/etc/fstab", fstab).expect("write");
    let mut status = String::new();
    for n in 0..200 {
        status.push_str(&format!(
            "Package: pkg{n}\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1.{n}-1\nDescription: package {n}\n\n"
        ));
    }
    g.write("/var/lib/dpkg/status", status.as_str())
        .expect("write");
    g.shutdown().expect("shutdown");
    image
}

/// One `inspect --json` run: its wall time; checks it found the OS.
fn inspect_once(
    cli: &Path,
    kernel: &Path,
    backend: Backend,
    layout: Layout,
    image: &Path,
) -> Duration {
    let mut cmd = Command::new(cli);
    cmd.arg("--backend")
        .arg(match backend {
            Backend::Kvm => "kvm",
            _ => "tcg",
        })
        .arg("--kernel")
        .arg(kernel)
        .args(["--ro", "--format", "raw", "-a"])
        .arg(image);
    if layout == Layout::LuksLvm {
        cmd.arg("--key").arg(format!("/dev/sda1:key:{KEY}"));
    }
    cmd.args(["inspect", "--json"]);
    let t = Instant::now();
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    let took = t.elapsed();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let want = format!("\"root\": \"{}\"", layout.root());
    assert!(
        stdout.contains(&want) && stdout.contains("pkg199"),
        "{}: no {want} or applications in {stdout}",
        layout.name()
    );
    took
}
