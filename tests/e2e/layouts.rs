//! e2e: the disks real installers make, built with libguest's own API in
//! one appliance, then inspected together, read-only, by a second one:
//! - RHEL 9: GPT, /boot xfs, xfs root and a swap LV on VG "rhel";
//! - Debian server: MBR, /boot ext4, ext4 LVs for /, /usr, /var and /home
//!   on VG "debian-vg" (a dash: /dev/mapper/debian--vg-root in fstab);
//! - Fedora: GPT, /boot ext4, btrfs with subvolumes root and home;
//! - md RAID1 root: two disks, ext4 on the array;
//! - Ubuntu encrypted: GPT, /boot ext4, LUKS2 holding VG "ubuntu-vg";
//! - LUKS on an LV: an ext4 root inside LUKS on LV vault/root;
//! - on one more GPT disk, with named partitions: CoreOS-style (boot,
//!   root, and /usr apart, /etc/os-release a link into /usr), an older
//!   Ubuntu known only by /etc/lsb-release, with a dpkg database, and
//!   Windows (NTFS, SOFTWARE and SYSTEM hives, MountedDevices naming the
//!   partition by its GPT GUID, so C: resolves to it).
//!
//! The encrypted ones open with keys given to the handle (`add_key`, by
//! device name and by LUKS UUID, after a wrong key for `all`), which
//! inspect_os uses as libguestfs's tools use `--key`.
//!
//! Nine OSes on one set of disks give nine roots; each is checked field
//! by field, mounted as its fstab says, and a file read through it. The
//! images' bytes do not change. The read-only drives get libguestfs's
//! throwaway overlay, except the md members: those are write-protected
//! (`overlay: Some(false)`), so the array is assembled through the
//! appliance's own dm overlays (luksmd/overlay.rs).

use std::path::{Path, PathBuf};

use libguest_tests::fingerprint;

use libguest::{calls, Backend, DriveFormat, DriveOptions, Guest, KeyTarget};

const MIB: i64 = 1 << 20;
const UBUNTU_KEY: &[u8] = b"ubuntu pass phrase";
const VAULT_KEY: &[u8] = b"vault\x00key\xff";

/// Prints a step with the time since the first step, so that a slow or
/// stuck run (the test host's output is all CI keeps) shows where it is.
/// A step that lasts over 150 s dumps every thread's state and kernel
/// stack once: the test host's timeout would otherwise end it silently.
fn progress(step: &str) {
    use std::sync::atomic::{AtomicU64, Ordering};
    static START: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    static LAST_STEP_S: AtomicU64 = AtomicU64::new(0);
    let start = *START.get_or_init(|| {
        std::thread::spawn(move || loop {
            std::thread::sleep(std::time::Duration::from_secs(10));
            let Some(start) = START.get() else { continue };
            let now = start.elapsed().as_secs();
            if now.saturating_sub(LAST_STEP_S.load(Ordering::Relaxed)) > 150 {
                eprintln!(
                    "layouts +{now}s: a step is stuck; the threads:\n{}",
                    threads()
                );
                LAST_STEP_S.store(now, Ordering::Relaxed);
            }
        });
        std::time::Instant::now()
    });
    LAST_STEP_S.store(start.elapsed().as_secs(), Ordering::Relaxed);
    eprintln!("layouts +{:.1}s: {step}", start.elapsed().as_secs_f64());
}

/// Each thread of this process: name, state, wait channel, kernel stack.
fn threads() -> String {
    let mut out = String::new();
    for task in std::fs::read_dir("/proc/self/task")
        .into_iter()
        .flatten()
        .flatten()
    {
        let path = task.path();
        let read = |f: &str| std::fs::read_to_string(path.join(f)).unwrap_or_default();
        let state = read("status")
            .lines()
            .find(|l| l.starts_with("State:"))
            .unwrap_or_default()
            .to_string();
        out += &format!(
            "{} {} {state} wchan={}\n{}\n",
            path.display(),
            read("comm").trim(),
            read("wchan"),
            read("stack")
        );
    }
    out
}

/// An appliance with these images, each read-only or not; read-only md
/// members are write-protected.
fn launched(backend: Backend, images: &[(&PathBuf, bool)]) -> Guest {
    let mut g = Guest::new().unwrap();
    g.set_backend(backend).unwrap();
    for (image, readonly) in images {
        let md_member = image
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with("md"));
        let opts = DriveOptions {
            format: Some(DriveFormat::Raw),
            readonly: *readonly,
            overlay: (*readonly && md_member).then_some(false),
            ..Default::default()
        };
        g.add_drive_opts(*image, opts).unwrap();
    }
    // A stuck call fails the test with the appliance's console, in
    // minutes, rather than the test host's timeout with no output.
    g.set_call_timeout(Some(std::time::Duration::from_secs(120)));
    progress("launch");
    if let Err(e) = g.launch() {
        panic!("launch: {e}\n{}", g.console_log());
    }
    g
}

