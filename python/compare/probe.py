"""Prints what a set of libguestfs calls return on a guest image, one
line per call, as Python's repr: run once with libguestfs's own binding
(`probe.py guestfs IMAGE`, Debian's python3-guestfs) and once with
libguest's (`probe.py libguest IMAGE`), the two outputs must be equal.
scripts/compare-python-guestfs.sh does both and diffs them.

Only what both appliances see the same way is printed: not device
numbers (st_dev) or the appliance's own kernel and tools versions."""

import importlib
import sys

module, image = sys.argv[1], sys.argv[2]
guestfs = importlib.import_module("guestfs" if module == "guestfs" else "libguest.guestfs")


def show(name, value):
    print("%s = %r" % (name, value))


def error(name, f, *args):
    try:
        f(*args)
        show(name, "no error")
    except RuntimeError as e:
        show(name, ("RuntimeError", type(e).__mro__[-3] is RuntimeError or isinstance(e, RuntimeError)))


for return_dict in (True, False):
    g = guestfs.GuestFS(python_return_dict=return_dict)
    g.add_drive_opts(image, format="raw", readonly=1)
    g.launch()
    tag = "dict" if return_dict else "list"
    show(tag + " list_devices", g.list_devices())
    show(tag + " list_partitions", g.list_partitions())
    show(tag + " list_filesystems", g.list_filesystems())
    roots = g.inspect_os()
    show(tag + " inspect_os", roots)
    root = roots[0]
    for call in ("type", "distro", "product_name", "major_version", "minor_version",
                 "arch", "hostname", "package_format", "package_management",
                 "osinfo"):
        show("%s inspect_get_%s" % (tag, call), getattr(g, "inspect_get_" + call)(root))
    show(tag + " inspect_get_mountpoints", g.inspect_get_mountpoints(root))
    show(tag + " inspect_get_filesystems", g.inspect_get_filesystems(root))
    show(tag + " inspect_get_drive_mappings", g.inspect_get_drive_mappings(root))
    g.mount_ro(root, "/")
    # libguestfs reads the package database from the mounted guest.
    apps = g.inspect_list_applications2(root)
    show(tag + " applications", len(apps))
    show(tag + " application keys", sorted(apps[0].keys()))
    show(tag + " dpkg", [(a["app2_name"], a["app2_version"], a["app2_release"], a["app2_epoch"])
                         for a in apps if a["app2_name"] in ("dpkg", "bash", "libc6")])
    show(tag + " mounts", g.mounts())
    show(tag + " mountpoints", g.mountpoints())
    show(tag + " vfs_type", g.vfs_type(root))
    show(tag + " vfs_label", g.vfs_label(root))
    show(tag + " vfs_uuid", g.vfs_uuid(root))
    show(tag + " blockdev_getsize64", g.blockdev_getsize64("/dev/sda"))
    show(tag + " part_get_parttype", g.part_get_parttype("/dev/sda"))
    show(tag + " part_list", g.part_list("/dev/sda"))
    st = g.statns("/etc/hostname")
    show(tag + " statns keys", sorted(st.keys()))
    show(tag + " statns", {k: v for k, v in st.items() if k != "st_dev"})
    lst = g.lstatns("/bin")
    show(tag + " lstatns /bin mode", lst["st_mode"])
    show(tag + " statvfs keys", sorted(g.statvfs("/").keys()))
    show(tag + " ls /etc/apt", g.ls("/etc/apt"))
    show(tag + " readdir /etc/apt", sorted((d["name"], d["ftyp"]) for d in g.readdir("/etc/apt")))
    show(tag + " read_file", g.read_file("/etc/hostname"))
    show(tag + " pread", g.pread("/etc/os-release", 16, 5))
    show(tag + " cat", g.cat("/etc/hostname"))
    show(tag + " read_lines", g.read_lines("/etc/os-release")[:3])
    show(tag + " head_n", g.head_n(2, "/etc/passwd"))
    show(tag + " tail_n", g.tail_n(1, "/etc/passwd"))
    show(tag + " is_file", (g.is_file("/etc/hostname"), g.is_file("/etc"), g.is_dir("/etc"),
                            g.exists("/nonexistent"), g.is_symlink("/bin")))
    show(tag + " is_file followsymlinks", g.is_dir("/bin", followsymlinks=True))
    show(tag + " readlink", g.readlink("/bin"))
    show(tag + " checksum", g.checksum("sha256", "/etc/hostname"))
    show(tag + " grep", g.grep("root", "/etc/passwd"))
    show(tag + " find", g.find("/etc/apt")[:10])
    show(tag + " filesize", g.filesize("/etc/passwd"))
    show(tag + " wc_l", g.wc_l("/etc/passwd"))
    show(tag + " getxattrs", g.getxattrs("/etc/hostname"))
    show(tag + " case_sensitive_path", g.case_sensitive_path("/ETC/HOSTNAME"))
    show(tag + " realpath", g.realpath("/bin"))
    error(tag + " realpath through a symlink", g.realpath, "/bin/../etc")
    show(tag + " glob_expand", g.glob_expand("/etc/apt/*"))
    show(tag + " du", g.du("/etc/apt") > 0)
    error(tag + " cat missing", g.cat, "/nonexistent")
    error(tag + " write read-only", g.write, "/x", b"y")
    g.umount_all()
    show(tag + " mounts after umount_all", g.mounts())
    g.close()
