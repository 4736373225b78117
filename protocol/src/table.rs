//! The API table: every call, once. Each entry is
//!
//! ```text
//! /// One line of docs (more lines allowed).
//! PROC KIND name(arg: Type, ...) [optarg: Type, ...] -> Ret [flags];
//! ```
//!
//! - `PROC`: the stable procedure number on the wire; never reuse one.
//! - `KIND`: `call`, `file_in` (the host streams data to the daemon:
//!   `upload`, `tar_in`) or `file_out` (the daemon streams data back).
//! - optional arguments are `Option<Type>` in `calls::<name>::Opts`.
//! - flags: `needs_root` (refused until a filesystem is mounted on `/`),
//!   `needs_tools` (runs a host tool from the tools layer, which the
//!   library loads into the appliance on first use),
//!   `internal` (not a CLI command, not in the docs).
//!
//! [`for_each_call!`] hands the table to a generator macro; see
//! `generate.rs` and libguest's `api.rs`.

/// Passes the API table to `$callback!`, after `$pass` when given (a
/// bracketed group the callback receives first).
#[macro_export]
macro_rules! for_each_call {
    ($callback:path $(, $pass:tt)?) => {
        $callback! {
            $($pass)?
            /// Checks that the daemon answers (a no-op round trip).
            1 call ping_daemon() [] -> () [];
            /// The daemon's version (the same as the library's).
            2 call version() [] -> Version [];
            /// Runs one of the daemon's test and debug hooks; no stability promise.
            3 call debug(subcmd: String, extraargs: Vec<String>) [] -> String [internal];
            /// Syncs and powers off the appliance; used by shutdown().
            4 call internal_poweroff() [] -> () [internal];

            /// Lists the whole block devices, sorted (/dev/sda, /dev/sdb, …).
            10 call list_devices() [] -> Vec<String> [];
            /// Lists the partitions of all block devices, sorted.
            11 call list_partitions() [] -> Vec<String> [];
            /// Lists the devices and partitions holding a filesystem, with its type.
            12 call list_filesystems() [] -> Vec<FsEntry> [];
            /// The filesystem type on a device (ext4, xfs, vfat…).
            13 call vfs_type(mountable: Device) [] -> String [];
            /// The filesystem label on a device ("" if none).
            14 call vfs_label(mountable: Device) [] -> String [];
            /// The filesystem UUID on a device ("" if none).
            15 call vfs_uuid(mountable: Device) [] -> String [];
            /// The size of a block device in bytes.
            16 call blockdev_getsize64(device: Device) [] -> i64 [];

            /// Mounts a filesystem read-write on a directory of the guest tree ("/" first).
            20 call mount(mountable: Device, mountpoint: Pathname) [] -> () [];
            /// Mounts a filesystem read-only.
            21 call mount_ro(mountable: Device, mountpoint: Pathname) [] -> () [];
            /// Mounts with mount(8)-style options such as "ro,noatime".
            22 call mount_options(options: String, mountable: Device, mountpoint: Pathname) [] -> () [];
            /// Unmounts the filesystem on a mountpoint or device.
            23 call umount(pathordevice: String) [force: bool, lazyunmount: bool] -> () [];
            /// Unmounts every mounted guest filesystem, deepest first.
            24 call umount_all() [] -> () [];
            /// The devices that are mounted, in mount order.
            25 call mounts() [] -> Vec<String> [];
            /// The mounted devices and their mountpoints in the guest tree.
            26 call mountpoints() [] -> Vec<MountEntry> [];
            /// Flushes every write to the disks.
            27 call sync() [] -> () [];

            /// The names in a directory, sorted, without . and ..
            30 call ls(directory: Pathname) [] -> Vec<String> [needs_root];
            /// A long listing of a directory, like ls -la.
            31 call ll(directory: Pathname) [] -> String [needs_root];
            /// The entries of a directory with inode numbers and types.
            32 call readdir(dir: Pathname) [] -> Vec<Dirent> [needs_root];
            /// Every path under a directory, relative to it, sorted.
            33 call find(directory: Pathname) [] -> Vec<String> [needs_root];
            /// stat(2) with nanosecond times, following symlinks.
            34 call statns(path: Pathname) [] -> Statns [needs_root];
            /// lstat(2) with nanosecond times.
            35 call lstatns(path: Pathname) [] -> Statns [needs_root];
            /// statvfs(3) of the filesystem holding a path.
            36 call statvfs(path: Pathname) [] -> StatVfs [needs_root];
            /// Whether a path exists (following symlinks).
            37 call exists(path: Pathname) [] -> bool [needs_root];
            /// Whether a path is a regular file.
            38 call is_file(path: Pathname) [followsymlinks: bool] -> bool [needs_root];
            /// Whether a path is a directory.
            39 call is_dir(path: Pathname) [followsymlinks: bool] -> bool [needs_root];
            /// Whether a path is a symbolic link.
            40 call is_symlink(path: Pathname) [] -> bool [needs_root];
            /// The target of a symbolic link.
            41 call readlink(path: Pathname) [] -> String [needs_root];

            /// A text file's contents (UTF-8; use read_file for binary data).
            50 call cat(path: Pathname) [] -> String [needs_root];
            /// A file's contents as bytes (at most 4 MiB; use download beyond).
            51 call read_file(path: Pathname) [] -> Vec<u8> [needs_root];
            /// A text file's lines, without line endings.
            52 call read_lines(path: Pathname) [] -> Vec<String> [needs_root];
            /// Up to count bytes of a file from offset.
            53 call pread(path: Pathname, count: i64, offset: i64) [] -> Vec<u8> [needs_root];
            /// Creates or replaces a file with content.
            54 call write(path: Pathname, content: Vec<u8>) [] -> () [needs_root];
            /// Appends content to a file, creating it if needed.
            55 call write_append(path: Pathname, content: Vec<u8>) [] -> () [needs_root];
            /// Writes content into a file at offset; returns the bytes written.
            56 call pwrite(path: Pathname, content: Vec<u8>, offset: i64) [] -> i64 [needs_root];
            /// Truncates a file to zero bytes.
            57 call truncate(path: Pathname) [] -> () [needs_root];
            /// Truncates or extends a file to size bytes.
            58 call truncate_size(path: Pathname, size: i64) [] -> () [needs_root];
            /// Creates an empty file or updates its times.
            59 call touch(path: Pathname) [] -> () [needs_root];

            /// Creates a directory.
            60 call mkdir(path: Pathname) [] -> () [needs_root];
            /// Creates a directory and its missing parents.
            61 call mkdir_p(path: Pathname) [] -> () [needs_root];
            /// Removes an empty directory.
            62 call rmdir(path: Pathname) [] -> () [needs_root];
            /// Removes a file (not a directory).
            63 call rm(path: Pathname) [] -> () [needs_root];
            /// Removes a file or a directory tree; a missing path is not an error.
            64 call rm_rf(path: Pathname) [] -> () [needs_root];
            /// Copies a file.
            65 call cp(src: Pathname, dest: Pathname) [] -> () [needs_root];
            /// Copies a file or tree keeping modes, owners, times and links.
            66 call cp_a(src: Pathname, dest: Pathname) [] -> () [needs_root];
            /// Moves or renames a file or directory.
            67 call mv(src: Pathname, dest: Pathname) [] -> () [needs_root];
            /// Creates a symbolic link linkname pointing to target.
            68 call ln_s(target: String, linkname: Pathname) [] -> () [needs_root];
            /// Changes the permission bits of a path.
            69 call chmod(mode: i64, path: Pathname) [] -> () [needs_root];
            /// Changes the owner and group (numeric ids) of a path.
            70 call chown(owner: i64, group: i64, path: Pathname) [] -> () [needs_root];
            /// Sets access and modification times (seconds and nanoseconds).
            71 call utimens(path: Pathname, atsecs: i64, atnsecs: i64, mtsecs: i64, mtnsecs: i64) [] -> () [needs_root];

            /// The checksum of a file in hex: md5, sha1, sha224, sha256, sha384 or sha512.
            80 call checksum(csumtype: String, path: Pathname) [] -> String [needs_root];
            /// The lines of a file matching a regular expression (Rust regex syntax).
            81 call grep(regex: String, path: Pathname) [extended: bool, fixed: bool, insensitive: bool] -> Vec<String> [needs_root];

            /// Uploads a host file (or stream) to a file in the guest.
            90 file_in upload(remotefilename: Pathname) [] -> () [needs_root];
            /// Downloads a guest file to a host file (or stream).
            91 file_out download(remotefilename: Pathname) [] -> () [needs_root];
            /// Unpacks a tar stream into a guest directory.
            92 file_in tar_in(directory: Pathname) [compress: Compression, xattrs: bool] -> () [needs_root];
            /// Packs a guest directory into a tar stream.
            93 file_out tar_out(directory: Pathname) [compress: Compression, numericowner: bool, excludes: Vec<String>] -> () [needs_root];

            /// Finds the operating systems on the disks; returns their root filesystems.
            100 call inspect_os() [] -> Vec<String> [];
            /// The OS type of an inspected root: linux, windows or unknown.
            101 call inspect_get_type(root: Device) [] -> String [];
            /// The distribution: debian, ubuntu, fedora, rhel, archlinux…, windows, or unknown.
            102 call inspect_get_distro(root: Device) [] -> String [];
            /// The product name, e.g. "Debian GNU/Linux 12 (bookworm)".
            103 call inspect_get_product_name(root: Device) [] -> String [];
            /// The major version number (0 if unknown).
            104 call inspect_get_major_version(root: Device) [] -> i64 [];
            /// The minor version number (0 if unknown).
            105 call inspect_get_minor_version(root: Device) [] -> i64 [];
            /// The architecture: x86_64, i386, aarch64… from a binary's ELF header or the registry.
            106 call inspect_get_arch(root: Device) [] -> String [];
            /// The hostname of the OS.
            107 call inspect_get_hostname(root: Device) [] -> String [];
            /// The package format: deb, rpm, pacman…, or unknown.
            108 call inspect_get_package_format(root: Device) [] -> String [];
            /// The package manager: apt, dnf, yum, zypper, pacman…, or unknown.
            109 call inspect_get_package_management(root: Device) [] -> String [];
            /// The OS's mountpoints (from /etc/fstab, UUID= and LABEL= resolved) and their devices.
            110 call inspect_get_mountpoints(root: Device) [] -> Vec<MountEntry> [];
            /// The filesystems that belong to the OS.
            111 call inspect_get_filesystems(root: Device) [] -> Vec<String> [];
            /// The installed applications (dpkg or rpm database); mount the OS's filesystems first.
            112 call inspect_list_applications2(root: Device) [] -> Vec<Application> [needs_root];

            /// Writes a new empty partition table: gpt or mbr (msdos).
            120 call part_init(device: Device, parttype: String) [] -> () [];
            /// Adds a partition from startsect to endsect (inclusive, 512-byte sectors); prlogex is p, l or e.
            121 call part_add(device: Device, prlogex: String, startsect: i64, endsect: i64) [] -> () [];
            /// Deletes partition partnum.
            122 call part_del(device: Device, partnum: i64) [] -> () [];
            /// Makes one partition covering the whole disk under a new table of type parttype.
            123 call part_disk(device: Device, parttype: String) [] -> () [];
            /// The partitions of a device: number, start, end and size in bytes.
            124 call part_list(device: Device) [] -> Vec<Partition> [];
            /// The partition table type: gpt or msdos.
            125 call part_get_parttype(device: Device) [] -> String [];
            /// Sets a GPT partition's name.
            126 call part_set_name(device: Device, partnum: i64, name: String) [] -> () [];
            /// Sets a GPT partition's type GUID.
            127 call part_set_gpt_type(device: Device, partnum: i64, guid: String) [] -> () [];
            /// Sets or clears the bootable flag of an MBR partition (legacy BIOS bootable on GPT).
            128 call part_set_bootable(device: Device, partnum: i64, bootable: bool) [] -> () [];

            /// Makes a filesystem: ext2, ext3, ext4, xfs, vfat or btrfs.
            130 call mkfs(fstype: String, device: Device) [blocksize: i64, label: String] -> () [needs_tools];
            /// Checks an ext2/3/4 filesystem (e2fsck -f); correct repairs it.
            131 call e2fsck(device: Device) [correct: bool, forceall: bool] -> () [needs_tools];
            /// Checks a filesystem; returns fsck's exit status (0 clean, 1 errors corrected, …).
            132 call fsck(fstype: String, device: Device) [] -> i64 [needs_tools];
            /// Grows or shrinks an ext2/3/4 filesystem to fill its device.
            133 call resize2fs(device: Device) [] -> () [needs_tools];
            /// Sets a filesystem's label.
            134 call set_label(mountable: Device, label: String) [] -> () [needs_tools];
            /// Fills the free space of the filesystem holding a directory with zeroes.
            135 call zero_free_space(directory: Pathname) [] -> () [needs_root];
            /// Discards the unused blocks of a mounted filesystem.
            136 call fstrim(mountpoint: Pathname) [] -> () [needs_root];
            /// Loads the tools layer (a cpio stream) into the appliance; done by the library on first need.
            137 file_in internal_load_tools() [] -> () [internal];

            /// The true case of a path on a case-insensitive filesystem (ntfs-3g, vfat); the last element may not exist.
            200 call case_sensitive_path(path: Pathname) [] -> String [needs_root];
            /// The canonical absolute path: symlinks, . and .. resolved inside the guest.
            201 call realpath(path: Pathname) [] -> String [needs_root];
            /// The paths matching a shell wildcard pattern (with {a,b}); directories end in / unless directoryslash is false.
            202 call glob_expand(pattern: String) [directoryslash: bool] -> Vec<String> [needs_root];
            /// Every path under a directory, relative to it, each ending in a NUL byte, unsorted, to a host file (or stream).
            203 file_out find0(directory: Pathname) [] -> () [needs_root];
            /// The size of a file in bytes.
            204 call filesize(file: Pathname) [] -> i64 [needs_root];
            /// The disk space used by a file or tree in KiB, like du -s.
            205 call du(path: Pathname) [] -> i64 [needs_root];
            /// The first 10 lines of a file.
            206 call head(path: Pathname) [] -> Vec<String> [needs_root];
            /// The first nrlines lines; negative: all but the last -nrlines lines.
            207 call head_n(nrlines: i64, path: Pathname) [] -> Vec<String> [needs_root];
            /// The last 10 lines of a file.
            208 call tail(path: Pathname) [] -> Vec<String> [needs_root];
            /// The last nrlines lines; negative: the lines from the -nrlines'th on.
            209 call tail_n(nrlines: i64, path: Pathname) [] -> Vec<String> [needs_root];
            /// The number of lines in a file, as wc -l.
            210 call wc_l(path: Pathname) [] -> i64 [needs_root];
            /// The number of words in a file, as wc -w.
            211 call wc_w(path: Pathname) [] -> i64 [needs_root];
            /// The number of bytes in a file, as wc -c.
            212 call wc_c(path: Pathname) [] -> i64 [needs_root];
        }
    };
}