fn mkfs(g: &mut Guest, fstype: &str, device: &str, label: &str) {
    let opts = calls::mkfs::Opts {
        label: Some(label.into()),
        ..Default::default()
    };
    g.mkfs(fstype, device, opts)
        .unwrap_or_else(|e| panic!("mkfs {fstype} {device}: {e}\n{}", g.console_log()));
}

/// /etc and the files inspection reads, on the filesystem mounted at /.
fn os_tree(g: &mut Guest, os_release: &str, fstab: &str, hostname: &str) {
    for dir in ["/etc", "/usr/bin", "/boot", "/home", "/var"] {
        g.mkdir_p(dir).unwrap();
    }
    g.ln_s("usr/bin", "/bin").unwrap();
    g.write("/etc/os-release", os_release).unwrap();
    g.write("/etc/fstab", fstab).unwrap();
    g.write("/etc/hostname", format!("{hostname}\n").as_str())
        .unwrap();
    g.upload(Path::new("/bin/true"), "/usr/bin/bash").unwrap();
}

/// Builds every layout; returns the UUID of the LUKS container on the LV.
fn build(g: &mut Guest) -> String {
    // RHEL 9 on /dev/sda.
    progress("build: RHEL 9");
    g.part_init("/dev/sda", "gpt").unwrap();
    g.part_add("/dev/sda", "p", 2048, 2048 + 614_400 - 1)
        .unwrap();
    g.part_add("/dev/sda", "p", 616_448, -2048).unwrap();
    mkfs(g, "xfs", "/dev/sda1", "boot");
    g.pvcreate("/dev/sda2").unwrap();
    g.vgcreate("rhel", vec!["/dev/sda2"]).unwrap();
    g.lvcreate("swap", "rhel", 16).unwrap();
    g.lvcreate_free("root", "rhel", 100).unwrap();
    mkfs(g, "xfs", "/dev/rhel/root", "");
    g.mkswap("/dev/rhel/swap", calls::mkswap::Opts::default())
        .unwrap();
    let boot_uuid = g.vfs_uuid("/dev/sda1").unwrap();
    g.mount("/dev/rhel/root", "/").unwrap();
    os_tree(
        g,
        "NAME=\"Red Hat Enterprise Linux\"\nVERSION=\"9.4 (Plow)\"\nID=\"rhel\"\nVERSION_ID=\"9.4\"\nPRETTY_NAME=\"Red Hat Enterprise Linux 9.4 (Plow)\"\n",
        &format!("/dev/mapper/rhel-root / xfs defaults 0 0\nUUID={boot_uuid} /boot xfs defaults 0 0\n/dev/mapper/rhel-swap none swap defaults 0 0\n"),
        "rhel9.example.com",
    );
    g.write(
        "/etc/redhat-release",
        "Red Hat Enterprise Linux release 9.4 (Plow)\n",
    )
    .unwrap();
    g.write("/usr/bin/dnf", "#!/usr/bin/python3\n").unwrap();
    g.mount("/dev/sda1", "/boot").unwrap();
    g.write("/boot/loader.conf", "rhel boot\n").unwrap();
    g.umount_all().unwrap();

    // Debian server on /dev/sdb.
    progress("build: Debian server");
    g.part_init("/dev/sdb", "mbr").unwrap();
    g.part_add("/dev/sdb", "p", 2048, 2048 + 65_536 - 1)
        .unwrap();
    g.part_add("/dev/sdb", "p", 67_584, -2048).unwrap();
    mkfs(g, "ext4", "/dev/sdb1", "");
    g.pvcreate("/dev/sdb2").unwrap();
    g.vgcreate("debian-vg", vec!["/dev/sdb2"]).unwrap();
    for (lv, mib) in [("root", 40), ("usr", 40), ("var", 24), ("swap_1", 8)] {
        g.lvcreate(lv, "debian-vg", mib).unwrap();
    }
    g.lvcreate_free("home", "debian-vg", 100).unwrap();
    for lv in ["root", "usr", "var", "home"] {
        mkfs(g, "ext4", &format!("/dev/debian-vg/{lv}"), "");
    }
    let boot_uuid = g.vfs_uuid("/dev/sdb1").unwrap();
    g.mount("/dev/debian-vg/root", "/").unwrap();
    os_tree(
        g,
        "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\nID=debian\n",
        &format!(
            "/dev/mapper/debian--vg-root / ext4 errors=remount-ro 0 1\nUUID={boot_uuid} /boot ext4 defaults 0 2\n/dev/mapper/debian--vg-home /home ext4 defaults 0 2\n/dev/mapper/debian--vg-usr /usr ext4 defaults 0 2\n/dev/mapper/debian--vg-var /var ext4 defaults 0 2\n/dev/mapper/debian--vg-swap_1 none swap sw 0 0\n"
        ),
        "deb-server",
    );
    g.write("/etc/debian_version", "12.7\n").unwrap();
    g.mount("/dev/debian-vg/var", "/var").unwrap();
    g.mkdir_p("/var/lib/dpkg").unwrap();
    g.write(
        "/var/lib/dpkg/status",
        "Package: openssh-server\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1:9.2p1-2+deb12u3\nDescription: secure shell (SSH) server\n",
    )
    .unwrap();
    g.umount_all().unwrap();

    // Fedora on /dev/sdc: btrfs subvolumes root and home.
    progress("build: Fedora");
    g.part_init("/dev/sdc", "gpt").unwrap();
    g.part_add("/dev/sdc", "p", 2048, 2048 + 65_536 - 1)
        .unwrap();
    g.part_add("/dev/sdc", "p", 67_584, -2048).unwrap();
    mkfs(g, "ext4", "/dev/sdc1", "");
    g.mkfs_btrfs(
        vec!["/dev/sdc2"],
        calls::mkfs_btrfs::Opts {
            label: Some("fedora".into()),
            ..Default::default()
        },
    )
    .unwrap();
    let btrfs_uuid = g.vfs_uuid("/dev/sdc2").unwrap();
    g.mount("/dev/sdc2", "/").unwrap();
    for sub in ["/root", "/home"] {
        g.btrfs_subvolume_create(sub, calls::btrfs_subvolume_create::Opts::default())
            .unwrap();
    }
    g.umount_all().unwrap();
    g.mount("btrfsvol:/dev/sdc2/root", "/").unwrap();
    os_tree(
        g,
        "NAME=\"Fedora Linux\"\nVERSION=\"40 (Workstation Edition)\"\nID=fedora\nVERSION_ID=40\nPRETTY_NAME=\"Fedora Linux 40 (Workstation Edition)\"\n",
        &format!(
            "UUID={btrfs_uuid} / btrfs subvol=root,compress=zstd:1 0 0\nUUID={btrfs_uuid} /home btrfs subvol=home,compress=zstd:1 0 0\n"
        ),
        "fedora-ws",
    );
    g.umount_all().unwrap();
    g.mount("btrfsvol:/dev/sdc2/home", "/").unwrap();
    g.write("/notes.txt", "fedora home\n").unwrap();
    g.umount_all().unwrap();

    // md RAID1 root over /dev/sdd1 and /dev/sde1.
    progress("build: md RAID1 root");
    for disk in ["/dev/sdd", "/dev/sde"] {
        g.part_disk(disk, "mbr").unwrap();
    }
    let raid = calls::md_create::Opts {
        level: Some("raid1".into()),
        ..Default::default()
    };
    g.md_create("root", vec!["/dev/sdd1", "/dev/sde1"], raid)
        .unwrap_or_else(|e| panic!("md_create: {e}\n{}", g.console_log()));
    let md = g.list_md_devices().unwrap();
    assert_eq!(md.len(), 1, "{md:?}");
    mkfs(g, "ext4", &md[0], "mdroot");
    g.mount(&md[0], "/").unwrap();
    os_tree(
        g,
        "PRETTY_NAME=\"Ubuntu 24.04.1 LTS\"\nNAME=\"Ubuntu\"\nVERSION_ID=\"24.04\"\nID=ubuntu\nID_LIKE=debian\n",
        "LABEL=mdroot / ext4 defaults 0 1\n",
        "raid-box",
    );
    g.umount_all().unwrap();

    // Ubuntu encrypted on /dev/sdf: the installer's LUKS2 + LVM default.
    progress("build: Ubuntu encrypted");
    g.part_init("/dev/sdf", "gpt").unwrap();
    g.part_add("/dev/sdf", "p", 2048, 2048 + 65_536 - 1)
        .unwrap();
    g.part_add("/dev/sdf", "p", 67_584, -2048).unwrap();
    mkfs(g, "ext4", "/dev/sdf1", "");
    g.luks_format("/dev/sdf2", UBUNTU_KEY, 0)
        .unwrap_or_else(|e| panic!("luks_format: {e}\n{}", g.console_log()));
    g.cryptsetup_open("/dev/sdf2", UBUNTU_KEY, "dm_crypt-0", Default::default())
        .unwrap();
    g.pvcreate("/dev/mapper/dm_crypt-0").unwrap();
    g.vgcreate("ubuntu-vg", vec!["/dev/mapper/dm_crypt-0"])
        .unwrap();
    g.lvcreate_free("ubuntu-lv", "ubuntu-vg", 100).unwrap();
    mkfs(g, "ext4", "/dev/ubuntu-vg/ubuntu-lv", "");
    let boot_uuid = g.vfs_uuid("/dev/sdf1").unwrap();
    g.mount("/dev/ubuntu-vg/ubuntu-lv", "/").unwrap();
    os_tree(
        g,
        "PRETTY_NAME=\"Ubuntu 22.04.4 LTS\"\nNAME=\"Ubuntu\"\nVERSION_ID=\"22.04\"\nID=ubuntu\nID_LIKE=debian\n",
        &format!("/dev/mapper/ubuntu--vg-ubuntu--lv / ext4 defaults 0 1\nUUID={boot_uuid} /boot ext4 defaults 0 1\n"),
        "ubuntu-crypt",
    );
    g.mount("/dev/sdf1", "/boot").unwrap();
    g.write("/boot/grub.cfg", "ubuntu boot\n").unwrap();
    g.umount_all().unwrap();
    g.vg_activate(false, vec!["ubuntu-vg"]).unwrap();
    g.cryptsetup_close("/dev/mapper/dm_crypt-0").unwrap();

    // LUKS on an LV, /dev/sdg: VG vault, LV root encrypted, ext4 inside.
    progress("build: LUKS on an LV");
    g.part_disk("/dev/sdg", "mbr").unwrap();
    g.pvcreate("/dev/sdg1").unwrap();
    g.vgcreate("vault", vec!["/dev/sdg1"]).unwrap();
    g.lvcreate_free("root", "vault", 100).unwrap();
    progress("luks_format /dev/vault/root");
    g.luks_format("/dev/vault/root", VAULT_KEY, 0).unwrap();
    let vault_uuid = g.luks_uuid("/dev/vault/root").unwrap();
    let mapped = format!("/dev/mapper/luks-{vault_uuid}");
    g.cryptsetup_open(
        "/dev/vault/root",
        VAULT_KEY,
        format!("luks-{vault_uuid}"),
        Default::default(),
    )
    .unwrap();
    progress("mkfs the opened LV");
    mkfs(g, "ext4", &mapped, "");
    g.mount(&mapped, "/").unwrap();
    os_tree(
        g,
        "PRETTY_NAME=\"Debian GNU/Linux 11 (bullseye)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"11\"\nID=debian\n",
        &format!("{mapped} / ext4 defaults 0 1\n"),
        "vault-box",
    );
    g.write("/etc/debian_version", "11.9\n").unwrap();
    g.umount_all().unwrap();
    progress("cryptsetup_close");
    g.cryptsetup_close(&mapped).unwrap();
    build_extra(g);
    vault_uuid
}

