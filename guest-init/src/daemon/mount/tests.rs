//! mount and umount on real loop devices, with a temporary directory
//! standing for /sysroot.

use std::path::Path;

use super::*;
use crate::daemon::root::Root;
use crate::daemon::tests::{p, LoopFs, TestIo};

/// A guest root directory; whatever is still mounted below it is lazily
/// unmounted when the test ends, passed or failed.
struct Sysroot(tempfile::TempDir);

impl Drop for Sysroot {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .args(["-R", "-l"])
            .arg(self.0.path())
            .stderr(std::process::Stdio::null())
            .status();
    }
}

fn setup() -> (Sysroot, GuestDaemon) {
    let dir = tempfile::tempdir().expect("temp root");
    let d = GuestDaemon::new(Root::new(dir.path()));
    (Sysroot(dir), d)
}

/// A second filesystem kind (the host kernel here mounts no vfat).
fn ext2(label: &str) -> LoopFs {
    let fs = LoopFs::new("none", 16, "");
    crate::daemon::tests::run("mkfs.ext2", &["-q", "-F", "-L", label, &fs.device]);
    fs
}

fn dev(s: &str) -> Mountable {
    Mountable::new(s).expect("device")
}

fn mnt(d: &mut GuestDaemon, device: &str, at: &str) -> Result<(), ErrorReply> {
    let args = calls::mount::Args {
        mountable: dev(device),
        mountpoint: p(at),
    };
    mount(d, &mut TestIo::default(), args)
}

fn umnt(d: &mut GuestDaemon, what: &str) -> Result<(), ErrorReply> {
    let args = calls::umount::Args {
        pathordevice: what.into(),
        force: None,
        lazyunmount: None,
    };
    umount(d, &mut TestIo::default(), args)
}

fn is_mountpoint(path: &Path) -> bool {
    let canonical = std::fs::canonicalize(path).unwrap_or(path.to_path_buf());
    let table = std::fs::read_to_string("/proc/self/mountinfo").expect("mountinfo");
    let wanted = canonical.to_string_lossy().into_owned();
    table
        .lines()
        .any(|l| l.split(' ').nth(4) == Some(wanted.as_str()))
}

#[test]
fn mount_order_table_and_umount() {
    let (root, mut d) = setup();
    let r = root.0.path();
    let ext4 = LoopFs::new("ext4", 32, "ROOT");
    let ext2fs = ext2("BOOT");
    let err = mnt(&mut d, &ext2fs.device, "/boot").unwrap_err();
    assert_eq!(err.kind, ErrorKind::NotMounted, "{err}");
    assert!(
        err.message.contains("mount a filesystem on / first"),
        "{err}"
    );

    mnt(&mut d, &ext4.device, "/").expect("mount /");
    assert!(d.mounts.root_mounted());
    assert!(is_mountpoint(r));
    assert_eq!(
        mnt(&mut d, &ext4.device, "/").unwrap_err().errno,
        libc::EBUSY
    );
    assert_eq!(
        mnt(&mut d, &ext2fs.device, "/boot").unwrap_err().errno,
        libc::ENOENT
    );
    std::fs::create_dir(r.join("boot")).expect("mkdir /boot");
    std::fs::create_dir(r.join("mnt")).expect("mkdir /mnt");
    mnt(&mut d, &ext2fs.device, "/boot/").expect("mount /boot");
    let err = mnt(&mut d, &ext4.device, "/mnt").unwrap_err();
    assert_eq!(err.errno, libc::EBUSY);
    assert!(err.message.contains("already mounted on /"), "{err}");
    let io = &mut TestIo::default();
    assert_eq!(
        mounts(&mut d, io, calls::mounts::Args {}).unwrap(),
        [ext4.device.clone(), ext2fs.device.clone()]
    );
    let points = mountpoints(&mut d, io, calls::mountpoints::Args {}).unwrap();
    let points: Vec<(&str, &str)> = points
        .iter()
        .map(|m| (m.device.as_str(), m.mountpoint.as_str()))
        .collect();
    assert_eq!(
        points,
        [
            (ext4.device.as_str(), "/"),
            (ext2fs.device.as_str(), "/boot")
        ]
    );

    std::fs::write(r.join("boot/kernel"), b"vmlinuz").expect("write");
    std::fs::write(r.join("etc-hostname"), b"guest").expect("write");
    let err = umnt(&mut d, "/").unwrap_err();
    assert_eq!(err.errno, libc::EBUSY);
    assert!(
        err.message.contains("/boot is still mounted below"),
        "{err}"
    );
    assert_eq!(umnt(&mut d, "/mnt").unwrap_err().errno, libc::EINVAL);
    assert_eq!(
        umnt(&mut d, "relative").unwrap_err().kind,
        ErrorKind::InvalidArgument
    );
    umnt(&mut d, "//boot/.").expect("umount /boot");
    assert!(!is_mountpoint(&r.join("boot")));
    umnt(&mut d, &ext4.device).expect("umount / by device");
    assert!(!is_mountpoint(r));
    assert!(d.mounts.mounts.is_empty());

    // What was written reached the filesystems.
    let opts = calls::mount_options::Args {
        options: "ro".into(),
        mountable: dev(&ext4.device),
        mountpoint: p("/"),
    };
    mount_options(&mut d, io, opts).expect("mount ro");
    mnt(&mut d, &ext2fs.device, "/boot").expect("mount /boot again");
    assert_eq!(std::fs::read(r.join("boot/kernel")).unwrap(), b"vmlinuz");
    assert_eq!(std::fs::read(r.join("etc-hostname")).unwrap(), b"guest");
    let err = std::fs::write(r.join("new"), b"x").unwrap_err();
    assert_eq!(err.raw_os_error(), Some(libc::EROFS));
    umount_all(&mut d, io, calls::umount_all::Args {}).expect("umount_all");
    assert!(d.mounts.mounts.is_empty() && !is_mountpoint(r));
}

