//! The tools layer, shared by the library that packs it and guest-init
//! that unpacks and runs it: one list, so the two cannot drift apart.

/// Every tool the `needs_tools` calls run, and the Debian package that
/// has it (named in the error when a tool is missing).
pub const TOOLS: &[(&str, &str)] = &[
    ("mke2fs", "e2fsprogs"),
    ("e2fsck", "e2fsprogs"),
    ("resize2fs", "e2fsprogs"),
    ("tune2fs", "e2fsprogs"),
    ("mkfs.xfs", "xfsprogs"),
    ("xfs_db", "xfsprogs"),
    ("xfs_repair", "xfsprogs"),
    ("mkfs.fat", "dosfstools"),
    ("fsck.fat", "dosfstools"),
    ("fatlabel", "dosfstools"),
    ("mkfs.btrfs", "btrfs-progs"),
    ("btrfs", "btrfs-progs"),
    ("btrfstune", "btrfs-progs"),
    ("swaplabel", "util-linux"),
    ("xfs_growfs", "xfsprogs"),
    ("xfs_spaceman", "xfsprogs"),
    ("mkswap", "util-linux"),
    ("blkid", "util-linux"),
    ("wipefs", "util-linux"),
    ("zerofree", "zerofree"),
    ("ntfsresize", "ntfs-3g"),
    ("ntfsfix", "ntfs-3g"),
    ("mkfs.ntfs", "ntfs-3g"),
    ("ntfslabel", "ntfs-3g"),
    ("ntfs-3g.probe", "ntfs-3g"),
    ("mksquashfs", "squashfs-tools"),
    ("file", "file"),
    ("compress", "ncompress"),
    ("lzop", "lzop"),
    ("cryptsetup", "cryptsetup-bin"),
    ("mdadm", "mdadm"),
    ("lvm", "lvm2"),
    ("dmsetup", "dmsetup"),
    ("losetup", "mount"),
    ("setfiles", "policycoreutils"),
];

/// Data files a tool reads at run time: (tool, path, Debian package).
/// Packed with the tool at the same path (a symlink's target's contents,
/// as a plain file); one missing on the host is left out, and the tool
/// then says what it lacks. file(1) opens libmagic's local magic and
/// compiled database at built-in paths (Debian: /etc/magic, then
/// /usr/share/misc/magic.mgc, a symlink to /usr/lib/file/magic.mgc).
pub const DATA_FILES: &[(&str, &str, &str)] = &[
    ("file", "/etc/magic", "libmagic1"),
    ("file", "/usr/share/misc/magic.mgc", "libmagic-mgc"),
];

/// Where tools are looked for on the host and run from in the appliance
/// (not the user's $PATH, which often lacks sbin).
pub const SEARCH_DIRS: &[&str] = &[
    "/usr/local/sbin",
    "/usr/local/bin",
    "/usr/sbin",
    "/usr/bin",
    "/sbin",
    "/bin",
];

/// The top-level directories a layer may put files in.
pub const LAYER_TOP_DIRS: &[&str] = &[
    "bin", "sbin", "lib", "lib32", "lib64", "libx32", "usr", "etc", "opt",
];