/// The Windows partition's GPT GUID, and its bytes as the partition
/// entry (and so MountedDevices' `DMIO:ID:` blob) holds them.
const WINDOWS_GUID: &str = "01020304-0506-0708-090A-0B0C0D0E0F10";
const WINDOWS_GUID_BYTES: [u8; 16] = [4, 3, 2, 1, 6, 5, 8, 7, 9, 10, 11, 12, 13, 14, 15, 16];

/// /dev/sdh (GPT): CoreOS-style boot, root and /usr (1-3), Ubuntu by
/// lsb-release (4), Windows (5).
fn build_extra(g: &mut Guest) {
    progress("build: CoreOS, Ubuntu (lsb-release), Windows");
    let disk = "/dev/sdh";
    g.part_init(disk, "gpt").unwrap();
    let bounds = [
        (2048, 34_815),
        (34_816, 100_351),
        (100_352, 198_655),
        (198_656, 296_959),
        (296_960, -2048),
    ];
    for (start, end) in bounds {
        g.part_add(disk, "p", start, end).unwrap();
    }
    for (n, name) in [
        (1, "boot"),
        (2, "root"),
        (3, "usr"),
        (4, "ubuntu"),
        (5, "Basic data partition"),
    ] {
        g.part_set_name(disk, n, name).unwrap();
    }
    g.part_set_gpt_guid(disk, 5, WINDOWS_GUID).unwrap();
    for (n, label) in [(1, "cos-boot"), (2, "root"), (3, "usr"), (4, "focal")] {
        mkfs(g, "ext4", &format!("{disk}{n}"), label);
    }

    // CoreOS: the root holds /etc, whose os-release links into the /usr
    // filesystem; the root's /bin links into /usr too.
    g.mount("/dev/sdh2", "/").unwrap();
    for dir in ["/etc", "/usr", "/boot", "/var"] {
        g.mkdir_p(dir).unwrap();
    }
    g.ln_s("usr/bin", "/bin").unwrap();
    g.ln_s("../usr/lib/os-release", "/etc/os-release").unwrap();
    g.write("/etc/hostname", "core1\n").unwrap();
    g.write(
        "/etc/fstab",
        "LABEL=root / ext4 defaults 0 1\nLABEL=cos-boot /boot ext4 defaults 0 2\nLABEL=usr /usr ext4 ro 0 2\n",
    )
    .unwrap();
    g.mount("/dev/sdh3", "/usr").unwrap();
    for dir in [
        "/usr/bin",
        "/usr/lib",
        "/usr/share",
        "/usr/local",
        "/usr/src",
    ] {
        g.mkdir_p(dir).unwrap();
    }
    g.write(
        "/usr/lib/os-release",
        "NAME=\"Fedora Linux\"\nVERSION=\"41.20241109.3.0 (CoreOS)\"\nID=fedora\nVERSION_ID=41\nVARIANT_ID=coreos\nPRETTY_NAME=\"Fedora CoreOS 41.20241109.3.0\"\n",
    )
    .unwrap();
    g.upload(Path::new("/bin/true"), "/usr/bin/bash").unwrap();
    g.mount("/dev/sdh1", "/boot").unwrap();
    g.write("/boot/ignition.firstboot", "coreos boot\n")
        .unwrap();
    g.umount_all().unwrap();

    // Ubuntu 20.04 with no os-release: lsb-release must win over
    // debian_version, which says "bullseye/sid" on Ubuntu.
    g.mount("/dev/sdh4", "/").unwrap();
    for dir in ["/etc", "/usr/bin", "/var/lib/dpkg"] {
        g.mkdir_p(dir).unwrap();
    }
    g.ln_s("usr/bin", "/bin").unwrap();
    g.write(
        "/etc/lsb-release",
        "DISTRIB_ID=Ubuntu\nDISTRIB_RELEASE=20.04\nDISTRIB_CODENAME=focal\nDISTRIB_DESCRIPTION=\"Ubuntu 20.04.6 LTS\"\n",
    )
    .unwrap();
    g.write("/etc/debian_version", "bullseye/sid\n").unwrap();
    g.write("/etc/hostname", "focal-box\n").unwrap();
    g.write("/etc/fstab", "LABEL=focal / ext4 defaults 0 1\n")
        .unwrap();
    g.upload(Path::new("/bin/true"), "/usr/bin/bash").unwrap();
    g.write(
        "/var/lib/dpkg/status",
        "Package: bash\nStatus: hold ok installed\nArchitecture: amd64\nVersion: 5.0-6ubuntu1.2\nDescription: GNU Bourne Again SHell\n\n\
         Package: gone\nStatus: deinstall ok config-files\nArchitecture: amd64\nVersion: 1.0-1\nDescription: removed, its configuration kept\n\n\
         Package: hello\nStatus: install ok installed\nArchitecture: amd64\nVersion: 2.10-2ubuntu2\nDescription: example package\n",
    )
    .unwrap();
    g.umount_all().unwrap();

    // Windows 11: NTFS with the hives guest-formats' fixtures build; C:
    // is this partition by its GPT GUID.
    g.mkfs("ntfs", "/dev/sdh5", calls::mkfs::Opts::default())
        .unwrap_or_else(|e| panic!("mkfs ntfs: {e}\n{}", g.console_log()));
    g.mount("/dev/sdh5", "/").unwrap();
    g.mkdir_p("/WINDOWS/system32/config").unwrap();
    use guest_formats::fixtures::hive::{build_hive, software_hive, system_hive_with_mounts};
    let mut dmio = b"DMIO:ID:".to_vec();
    dmio.extend_from_slice(&WINDOWS_GUID_BYTES);
    let system = system_hive_with_mounts(vec![(r"\DosDevices\C:", dmio)]);
    g.write("/WINDOWS/system32/config/SYSTEM", system).unwrap();
    g.write(
        "/WINDOWS/system32/config/SOFTWARE",
        build_hive(&software_hive()),
    )
    .unwrap();
    g.write(
        "/WINDOWS/system32/CMD.EXE",
        guest_formats::fixtures::pe_x86_64(),
    )
    .unwrap();
    g.write("/WINDOWS/win.ini", "; for 16-bit app support\n")
        .unwrap();
    g.umount_all().unwrap();
}