/// A guest symlink as mountpoint resolves inside the guest tree.
#[test]
fn symlinked_mountpoints_stay_inside() {
    let (root, mut d) = setup();
    let r = root.0.path();
    let outside = tempfile::tempdir().expect("outside dir");
    let (ext4, ext2fs) = (LoopFs::new("ext4", 32, "ROOT"), ext2("DATA"));
    mnt(&mut d, &ext4.device, "/").expect("mount /");
    std::os::unix::fs::symlink(outside.path(), r.join("evil")).unwrap();
    std::os::unix::fs::symlink("../../../../..", r.join("up")).unwrap();
    std::fs::create_dir(r.join("data")).unwrap();
    std::os::unix::fs::symlink("/data", r.join("abs")).unwrap();
    assert_eq!(
        mnt(&mut d, &ext2fs.device, "/evil").unwrap_err().errno,
        libc::ENOENT
    );
    assert!(!is_mountpoint(outside.path()));
    // `/up` is the guest root, which is already mounted.
    assert_eq!(
        mnt(&mut d, &ext2fs.device, "/up").unwrap_err().errno,
        libc::EBUSY
    );
    mnt(&mut d, &ext2fs.device, "/abs").expect("mount via symlink");
    assert!(is_mountpoint(&r.join("data")));
    assert_eq!(d.mounts.mounts[1].mountpoint, "/data");
    umnt(&mut d, "/abs").expect("umount via the symlink");
    // A mountpoint whose parent was moved away and replaced by a symlink
    // leading out: refused, nothing outside touched.
    std::fs::create_dir_all(r.join("p/q")).unwrap();
    mnt(&mut d, &ext2fs.device, "/p/q").expect("mount /p/q");
    std::fs::rename(r.join("p"), r.join("p2")).unwrap();
    std::os::unix::fs::symlink(outside.path(), r.join("p")).unwrap();
    assert!(umnt(&mut d, "/p/q").is_err());
    assert!(is_mountpoint(&r.join("p2/q")) && !is_mountpoint(outside.path()));
    std::fs::remove_file(r.join("p")).unwrap();
    std::fs::rename(r.join("p2"), r.join("p")).unwrap();
    let all = umount_all(&mut d, &mut TestIo::default(), calls::umount_all::Args {});
    assert!(all.is_ok() && !is_mountpoint(r), "{all:?}");
}

#[test]
fn mount_errors_and_options() {
    let (_root, mut d) = setup();
    let blank = LoopFs::new("none", 8, "");
    let err = mnt(&mut d, &blank.device, "/").unwrap_err();
    assert!(err.message.contains("no filesystem found"), "{err}");
    assert!(d.mounts.mounts.is_empty());
    let swap = LoopFs::new("none", 16, "");
    crate::daemon::tests::run("mkswap", &[&swap.device]);
    let err = mnt(&mut d, &swap.device, "/").unwrap_err();
    assert!(
        err.message.contains("swap, which cannot be mounted"),
        "{err}"
    );

    let (flags, data) =
        parse_options("ro, noatime,errors=remount-ro,nodev,rw,,user_xattr").unwrap();
    assert_eq!(flags, MountFlags::NOATIME | MountFlags::NODEV);
    assert_eq!(data, "errors=remount-ro,user_xattr");
    assert_eq!(
        parse_options("defaults").unwrap(),
        (MountFlags::empty(), String::new())
    );
    for refused in ["remount", "ro,bind", "move"] {
        assert_eq!(
            parse_options(refused).unwrap_err().kind,
            ErrorKind::InvalidArgument
        );
    }

    let ext4 = LoopFs::new("ext4", 32, "ROOT");
    let args = |options: &str| calls::mount_options::Args {
        options: options.into(),
        mountable: dev(&ext4.device),
        mountpoint: p("/"),
    };
    let io = &mut TestIo::default();
    let err = mount_options(&mut d, io, args("bogus_option")).unwrap_err();
    assert_eq!(err.errno, libc::EINVAL, "{err}");
    mount_options(&mut d, io, args("noatime,errors=remount-ro")).expect("mount");
    // Lazy and forced unmounts work with a file still open below.
    let busy_file = std::fs::File::create(d.root.path().join("open")).unwrap();
    let lazy = calls::umount::Args {
        pathordevice: "/".into(),
        force: Some(true),
        lazyunmount: Some(true),
    };
    umount(&mut d, io, lazy).expect("lazy umount");
    drop(busy_file);
    assert!(d.mounts.mounts.is_empty());
}