/// Windows' fields, as libguestfs gives them for this tree.
fn check_windows(g: &mut Guest) {
    let r = "/dev/sdh5";
    progress(&format!("check {r}"));
    let facts = [
        ("type", g.inspect_get_type(r).unwrap(), "windows"),
        ("distro", g.inspect_get_distro(r).unwrap(), "windows"),
        (
            "product",
            g.inspect_get_product_name(r).unwrap(),
            "Windows 10 Pro",
        ),
        (
            "variant",
            g.inspect_get_product_variant(r).unwrap(),
            "Client",
        ),
        ("build", g.inspect_get_build_id(r).unwrap(), "22631"),
        ("osinfo", g.inspect_get_osinfo(r).unwrap(), "win11"),
        ("hostname", g.inspect_get_hostname(r).unwrap(), "win-box"),
        ("arch", g.inspect_get_arch(r).unwrap(), "x86_64"),
        (
            "systemroot",
            g.inspect_get_windows_systemroot(r).unwrap(),
            "/WINDOWS",
        ),
        (
            "control set",
            g.inspect_get_windows_current_control_set(r).unwrap(),
            "ControlSet002",
        ),
        (
            "system hive",
            g.inspect_get_windows_system_hive(r).unwrap(),
            "/WINDOWS/system32/config/SYSTEM",
        ),
    ];
    for (what, got, want) in facts {
        assert_eq!(got, want, "{r}: {what}");
    }
    let version = (
        g.inspect_get_major_version(r).unwrap(),
        g.inspect_get_minor_version(r).unwrap(),
    );
    assert_eq!(version, (10, 0), "{r}: version");
    assert_eq!(
        g.inspect_get_drive_mappings(r).unwrap(),
        [("C".to_string(), r.to_string())],
        "{r}: drive letters"
    );
    let mps: Vec<(String, String)> = g
        .inspect_get_mountpoints(r)
        .unwrap()
        .into_iter()
        .map(|m| (m.mountpoint, m.device))
        .collect();
    assert_eq!(mps, [("/".to_string(), r.to_string())], "{r}: mountpoints");
    g.mount_ro(r, "/").unwrap();
    assert_eq!(
        g.cat("/WINDOWS/win.ini").unwrap(),
        "; for 16-bit app support\n"
    );
    let apps = g.inspect_list_applications2(r).unwrap();
    assert!(!apps.is_empty(), "{r}: the uninstall keys' applications");
    g.umount_all().unwrap();
}

/// The checked fields of one root.
struct Expected<'a> {
    root: &'a str,
    distro: &'a str,
    product_name: &'a str,
    version: (i64, i64),
    hostname: &'a str,
    package_management: &'a str,
    osinfo: &'a str,
    mountpoints: &'a [(&'a str, &'a str)],
    /// A file read once every mountpoint is mounted, and its contents.
    file: (&'a str, &'a str),
}

fn check(g: &mut Guest, e: &Expected) {
    progress(&format!("check {}", e.root));
    let r = e.root;
    let ctx = |what: &str| format!("{r}: {what}");
    assert_eq!(g.inspect_get_type(r).unwrap(), "linux", "{}", ctx("type"));
    assert_eq!(
        g.inspect_get_distro(r).unwrap(),
        e.distro,
        "{}",
        ctx("distro")
    );
    assert_eq!(
        g.inspect_get_product_name(r).unwrap(),
        e.product_name,
        "{}",
        ctx("product")
    );
    let version = (
        g.inspect_get_major_version(r).unwrap(),
        g.inspect_get_minor_version(r).unwrap(),
    );
    assert_eq!(version, e.version, "{}", ctx("version"));
    assert_eq!(
        g.inspect_get_hostname(r).unwrap(),
        e.hostname,
        "{}",
        ctx("hostname")
    );
    assert_eq!(g.inspect_get_arch(r).unwrap(), "x86_64", "{}", ctx("arch"));
    assert_eq!(
        g.inspect_get_package_management(r).unwrap(),
        e.package_management,
        "{}",
        ctx("package management")
    );
    assert_eq!(
        g.inspect_get_osinfo(r).unwrap(),
        e.osinfo,
        "{}",
        ctx("osinfo")
    );
    let package_format = match e.package_management {
        "apt" => "deb",
        _ => "rpm",
    };
    assert_eq!(
        g.inspect_get_package_format(r).unwrap(),
        package_format,
        "{}",
        ctx("package format")
    );
    // What libguestfs answers for Linux.
    assert_eq!(
        g.inspect_get_product_variant(r).unwrap(),
        "unknown",
        "{}",
        ctx("product variant")
    );
    assert!(
        g.inspect_get_filesystems(r)
            .unwrap()
            .contains(&r.to_string()),
        "{}",
        ctx("filesystems")
    );
    let mut mps: Vec<(String, String)> = g
        .inspect_get_mountpoints(r)
        .unwrap()
        .into_iter()
        .map(|m| (m.mountpoint, m.device))
        .collect();
    mps.sort();
    let mut want: Vec<(String, String)> = e
        .mountpoints
        .iter()
        .map(|(m, d)| (m.to_string(), d.to_string()))
        .collect();
    want.sort();
    assert_eq!(mps, want, "{}", ctx("mountpoints"));
    // Mount as -i does: parents first.
    mps.sort_by_key(|(m, _)| m.len());
    for (mp, dev) in &mps {
        g.mount_ro(dev, mp)
            .unwrap_or_else(|err| panic!("{}: {err}", ctx(mp)));
    }
    assert_eq!(g.cat(e.file.0).unwrap(), e.file.1, "{}", ctx(e.file.0));
    g.umount_all().unwrap();
}

fn installer_layouts(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let names = [
        "rhel", "debian", "fedora", "md0", "md1", "ubuntu", "vault", "extra",
    ];
    let images: Vec<PathBuf> = names
        .iter()
        .map(|n| dir.path().join(format!("{n}.img")))
        .collect();
    for (image, mib) in images.iter().zip([1024, 320, 320, 64, 64, 160, 96, 256]) {
        Guest::new()
            .unwrap()
            .disk_create(image, "raw", mib * MIB, calls::disk_create::Opts::default())
            .unwrap();
    }
    let writable: Vec<(&PathBuf, bool)> = images.iter().map(|i| (i, false)).collect();
    let mut g = launched(backend, &writable);
    let built = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| build(&mut g)));
    let vault_uuid = built.unwrap_or_else(|panic| {
        eprintln!(
            "build failed; the appliance's console:\n{}",
            g.console_log()
        );
        std::panic::resume_unwind(panic)
    });
    progress("shutdown");
    g.shutdown().unwrap();

    progress("fingerprints");
    let read_only = &images[..];
    let before: Vec<_> = read_only.iter().map(|i| fingerprint(i)).collect();
    let drives: Vec<(&PathBuf, bool)> = images.iter().map(|i| (i, read_only.contains(i))).collect();
    let mut g = launched(backend, &drives);
    g.add_key(KeyTarget::All, b"not the key".to_vec());
    g.add_key(KeyTarget::Id("/dev/sdf2".into()), UBUNTU_KEY);
    g.add_key(KeyTarget::Id(vault_uuid.clone()), VAULT_KEY);
    let vault = format!("/dev/mapper/luks-{vault_uuid}");
    // The array is assembled before the first call, as libguestfs's
    // appliance assembles it at boot: no md call is needed first.
    assert_eq!(
        g.vfs_label("/dev/md127")
            .unwrap_or_else(|e| panic!("vfs_label /dev/md127: {e}\n{}", g.console_log())),
        "mdroot"
    );
    progress("inspect_os");
    let roots = g
        .inspect_os()
        .unwrap_or_else(|e| panic!("inspect_os: {e}\n{}", g.console_log()));
    progress("inspected");
    let md = g.list_md_devices().unwrap();
    assert_eq!(
        md.len(),
        1,
        "the array is assembled: {md:?}\n{}",
        g.console_log()
    );
    let md = md[0].clone();
    let mut want_roots = vec![
        "/dev/debian-vg/root".to_string(),
        "/dev/rhel/root".to_string(),
        "btrfsvol:/dev/sdc2/root".to_string(),
        "/dev/ubuntu-vg/ubuntu-lv".to_string(),
        vault.clone(),
        md.clone(),
        "/dev/sdh2".to_string(),
        "/dev/sdh4".to_string(),
        "/dev/sdh5".to_string(),
    ];
    want_roots.sort();
    let mut got = roots.clone();
    got.sort();
    assert_eq!(got, want_roots, "{}", g.console_log());

    check(
        &mut g,
        &Expected {
            root: "/dev/rhel/root",
            distro: "rhel",
            product_name: "Red Hat Enterprise Linux 9.4 (Plow)",
            version: (9, 4),
            hostname: "rhel9.example.com",
            package_management: "dnf",
            osinfo: "rhel9",
            mountpoints: &[("/", "/dev/rhel/root"), ("/boot", "/dev/sda1")],
            file: ("/boot/loader.conf", "rhel boot\n"),
        },
    );
    let filesystems = g.inspect_get_filesystems("/dev/rhel/root").unwrap();
    assert!(
        filesystems.contains(&"/dev/rhel/swap".to_string()),
        "{filesystems:?}"
    );
    check(
        &mut g,
        &Expected {
            root: "/dev/debian-vg/root",
            distro: "debian",
            product_name: "12.7",
            version: (12, 7),
            hostname: "deb-server",
            package_management: "apt",
            osinfo: "debian12",
            mountpoints: &[
                ("/", "/dev/debian-vg/root"),
                ("/boot", "/dev/sdb1"),
                ("/home", "/dev/debian-vg/home"),
                ("/usr", "/dev/debian-vg/usr"),
                ("/var", "/dev/debian-vg/var"),
            ],
            file: ("/etc/hostname", "deb-server\n"),
        },
    );
    // Its applications, read from the /var LV.
    for (mp, dev) in [("/", "/dev/debian-vg/root"), ("/var", "/dev/debian-vg/var")] {
        g.mount_ro(dev, mp).unwrap();
    }
    let apps = g.inspect_list_applications2("/dev/debian-vg/root").unwrap();
    assert!(
        apps.iter()
            .any(|a| a.app2_name == "openssh-server" && a.app2_epoch == 1),
        "{apps:?}"
    );
    g.umount_all().unwrap();
    check(
        &mut g,
        &Expected {
            root: "btrfsvol:/dev/sdc2/root",
            distro: "fedora",
            product_name: "Fedora Linux 40 (Workstation Edition)",
            version: (40, 0),
            hostname: "fedora-ws",
            package_management: "yum",
            osinfo: "fedora40",
            mountpoints: &[
                ("/", "btrfsvol:/dev/sdc2/root"),
                ("/home", "btrfsvol:/dev/sdc2/home"),
            ],
            file: ("/home/notes.txt", "fedora home\n"),
        },
    );
    check(
        &mut g,
        &Expected {
            root: &md,
            distro: "ubuntu",
            product_name: "Ubuntu 24.04.1 LTS",
            version: (24, 4),
            hostname: "raid-box",
            package_management: "apt",
            osinfo: "ubuntu24.04",
            mountpoints: &[("/", &md)],
            file: ("/etc/hostname", "raid-box\n"),
        },
    );
    check(
        &mut g,
        &Expected {
            root: "/dev/ubuntu-vg/ubuntu-lv",
            distro: "ubuntu",
            product_name: "Ubuntu 22.04.4 LTS",
            version: (22, 4),
            hostname: "ubuntu-crypt",
            package_management: "apt",
            osinfo: "ubuntu22.04",
            mountpoints: &[("/", "/dev/ubuntu-vg/ubuntu-lv"), ("/boot", "/dev/sdf1")],
            file: ("/boot/grub.cfg", "ubuntu boot\n"),
        },
    );
    check(
        &mut g,
        &Expected {
            root: &vault,
            distro: "debian",
            product_name: "11.9",
            version: (11, 9),
            hostname: "vault-box",
            package_management: "apt",
            osinfo: "debian11",
            mountpoints: &[("/", &vault)],
            file: ("/etc/hostname", "vault-box\n"),
        },
    );
    check(
        &mut g,
        &Expected {
            root: "/dev/sdh2",
            distro: "fedora",
            product_name: "Fedora CoreOS 41.20241109.3.0",
            version: (41, 0),
            hostname: "core1",
            package_management: "yum",
            osinfo: "fedora41",
            mountpoints: &[("/", "/dev/sdh2"), ("/boot", "/dev/sdh1"), ("/usr", "/dev/sdh3")],
            // Through the link into the mounted /usr.
            file: ("/etc/os-release", "NAME=\"Fedora Linux\"\nVERSION=\"41.20241109.3.0 (CoreOS)\"\nID=fedora\nVERSION_ID=41\nVARIANT_ID=coreos\nPRETTY_NAME=\"Fedora CoreOS 41.20241109.3.0\"\n"),
        },
    );
    check(
        &mut g,
        &Expected {
            root: "/dev/sdh4",
            distro: "ubuntu",
            product_name: "Ubuntu 20.04.6 LTS",
            version: (20, 4),
            hostname: "focal-box",
            package_management: "apt",
            osinfo: "ubuntu20.04",
            mountpoints: &[("/", "/dev/sdh4")],
            file: ("/etc/hostname", "focal-box\n"),
        },
    );
    g.mount_ro("/dev/sdh4", "/").unwrap();
    let apps: Vec<(String, String)> = g
        .inspect_list_applications2("/dev/sdh4")
        .unwrap()
        .into_iter()
        .map(|a| (a.app2_name, a.app2_version))
        .collect();
    assert_eq!(
        apps,
        [
            ("bash".to_string(), "5.0".to_string()),
            ("hello".to_string(), "2.10".to_string())
        ],
        "installed and held packages, not removed ones"
    );
    g.umount_all().unwrap();
    check_windows(&mut g);
    // Opened by the keys: the plain Ubuntu PV's mapping is libguestfs's name.
    let dm = g.list_dm_devices().unwrap();
    assert!(dm.contains(&"/dev/mapper/cryptsdf2".to_string()), "{dm:?}");
    progress("shutdown");
    g.shutdown().unwrap();
    let after: Vec<_> = read_only.iter().map(|i| fingerprint(i)).collect();
    assert!(before == after, "a read-only image changed");
}

libguest_tests::on_both_backends! {
    installer_layouts => e2e_installer_layouts, tcg_installer_layouts;
}
