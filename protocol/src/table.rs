//! The API table: every call, once. Each entry is
//!
//! ```text
//! /// One line of docs (more lines allowed).
//! PROC KIND name(arg: Type, ...) [optarg: Type, ...] -> Ret [flags];
//! ```
//!
//! - `PROC`: the stable procedure number on the wire; never reuse one.
//!   `host` calls write `0`: they have none.
//! - `KIND`: `call`, `file_in` (the host streams data to the daemon:
//!   `upload`, `tar_in`), `file_out` (the daemon streams data back), or
//!   `host`: answered by the handle in the library (configuration, launch,
//!   host-side image probing), never sent. Every generator sees them, so
//!   docs, CLI commands and the call list come from this one table, but
//!   the daemon's `Daemon` trait and `dispatch` leave them out, and
//!   libguest implements each in its `Handle` impl. Why `0` and not a
//!   reserved range: a number in a range would look like a wire number
//!   someone could send or reuse; `0` is none, it is never a daemon
//!   call's number (the tests check both), and every generator keeps one
//!   entry shape.
//! - optional arguments are `Option<Type>` in `calls::<name>::Opts`.
//! - an entry may end in test cases, as libguestfs's generator's:
//!   `… [flags] { basic_fs: [["write", "/new", "x"], ["cat", "/new"]] => "x"; };`
//!   Each starts from an init kind ([`TestInit`](crate::TestInit): `empty`,
//!   `partition`, `basic_fs`, `basic_fs_on_lvm`, `iso_fs`), runs its steps
//!   as guestfish command words, and checks the last one: `ok`, `fails`,
//!   `"exact rendered result"` or `(contains "text")`. The tests crate runs
//!   them all on both backends (`tests/e2e/table.rs`).
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
            1 call ping_daemon() [] -> () [] {
                empty: [["ping_daemon"]] => ok;
            };
            /// The daemon's version (the same as the library's).
            2 call version() [] -> Version [] {
                empty: [["version"]] => (contains "major: ");
            };
            /// Runs one of the daemon's test and debug hooks; no stability promise.
            3 call debug(subcmd: String, extraargs: Vec<String>) [] -> String [internal];
            /// Syncs and powers off the appliance; used by shutdown().
            4 call internal_poweroff() [] -> () [internal];

            // Host calls: answered by the handle in the library, never sent.
            /// Sets the appliance's memory in MiB (default 512; 128 to 65536); before launch.
            0 host set_memsize(memsize: i64) [] -> () [] {
                empty: [["set_memsize", "1024"]] => fails;
            };
            /// The appliance's memory in MiB.
            0 host get_memsize() [] -> i64 [] {
                empty: [["get_memsize"]] => "512";
            };
            /// Sets the number of appliance vCPUs (1 to 16, default 1); before launch.
            0 host set_smp(smp: i64) [] -> () [] {
                empty: [["set_smp", "2"]] => fails;
            };
            /// The number of appliance vCPUs.
            0 host get_smp() [] -> i64 [] {
                empty: [["get_smp"]] => "1";
            };
            /// Verbose: the appliance kernel logs at full level to the console (LIBGUEST_DEBUG=1 sets it at creation).
            0 host set_verbose(verbose: bool) [] -> () [] {
                empty: [["set_verbose", "false"], ["get_verbose"]] => "false";
            };
            /// Whether verbose is set.
            0 host get_verbose() [] -> bool [] {
                empty: [["get_verbose"]] => "false";
            };
            /// Traces every call, its arguments and its result on stderr (`libguest: trace: [ID: ]name args` and `… = result`); LIBGUEST_TRACE=1 sets it at creation.
            0 host set_trace(trace: bool) [] -> () [] {
                empty: [["set_trace", "false"], ["get_trace"]] => "false";
            };
            /// Whether tracing is on.
            0 host get_trace() [] -> bool [] {
                empty: [["get_trace"]] => "false";
            };
            /// Extra kernel command-line parameters for the appliance ("" or none clears them); before launch.
            0 host set_append(append: Option<String>) [] -> () [] {
                empty: [["set_append", "quiet"]] => fails;
            };
            /// The extra kernel parameters, if any.
            0 host get_append() [] -> Option<String> [] {
                empty: [["get_append"]] => "";
            };
            /// Which hypervisor launch uses: auto (also ""; KVM in this process if it can run Linux, else qemu TCG), kvm (also: direct) or tcg (also: qemu); libguestfs's libvirt and uml backends do not exist here. Before launch.
            0 host set_backend(backend: String) [] -> () [] {
                empty: [["set_backend", "tcg"]] => fails;
            };
            /// The backend asked for: auto, kvm or tcg (LIBGUEST_BACKEND sets it at creation).
            0 host get_backend() [] -> String [];
            /// Autosync (default on): shutdown and dropping the handle unmount every guest filesystem first; off skips the unmount (the appliance's power-off still syncs).
            0 host set_autosync(autosync: bool) [] -> () [] {
                empty: [["set_autosync", "false"], ["get_autosync"]] => "false";
                empty: [["set_autosync", "true"], ["get_autosync"]] => "true";
            };
            /// Whether autosync is on.
            0 host get_autosync() [] -> bool [] {
                empty: [["get_autosync"]] => "true";
            };
            /// A name for the handle in trace and debug messages: ASCII letters, digits, _ and - only ("" for none, the default).
            0 host set_identifier(identifier: String) [] -> () [] {
                empty: [["set_identifier", "tabletest"], ["get_identifier"]] => "tabletest";
                empty: [["set_identifier", "bad id!"]] => fails;
                empty: [["set_identifier", ""], ["get_identifier"]] => "";
            };
            /// The handle's identifier ("" if none).
            0 host get_identifier() [] -> String [] {
                empty: [["set_identifier", ""], ["get_identifier"]] => "";
            };
            /// The program name recorded on the handle (default: the name this process was started as).
            0 host set_program(program: String) [] -> () [] {
                empty: [["set_program", "tabletest"], ["get_program"]] => "tabletest";
            };
            /// The program name.
            0 host get_program() [] -> String [] {
                empty: [["set_program", "tabletest"], ["get_program"]] => "tabletest";
            };
            /// Where overlays and scratch disks of drives added from now on go: an existing directory, made absolute as libguestfs does; none (or "") restores the default; before launch.
            0 host set_tmpdir(tmpdir: Option<PathBuf>) [] -> () [] {
                empty: [["set_tmpdir", "/tmp"]] => fails;
            };
            /// The directory for temporary stores: set_tmpdir's, else LIBGUEST_TMPDIR, else TMPDIR, else /tmp.
            0 host get_tmpdir() [] -> PathBuf [];
            /// Network in the appliance (default off). libguest's appliance has no network device (the VMM models none, and the daemon needs none: files come in over the API channel), so true is refused, naming upload, copy_in and tar_in instead, and false is accepted.
            0 host set_network(network: bool) [] -> () [];
            /// Whether the appliance has a network: false, as set_network can set nothing else.
            0 host get_network() [] -> bool [];
            /// Where libguest keeps its cache (the kernels, initramfs and tools layers it builds): an existing directory, made absolute; none (or "") restores the default. The cache is found per process: launch uses LIBGUEST_CACHE_DIR, else $XDG_CACHE_HOME/libguest, else ~/.cache/libguest; a directory set here is recorded on the handle and reported by get_cachedir, and takes effect for a process started with LIBGUEST_CACHE_DIR set to it (libguest never changes its own environment, which other threads read).
            0 host set_cachedir(cachedir: Option<PathBuf>) [] -> () [];
            /// The cache directory: set_cachedir's, else the one launch uses (LIBGUEST_CACHE_DIR, else $XDG_CACHE_HOME/libguest, else ~/.cache/libguest).
            0 host get_cachedir() [] -> PathBuf [];
            /// libguestfs's recovery process, which kills the hypervisor if the program dies (default true). libguest needs no extra process: under kvm the VMM runs in this process and dies with it, and under tcg qemu is started with PR_SET_PDEATHSIG(SIGKILL); the setting is recorded and reported, and false does not leave qemu behind. Before launch.
            0 host set_recovery_proc(recoveryproc: bool) [] -> () [] {
                empty: [["set_recovery_proc", "false"]] => fails;
            };
            /// The recovery_proc setting (default true).
            0 host get_recovery_proc() [] -> bool [] {
                empty: [["get_recovery_proc"]] => "true";
            };
            /// The labels of drives added with add_drive_opts or add_drive_scratch label: a hashtable of label to device (/dev/sdX) and, for each partition of a labelled disk, LABELN to /dev/sdXN, as libguestfs's /dev/disk/guestfs names them. Answered by the handle from its drives and the appliance's list_partitions; /dev/disk/guestfs/LABEL itself is not a device name other calls take here.
            0 host list_disk_labels() [] -> Vec<(String, String)> [] {
                empty: [["list_disk_labels"]] => "";
            };
            /// The process id running the appliance: qemu's under tcg, this process's under kvm (the VMM runs in it); an error before launch.
            0 host get_pid() [] -> i64 [];
            /// The handle's state as libguestfs numbers it: 0 config (also after shutdown, as in libguestfs, though a libguest handle launches only once), 2 ready. Launch and calls hold the handle, so 1 (launching) and 3 (busy) are never seen from it.
            0 host get_state() [] -> i64 [];
            /// Whether the handle is in the config state (get_state 0): before launch, and after shutdown (when a libguest handle refuses a second launch).
            0 host is_config() [] -> bool [];
            /// Whether launch is under way: never seen, launch holds the handle until it returns.
            0 host is_launching() [] -> bool [];
            /// Whether the appliance is running and serving calls.
            0 host is_ready() [] -> bool [];
            /// Whether a call is running: never seen, a call holds the handle until it returns.
            0 host is_busy() [] -> bool [];
            /// Adds a disk image read-write, its format detected from the header (a detected qcow2 may not name a backing file: give the format with add_drive_opts).
            0 host add_drive(filename: PathBuf) [] -> () [];
            /// Adds a disk image read-only: not one byte (nor its mtime) changes. As in libguestfs the appliance may still write, into a throwaway overlay under get_tmpdir, so a filesystem whose journal needs recovery (a crashed or running VM's) mounts.
            0 host add_drive_ro(filename: PathBuf) [] -> () [];
            /// Adds a disk image. format: raw or qcow2 (default: detected; backing files are followed only with an explicit format). readonly: not one byte (nor the mtime) of the image changes; the appliance's writes go to a throwaway overlay, as in libguestfs. overlay (libguest's): true gives a drive that is not read-only that overlay too; false with readonly gives a write-protected disk instead (a filesystem whose journal needs recovery then does not mount). Overlays are temporary files under get_tmpdir, dropped at shutdown, at most the virtual size. label: recorded on the drive (Guest::drives; no /dev/disk/guestfs link is made), 1 to 20 ASCII letters. discard: disable (the default: the guest's discards, fstrim and blkdiscard succeed and change nothing, as in libguestfs), enable (they free space in the image; an error that starts "discard cannot be enabled on this drive" when the drive cannot: read-only, overlaid, or a block device without discard), besteffort (enable where possible, else disable). copyonread: what the guest reads from a backing file is also written into the layer above it (the qcow2 top, or the read-only drive's overlay), so later reads stay there; no effect on a drive with nothing below a writable layer. blocksize: 0 or 512, the logical sector size of libguest's virtio-scsi disks (libguestfs's 4096 would need 4K-sector emulation the device does not have).
            0 host add_drive_opts(filename: PathBuf) [readonly: bool, format: String, label: String, discard: String, copyonread: bool, blocksize: i64, overlay: bool] -> () [];
            /// Adds a blank temporary disk of size bytes (a multiple of 512) under get_tmpdir, deleted at shutdown. label and blocksize as for add_drive_opts.
            0 host add_drive_scratch(size: i64) [label: String, blocksize: i64] -> () [];
            /// Boots the appliance; returns once it serves calls.
            0 host launch() [] -> () [];
            /// Unmounts (with autosync), syncs and powers the appliance off, then flushes every drive on the host; bounded (set_shutdown_timeout). Nothing before launch or a second time.
            0 host shutdown() [] -> () [];
            /// Cancels the call in progress: nothing is in progress when the handle itself is free, so this does nothing; from another thread use Guest::cancel_handle.
            0 host user_cancel() [] -> () [];
            /// Whether every libguestfs feature group named is available in this build (an unknown group is an error).
            0 host feature_available(groups: Vec<String>) [] -> bool [] {
                empty: [["feature_available", "acl linuxxattrs"]] => "true";
            };
            /// Fails, naming what is missing, unless every feature group named is available.
            0 host available(groups: Vec<String>) [] -> () [] {
                empty: [["available", "lvm2 luks"]] => ok;
                empty: [["available", "nosuchgroup"]] => fails;
            };
            /// Every libguestfs feature group name, available here or not.
            0 host available_all_groups() [] -> Vec<String> [];
            /// The format of a host disk image from its header, named as qemu-img names it: raw or qcow2, or a format libguest does not read (vmdk, vdi, vhdx, vpc, qed, parallels, bochs, qcow), which the other disk_ calls refuse (add_drive without a format would take one as raw). Nothing but the header is read; FIFOs and character devices are refused.
            0 host disk_format(filename: PathBuf) [] -> String [] {
                empty: [["disk_create", "@d.img", "raw", "65536"], ["disk_format", "@d.img"]] => "raw";
                empty: [["disk_format", "@nosuch.img"]] => fails;
            };
            /// The virtual size in bytes of a host disk image as qemu-img reports it: a qcow2 header's size, a raw file's length rounded up to whole 512-byte sectors, a block device's size.
            0 host disk_virtual_size(filename: PathBuf) [] -> i64 [] {
                empty: [["disk_create", "@d.qcow2", "qcow2", "10485760"], ["disk_virtual_size", "@d.qcow2"]] => "10485760";
            };
            /// Whether a host qcow2 image names a backing file (raw images never do).
            0 host disk_has_backing_file(filename: PathBuf) [] -> bool [] {
                empty: [["disk_create", "@b.qcow2", "qcow2", "1048576"], ["disk_create", "@t.qcow2", "qcow2", "-1", "backingfile:@b.qcow2", "backingformat:qcow2"], ["disk_has_backing_file", "@t.qcow2"]] => "true";
                empty: [["disk_create", "@b.qcow2", "qcow2", "1048576"], ["disk_has_backing_file", "@b.qcow2"]] => "false";
            };
            /// Creates a blank host disk image (not added to the handle): format raw or qcow2, size in bytes, more than 0 (qcow2 rounds it up to whole 512-byte sectors, as qemu-img does; raw is exact). An existing file is truncated; on a block device a raw image keeps the device's size and its blocks are discarded; other non-files (FIFOs, character devices) are refused. backingfile (qcow2 only; size must then be -1, the backing file's size): a snapshot on top of it, a relative name being relative to the new image's directory. backingformat: raw or qcow2; without it the backing file's format is detected from its header, as libguestfs does (give it for a raw backing file a guest could have written). preallocation: off/sparse (default) or full for raw; off/sparse, metadata or full for qcow2 without a backing file. compat: qcow2 only, 1.1 (the default, a version 3 header) or 0.10 (version 2, for qemu before 1.1; not with preallocation). clustersize: qcow2 only, a power of two from 512 to 2097152 (default 65536).
            0 host disk_create(filename: PathBuf, format: String, size: i64) [backingfile: String, backingformat: String, preallocation: String, compat: String, clustersize: i64] -> () [] {
                empty: [["disk_create", "@d.img", "raw", "1048576"], ["disk_virtual_size", "@d.img"]] => "1048576";
                empty: [["disk_create", "@d.qcow2", "qcow2", "1048576", "compat:0.10", "clustersize:4096"], ["disk_format", "@d.qcow2"]] => "qcow2";
                empty: [["disk_create", "@d.img", "raw", "0"]] => fails;
            };

            /// Lists the whole block devices, sorted (/dev/sda, /dev/sdb, …).
            10 call list_devices() [] -> Vec<String> [] {
                empty: [["list_devices"]] => "/dev/sda\n/dev/sdb\n/dev/sdc";
            };
            /// Lists the partitions of all block devices, sorted.
            11 call list_partitions() [] -> Vec<String> [] {
                partition: [["list_partitions"]] => "/dev/sda1";
            };
            /// Lists the devices and partitions holding a filesystem, with its type.
            12 call list_filesystems() [] -> Vec<FsEntry> [] {
                basic_fs: [["list_filesystems"]] => (contains "device: /dev/sda1, fstype: ext2");
                iso_fs: [["list_filesystems"]] => (contains "device: /dev/sdc, fstype: iso9660");
            };
            /// The filesystem type on a device or btrfsvol:DEVICE/SUBVOLUME (ext4, xfs, vfat, swap, LVM2_member, crypto_LUKS…; btrfs for a subvolume), as blkid names it; "" where blkid finds none (a blank device, or a whole disk holding a partition table), as in libguestfs.
            13 call vfs_type(mountable: Mountable) [] -> String [] {
                basic_fs: [["vfs_type", "/dev/sda1"]] => "ext2";
                iso_fs: [["vfs_type", "/dev/sdc"]] => "iso9660";
            };
            /// The filesystem label on a device ("" if none); of a btrfsvol: subvolume, its filesystem's.
            14 call vfs_label(mountable: Mountable) [] -> String [] {
                iso_fs: [["vfs_label", "/dev/sdc"]] => "TESTISO";
            };
            /// The filesystem UUID on a device ("" if none); of a btrfsvol: subvolume, its filesystem's.
            15 call vfs_uuid(mountable: Mountable) [] -> String [] {
                partition: [["mkfs", "ext4", "/dev/sda1"], ["set_uuid", "/dev/sda1", "01234567-0123-0123-0123-0123456789ab"], ["vfs_uuid", "/dev/sda1"]] => "01234567-0123-0123-0123-0123456789ab";
            };
            /// The size of a block device in bytes.
            16 call blockdev_getsize64(device: Device) [] -> i64 [] {
                empty: [["blockdev_getsize64", "/dev/sda"]] => "536870912";
            };

            /// Mounts a filesystem read-write on a directory of the guest tree ("/" first). mountable: a device, or btrfsvol:DEVICE/SUBVOLUME for a btrfs subvolume (mounted with subvol=SUBVOLUME), as in every mount call.
            20 call mount(mountable: Mountable, mountpoint: Pathname) [] -> () [] {
                partition: [["mkfs", "ext2", "/dev/sda1"], ["mount", "/dev/sda1", "/"], ["write", "/new", "new file contents"], ["cat", "/new"]] => "new file contents";
            };
            /// Mounts a filesystem read-only.
            21 call mount_ro(mountable: Mountable, mountpoint: Pathname) [] -> () [] {
                basic_fs: [["umount", "/"], ["mount_ro", "/dev/sda1", "/"], ["touch", "/new"]] => fails;
                basic_fs: [["write", "/new", "data"], ["umount", "/"], ["mount_ro", "/dev/sda1", "/"], ["cat", "/new"]] => "data";
            };
            /// Mounts with mount(8)-style options such as "ro,noatime".
            22 call mount_options(options: String, mountable: Mountable, mountpoint: Pathname) [] -> () [] {
                basic_fs: [["umount", "/"], ["mount_options", "ro", "/dev/sda1", "/"], ["touch", "/new"]] => fails;
            };
            /// Unmounts the filesystem on a mountpoint or device.
            23 call umount(pathordevice: String) [force: bool, lazyunmount: bool] -> () [] {
                basic_fs: [["umount", "/"], ["mounts"]] => "";
            };
            /// Unmounts every mounted guest filesystem, deepest first.
            24 call umount_all() [] -> () [] {
                basic_fs: [["umount_all"], ["mounts"]] => "";
            };
            /// The devices that are mounted, in mount order.
            25 call mounts() [] -> Vec<String> [] {
                basic_fs: [["mounts"]] => "/dev/sda1";
            };
            /// The mounted devices and their mountpoints in the guest tree.
            26 call mountpoints() [] -> Vec<MountEntry> [] {
                basic_fs: [["mountpoints"]] => "device: /dev/sda1, mountpoint: /";
            };
            /// Flushes every write to the disks.
            27 call sync() [] -> () [] {
                empty: [["sync"]] => ok;
            };

            /// The names in a directory, sorted, without . and ..
            30 call ls(directory: Pathname) [] -> Vec<String> [needs_root] {
                basic_fs: [["touch", "/new"], ["touch", "/newer"], ["touch", "/newest"], ["ls", "/"]] => "lost+found\nnew\nnewer\nnewest";
            };
            /// A long listing of a directory, like ls -la.
            31 call ll(directory: Pathname) [] -> String [needs_root] {
                iso_fs: [["ll", "/"]] => (contains "known-1");
            };
            /// The entries of a directory with inode numbers and types.
            32 call readdir(dir: Pathname) [] -> Vec<Dirent> [needs_root] {
                iso_fs: [["readdir", "/directory"]] => (contains "name: file");
            };
            /// Every path under a directory, relative to it, sorted.
            33 call find(directory: Pathname) [] -> Vec<String> [needs_root] {
                basic_fs: [["find", "/"]] => "lost+found";
                basic_fs: [["touch", "/a"], ["mkdir", "/b"], ["touch", "/b/c"], ["find", "/"]] => "a\nb\nb/c\nlost+found";
            };
            /// stat(2) with nanosecond times, following symlinks.
            34 call statns(path: Pathname) [] -> Statns [needs_root] {
                iso_fs: [["statns", "/known-1"]] => (contains "st_size: 7");
            };
            /// lstat(2) with nanosecond times.
            35 call lstatns(path: Pathname) [] -> Statns [needs_root] {
                iso_fs: [["lstatns", "/abssymlink"]] => (contains "st_size: 9");
            };
            /// statvfs(3) of the filesystem holding a path.
            36 call statvfs(path: Pathname) [] -> StatVfs [needs_root] {
                basic_fs: [["statvfs", "/"]] => (contains "namemax: 255");
            };
            /// Whether a path exists (following symlinks).
            37 call exists(path: Pathname) [] -> bool [needs_root] {
                iso_fs: [["exists", "/empty"]] => "true";
                iso_fs: [["exists", "/nosuchfile"]] => "false";
                iso_fs: [["exists", "/directory"]] => "true";
            };
            /// Whether a path is a regular file.
            38 call is_file(path: Pathname) [followsymlinks: bool] -> bool [needs_root] {
                iso_fs: [["is_file", "/known-1"]] => "true";
                iso_fs: [["is_file", "/directory"]] => "false";
                iso_fs: [["is_file", "/abssymlink"]] => "false";
                iso_fs: [["is_file", "/abssymlink", "followsymlinks:true"]] => "true";
            };
            /// Whether a path is a directory.
            39 call is_dir(path: Pathname) [followsymlinks: bool] -> bool [needs_root] {
                iso_fs: [["is_dir", "/known-3"]] => "false";
                iso_fs: [["is_dir", "/directory"]] => "true";
            };
            /// Whether a path is a symbolic link.
            40 call is_symlink(path: Pathname) [] -> bool [needs_root] {
                iso_fs: [["is_symlink", "/abssymlink"]] => "true";
                iso_fs: [["is_symlink", "/known-1"]] => "false";
            };
            /// The target of a symbolic link.
            41 call readlink(path: Pathname) [] -> String [needs_root] {
                iso_fs: [["readlink", "/abssymlink"]] => "/10klines";
            };

            /// A text file's contents (UTF-8; use read_file for binary data).
            50 call cat(path: Pathname) [] -> String [needs_root] {
                iso_fs: [["cat", "/known-2"]] => "ghijkl\n";
                iso_fs: [["cat", "/nosuchfile"]] => fails;
            };
            /// A file's contents as bytes (at most 4 MiB; use download beyond).
            51 call read_file(path: Pathname) [] -> Vec<u8> [needs_root] {
                iso_fs: [["read_file", "/known-4"]] => "abc\ndef\nghi";
                iso_fs: [["read_file", "/empty"]] => "";
            };
            /// A text file's lines, without line endings.
            52 call read_lines(path: Pathname) [] -> Vec<String> [needs_root] {
                iso_fs: [["read_lines", "/known-4"]] => "abc\ndef\nghi";
                iso_fs: [["read_lines", "/known-5"]] => "abc\ndef\nghi";
                iso_fs: [["read_lines", "/empty"]] => "";
            };
            /// Up to count bytes of a file from offset.
            53 call pread(path: Pathname, count: i64, offset: i64) [] -> Vec<u8> [needs_root] {
                iso_fs: [["pread", "/known-4", "1", "3"]] => "\n";
                iso_fs: [["pread", "/empty", "0", "100"]] => "";
                iso_fs: [["pread", "/known-4", "3", "8"]] => "ghi";
            };
            /// Creates or replaces a file with content.
            54 call write(path: Pathname, content: Vec<u8>) [] -> () [needs_root] {
                basic_fs: [["write", "/new", "new file contents"], ["cat", "/new"]] => "new file contents";
                basic_fs: [["write", "/new", ""], ["cat", "/new"]] => "";
            };
            /// Appends content to a file, creating it if needed.
            55 call write_append(path: Pathname, content: Vec<u8>) [] -> () [needs_root] {
                basic_fs: [["write", "/a", "line1\n"], ["write_append", "/a", "line2\n"], ["cat", "/a"]] => "line1\nline2\n";
            };
            /// Writes content into a file at offset; returns the bytes written.
            56 call pwrite(path: Pathname, content: Vec<u8>, offset: i64) [] -> i64 [needs_root] {
                basic_fs: [["write", "/new", "new file contents"], ["pwrite", "/new", "data", "4"], ["cat", "/new"]] => "new data contents";
                basic_fs: [["write", "/new", "abc"], ["pwrite", "/new", "xy", "1"]] => "2";
            };
            /// Truncates a file to zero bytes.
            57 call truncate(path: Pathname) [] -> () [needs_root] {
                basic_fs: [["write", "/t", "some stuff"], ["truncate", "/t"], ["filesize", "/t"]] => "0";
            };
            /// Truncates or extends a file to size bytes.
            58 call truncate_size(path: Pathname, size: i64) [] -> () [needs_root] {
                basic_fs: [["touch", "/t"], ["truncate_size", "/t", "1000"], ["filesize", "/t"]] => "1000";
            };
            /// Creates an empty file or updates its times.
            59 call touch(path: Pathname) [] -> () [needs_root] {
                basic_fs: [["touch", "/new"], ["exists", "/new"]] => "true";
            };

            /// Creates a directory.
            60 call mkdir(path: Pathname) [] -> () [needs_root] {
                basic_fs: [["mkdir", "/new"], ["is_dir", "/new"]] => "true";
                basic_fs: [["mkdir", "/new/foo/bar"]] => fails;
            };
            /// Creates a directory and its missing parents.
            61 call mkdir_p(path: Pathname) [] -> () [needs_root] {
                basic_fs: [["mkdir_p", "/new/foo/bar"], ["is_dir", "/new/foo/bar"]] => "true";
                basic_fs: [["mkdir", "/new"], ["mkdir_p", "/new"]] => ok;
                basic_fs: [["touch", "/new"], ["mkdir_p", "/new"]] => fails;
            };
            /// Removes an empty directory.
            62 call rmdir(path: Pathname) [] -> () [needs_root] {
                basic_fs: [["mkdir", "/new"], ["rmdir", "/new"], ["exists", "/new"]] => "false";
                basic_fs: [["touch", "/new"], ["rmdir", "/new"]] => fails;
                basic_fs: [["rmdir", "/new"]] => fails;
            };
            /// Removes a file (not a directory).
            63 call rm(path: Pathname) [] -> () [needs_root] {
                basic_fs: [["touch", "/new"], ["rm", "/new"], ["exists", "/new"]] => "false";
                basic_fs: [["mkdir", "/new"], ["rm", "/new"]] => fails;
                basic_fs: [["rm", "/new"]] => fails;
            };
            /// Removes a file or a directory tree; a missing path is not an error.
            64 call rm_rf(path: Pathname) [] -> () [needs_root] {
                basic_fs: [["mkdir", "/new"], ["mkdir", "/new/foo"], ["touch", "/new/foo/bar"], ["rm_rf", "/new"], ["exists", "/new"]] => "false";
            };
            /// Copies a file.
            65 call cp(src: Pathname, dest: Pathname) [] -> () [needs_root] {
                basic_fs: [["write", "/old", "file content"], ["cp", "/old", "/new"], ["cat", "/new"]] => "file content";
            };
            /// Copies a file or tree keeping modes, owners, times and links.
            66 call cp_a(src: Pathname, dest: Pathname) [] -> () [needs_root] {
                basic_fs: [["mkdir", "/olddir"], ["mkdir", "/newdir"], ["write", "/olddir/file", "file content"], ["cp_a", "/olddir", "/newdir"], ["cat", "/newdir/olddir/file"]] => "file content";
            };
            /// Moves or renames a file or directory.
            67 call mv(src: Pathname, dest: Pathname) [] -> () [needs_root] {
                basic_fs: [["write", "/old", "file content"], ["mv", "/old", "/new"], ["cat", "/new"]] => "file content";
                basic_fs: [["write", "/old", "file content"], ["mv", "/old", "/new"], ["exists", "/old"]] => "false";
            };
            /// Creates a symbolic link linkname pointing to target.
            68 call ln_s(target: String, linkname: Pathname) [] -> () [needs_root] {
                basic_fs: [["touch", "/a"], ["ln_s", "a", "/b"], ["readlink", "/b"]] => "a";
            };
            /// Changes the permission bits of a path.
            69 call chmod(mode: i64, path: Pathname) [] -> () [needs_root] {
                basic_fs: [["touch", "/new"], ["chmod", "0600", "/new"], ["statns", "/new"]] => (contains "st_mode: 33152");
            };
            /// Changes the owner and group (numeric ids) of a path.
            70 call chown(owner: i64, group: i64, path: Pathname) [] -> () [needs_root] {
                basic_fs: [["touch", "/new"], ["chown", "10", "11", "/new"], ["statns", "/new"]] => (contains "st_uid: 10");
                basic_fs: [["touch", "/new"], ["chown", "10", "11", "/new"], ["statns", "/new"]] => (contains "st_gid: 11");
            };
            /// Sets access and modification times (seconds and nanoseconds).
            71 call utimens(path: Pathname, atsecs: i64, atnsecs: i64, mtsecs: i64, mtnsecs: i64) [] -> () [needs_root] {
                basic_fs: [["touch", "/new"], ["utimens", "/new", "12345", "67890", "9876", "5432"], ["statns", "/new"]] => (contains "st_mtime_sec: 9876");
            };

            /// The checksum of a file in hex: md5, sha1, sha224, sha256, sha384 or sha512.
            80 call checksum(csumtype: String, path: Pathname) [] -> String [needs_root] {
                iso_fs: [["checksum", "md5", "/known-3"]] => "0c14142deca567bf315be45ccf8c79bb";
                iso_fs: [["checksum", "sha1", "/known-1"]] => "bdc37c074ec4ee6050d68bc133c6b912f36474df";
                iso_fs: [["checksum", "sha256", "/known-5"]] => "eae534d25085bcf695c6800b2bf097870a05e34a29ccbac95850fb2d5a58db7d";
            };
            /// The lines of a file matching a regular expression (Rust regex syntax).
            81 call grep(regex: String, path: Pathname) [extended: bool, fixed: bool, insensitive: bool, compressed: bool] -> Vec<String> [needs_root] {
                iso_fs: [["grep", "abc", "/known-5"]] => "abc";
                iso_fs: [["grep", "nomatch", "/known-5"]] => "";
                iso_fs: [["grep", "ABC", "/known-5", "insensitive:true"]] => "abc";
                iso_fs: [["grep", "^(def|ghi)$", "/known-5", "extended:true"]] => "def\nghi";
            };

            /// Uploads a host file (or stream) to a file in the guest.
            90 file_in upload(remotefilename: Pathname) [] -> () [needs_root] {
                basic_fs: [["upload", "hello.b64", "/b64"], ["cat", "/b64"]] => "aGVsbG8K\n";
            };
            /// Downloads a guest file to a host file (or stream).
            91 file_out download(remotefilename: Pathname) [] -> () [needs_root] {
                iso_fs: [["download", "/known-1", "-"]] => "abcdef\n";
            };
            /// Unpacks a tar stream into a guest directory.
            92 file_in tar_in(directory: Pathname) [compress: Compression, xattrs: bool] -> () [needs_root] {
                basic_fs: [["mkdir", "/tar_in"], ["tar_in", "helloworld.tar", "/tar_in"], ["cat", "/tar_in/hello"]] => "hello\n";
                basic_fs: [["mkdir", "/tar_in_gz"], ["tar_in", "helloworld.tar.gz", "/tar_in_gz", "compress:gzip"], ["cat", "/tar_in_gz/world"]] => "world\n";
            };
            /// Packs a guest directory into a tar stream.
            93 file_out tar_out(directory: Pathname) [compress: Compression, numericowner: bool, excludes: Vec<String>] -> () [needs_root] {
                basic_fs: [["mkdir", "/t"], ["write", "/t/hello", "hello\n"], ["tar_out", "/t", "t.tar"], ["mkdir", "/u"], ["tar_in", "t.tar", "/u"], ["cat", "/u/hello"]] => "hello\n";
                basic_fs: [["mkdir", "/t"], ["write", "/t/hello", "hello\n"], ["tar_out", "/t", "t.tar.xz", "compress:xz"], ["mkdir", "/u"], ["tar_in", "t.tar.xz", "/u", "compress:xz"], ["cat", "/u/hello"]] => "hello\n";
            };

            /// Finds the operating systems on the disks; returns their root filesystems. With keys on the handle (Guest::add_key, the CLI's --key), the LUKS devices they open are opened first and the LVM inside activated, as libguestfs's tools do before inspection.
            100 call inspect_os() [] -> Vec<String> [];
            /// The OS type of an inspected root: linux, windows or unknown.
            101 call inspect_get_type(root: Mountable) [] -> String [];
            /// The distribution: debian, ubuntu, fedora, rhel, archlinux…, windows, or unknown.
            102 call inspect_get_distro(root: Mountable) [] -> String [];
            /// The product name, e.g. "Debian GNU/Linux 12 (bookworm)".
            103 call inspect_get_product_name(root: Mountable) [] -> String [];
            /// The major version number (0 if unknown).
            104 call inspect_get_major_version(root: Mountable) [] -> i64 [];
            /// The minor version number (0 if unknown).
            105 call inspect_get_minor_version(root: Mountable) [] -> i64 [];
            /// The architecture: x86_64, i386, aarch64… from a binary's ELF header or the registry.
            106 call inspect_get_arch(root: Mountable) [] -> String [];
            /// The hostname of the OS.
            107 call inspect_get_hostname(root: Mountable) [] -> String [];
            /// The package format: deb, rpm, pacman…, or unknown.
            108 call inspect_get_package_format(root: Mountable) [] -> String [];
            /// The package manager: apt, dnf, yum, zypper, pacman…, or unknown.
            109 call inspect_get_package_management(root: Mountable) [] -> String [];
            /// The OS's mountpoints (from /etc/fstab, UUID= and LABEL= resolved) and their devices.
            110 call inspect_get_mountpoints(root: Mountable) [] -> Vec<MountEntry> [];
            /// The filesystems that belong to the OS.
            111 call inspect_get_filesystems(root: Mountable) [] -> Vec<String> [];
            /// The installed applications (dpkg or rpm database); mount the OS's filesystems first.
            112 call inspect_list_applications2(root: Mountable) [] -> Vec<Application> [needs_root];
            /// The roots the last inspect_os found (inspect_os's answer again).
            620 call inspect_get_roots() [] -> Vec<String> [];
            /// The product variant: Windows's InstallationType (Client, Server…), else "unknown".
            621 call inspect_get_product_variant(root: Mountable) [] -> String [];
            /// The libosinfo short ID (debian12, ubuntu22.04, rhel9.2, win10…) or "unknown".
            622 call inspect_get_osinfo(root: Mountable) [] -> String [];
            /// The build ID: os-release's BUILD_ID, Windows's CurrentBuildNumber; else "unknown".
            623 call inspect_get_build_id(root: Mountable) [] -> String [];
            /// The Windows %SYSTEMROOT% as spelt in the guest (e.g. /Windows); an error for other OSes.
            624 call inspect_get_windows_systemroot(root: Mountable) [] -> String [];
            /// The path of the Windows SOFTWARE hive in the guest; an error when there is none.
            625 call inspect_get_windows_software_hive(root: Mountable) [] -> String [];
            /// The path of the Windows SYSTEM hive in the guest; an error when there is none.
            626 call inspect_get_windows_system_hive(root: Mountable) [] -> String [];
            /// The Windows CurrentControlSet (e.g. ControlSet001); an error when it cannot be read.
            627 call inspect_get_windows_current_control_set(root: Mountable) [] -> String [];
            /// Windows drive letters and their devices (from HKLM\SYSTEM\MountedDevices); empty for other OSes.
            628 call inspect_get_drive_mappings(root: Mountable) [] -> Vec<(String, String)> [];

            /// Writes a new empty partition table: gpt or mbr (msdos).
            120 call part_init(device: Device, parttype: String) [] -> () [] {
                empty: [["part_init", "/dev/sda", "gpt"], ["part_get_parttype", "/dev/sda"]] => "gpt";
                empty: [["part_init", "/dev/sda", "mbr"], ["part_get_parttype", "/dev/sda"]] => "msdos";
            };
            /// Adds a partition from startsect to endsect (inclusive, 512-byte sectors); prlogex is p, l or e.
            121 call part_add(device: Device, prlogex: String, startsect: i64, endsect: i64) [] -> () [] {
                empty: [["part_init", "/dev/sda", "mbr"], ["part_add", "/dev/sda", "p", "2048", "204799"], ["part_add", "/dev/sda", "p", "204800", "409599"], ["list_partitions"]] => "/dev/sda1\n/dev/sda2";
            };
            /// Deletes partition partnum.
            122 call part_del(device: Device, partnum: i64) [] -> () [] {
                empty: [["part_init", "/dev/sda", "mbr"], ["part_add", "/dev/sda", "primary", "2048", "-2048"], ["part_del", "/dev/sda", "1"], ["list_partitions"]] => "";
            };
            /// Makes one partition covering the whole disk under a new table of type parttype.
            123 call part_disk(device: Device, parttype: String) [] -> () [] {
                empty: [["part_disk", "/dev/sda", "gpt"], ["list_partitions"]] => "/dev/sda1";
            };
            /// The partitions of a device: number, start, end and size in bytes.
            124 call part_list(device: Device) [] -> Vec<Partition> [] {
                empty: [["part_init", "/dev/sda", "mbr"], ["part_add", "/dev/sda", "p", "2048", "4095"], ["part_list", "/dev/sda"]] => "part_end: 2097151, part_num: 1, part_size: 1048576, part_start: 1048576";
            };
            /// The partition table type: gpt or msdos.
            125 call part_get_parttype(device: Device) [] -> String [] {
                partition: [["part_get_parttype", "/dev/sda"]] => "msdos";
            };
            /// Sets a GPT partition's name.
            126 call part_set_name(device: Device, partnum: i64, name: String) [] -> () [] {
                empty: [["part_disk", "/dev/sda", "gpt"], ["part_set_name", "/dev/sda", "1", "thepartname"], ["part_get_name", "/dev/sda", "1"]] => "thepartname";
            };
            /// Sets a GPT partition's type GUID.
            127 call part_set_gpt_type(device: Device, partnum: i64, guid: String) [] -> () [] {
                empty: [["part_disk", "/dev/sda", "gpt"], ["part_set_gpt_type", "/dev/sda", "1", "01234567-89AB-CDEF-0123-456789ABCDEF"], ["part_get_gpt_type", "/dev/sda", "1"]] => "01234567-89AB-CDEF-0123-456789ABCDEF";
                empty: [["part_disk", "/dev/sda", "gpt"], ["part_set_gpt_type", "/dev/sda", "1", "not-a-guid"]] => fails;
            };
            /// Sets or clears the bootable flag of an MBR partition (legacy BIOS bootable on GPT).
            128 call part_set_bootable(device: Device, partnum: i64, bootable: bool) [] -> () [] {
                partition: [["part_set_bootable", "/dev/sda", "1", "true"], ["part_get_bootable", "/dev/sda", "1"]] => "true";
            };

            /// Makes a filesystem: ext2, ext3, ext4, xfs, vfat, btrfs or ntfs (a quick format, mkfs.ntfs -Q; blocksize is its cluster size). features: mke2fs/mkfs.btrfs -O; inode: the ext inode size (-I); sectorsize: the xfs sector size (-s size=).
            130 call mkfs(fstype: String, device: Device) [blocksize: i64, label: String, features: String, inode: i64, sectorsize: i64] -> () [needs_tools] {
                partition: [["mkfs", "ext4", "/dev/sda1"], ["vfs_type", "/dev/sda1"]] => "ext4";
                partition: [["mkfs", "ext3", "/dev/sda1", "label:mylabel"], ["vfs_label", "/dev/sda1"]] => "mylabel";
                partition: [["mkfs", "vfat", "/dev/sda1"], ["vfs_type", "/dev/sda1"]] => "vfat";
                partition: [["mkfs", "xfs", "/dev/sda1"], ["vfs_type", "/dev/sda1"]] => "xfs";
                partition: [["mkfs", "ext2", "/dev/sda1", "blocksize:4096"], ["mount", "/dev/sda1", "/"], ["statvfs", "/"]] => (contains "bsize: 4096");
                partition: [["mkfs", "nosuchfs", "/dev/sda1"]] => fails;
            };
            /// Checks an ext2/3/4 filesystem (e2fsck -f); correct repairs it.
            131 call e2fsck(device: Device) [correct: bool, forceall: bool] -> () [needs_tools] {
                basic_fs: [["umount", "/"], ["e2fsck", "/dev/sda1", "forceall:true"]] => ok;
            };
            /// Checks a filesystem; returns fsck's exit status (0 clean, 1 errors corrected, …).
            132 call fsck(fstype: String, device: Device) [] -> i64 [needs_tools] {
                basic_fs: [["umount", "/"], ["fsck", "ext2", "/dev/sda1"]] => "0";
            };
            /// Grows or shrinks an ext2/3/4 filesystem to fill its device.
            133 call resize2fs(device: Device) [] -> () [needs_tools] {
                basic_fs: [["umount", "/"], ["e2fsck", "/dev/sda1", "forceall:true"], ["resize2fs", "/dev/sda1"]] => ok;
            };
            /// Sets a filesystem's label.
            134 call set_label(mountable: Device, label: String) [] -> () [needs_tools] {
                partition: [["mkfs", "vfat", "/dev/sda1"], ["set_label", "/dev/sda1", "TESTLABEL"], ["vfs_label", "/dev/sda1"]] => "TESTLABEL";
                basic_fs: [["set_label", "/dev/sda1", "testlabel2"], ["vfs_label", "/dev/sda1"]] => "testlabel2";
            };
            /// Fills the free space of the filesystem holding a directory with zeroes.
            135 call zero_free_space(directory: Pathname) [] -> () [needs_root];
            /// Discards the unused blocks of a mounted filesystem.
            136 call fstrim(mountpoint: Pathname) [] -> () [needs_root];
            /// Loads the tools layer (a cpio stream) into the appliance; done by the library on first need.
            137 file_in internal_load_tools() [] -> () [internal];

            /// The logical sector size of a device in bytes (BLKSSZGET), usually 512.
            300 call blockdev_getss(device: Device) [] -> i64 [] {
                empty: [["blockdev_getss", "/dev/sda"]] => "512";
            };
            /// The kernel's block size for a device (BLKBSZGET); not the filesystem's block size.
            301 call blockdev_getbsz(device: Device) [] -> i64 [] {
                empty: [["blockdev_getbsz", "/dev/sda"]] => "4096";
            };
            /// The size of a device in 512-byte sectors, whatever its sector size.
            302 call blockdev_getsz(device: Device) [] -> i64 [] {
                empty: [["blockdev_getsz", "/dev/sda"]] => "1048576";
            };
            /// Whether a device is read-only (BLKROGET).
            303 call blockdev_getro(device: Device) [] -> bool [] {
                empty: [["blockdev_getro", "/dev/sda"]] => "false";
                iso_fs: [["blockdev_getro", "/dev/sdc"]] => (contains "");
            };
            /// Makes a device read-only (BLKROSET).
            304 call blockdev_setro(device: Device) [] -> () [] {
                empty: [["blockdev_setro", "/dev/sda"], ["blockdev_getro", "/dev/sda"]] => "true";
            };
            /// Makes a device read-write (BLKROSET).
            305 call blockdev_setrw(device: Device) [] -> () [] {
                empty: [["blockdev_setro", "/dev/sda"], ["blockdev_setrw", "/dev/sda"], ["blockdev_getro", "/dev/sda"]] => "false";
            };
            /// Flushes a device's buffers (BLKFLSBUF).
            306 call blockdev_flushbufs(device: Device) [] -> () [] {
                empty: [["blockdev_flushbufs", "/dev/sda"]] => ok;
            };
            /// Has the kernel re-read the partition table of a device (BLKRRPART).
            307 call blockdev_rereadpt(device: Device) [] -> () [] {
                empty: [["blockdev_rereadpt", "/dev/sda"]] => ok;
            };
            /// Sets a device's readahead, in 512-byte sectors (BLKRASET).
            308 call blockdev_setra(device: Device, sectors: i64) [] -> () [] {
                empty: [["blockdev_setra", "/dev/sda", "1024"]] => ok;
            };
            /// The index of a device in list_devices, from 0; an error if it is not there.
            309 call device_index(device: Device) [] -> i64 [] {
                empty: [["device_index", "/dev/sdb"]] => "1";
                empty: [["device_index", "/dev/sda"]] => "0";
            };
            /// The number of whole block devices (the length of list_devices).
            310 call nr_devices() [] -> i64 [] {
                empty: [["nr_devices"]] => "3";
            };
            /// Whether the device is a whole block device (one list_devices returns), not a partition, LV or md array.
            645 call is_whole_device(device: Device) [] -> bool [] {
                partition: [["is_whole_device", "/dev/sda"]] => "true";
                partition: [["is_whole_device", "/dev/sda1"]] => "false";
            };
            /// Up to count bytes of a device from offset (at most 4 MiB).
            311 call pread_device(device: Device, count: i64, offset: i64) [] -> Vec<u8> [] {
                empty: [["pwrite_device", "/dev/sda", "abc", "512"], ["pread_device", "/dev/sda", "3", "512"]] => "abc";
            };
            /// Writes content into a device at offset; returns the bytes written.
            312 call pwrite_device(device: Device, content: Vec<u8>, offset: i64) [] -> i64 [] {
                empty: [["pwrite_device", "/dev/sda", "abc", "512"]] => "3";
            };
            /// Zeroes the first few blocks of a device (enough to remove partition tables and superblocks); blocks already zero are not written.
            313 call zero(device: Device) [] -> () [] {
                empty: [["pwrite_device", "/dev/sda", "x", "0"], ["zero", "/dev/sda"], ["pread_device", "/dev/sda", "1", "0"]] => "\0";
            };
            /// Zeroes a whole device; blocks already zero are not written.
            314 call zero_device(device: Device) [] -> () [] {
                empty: [["pwrite_device", "/dev/sdb", "x", "100"], ["zero_device", "/dev/sdb"], ["is_zero_device", "/dev/sdb"]] => "true";
            };
            /// Whether a device reads as zeroes only.
            315 call is_zero_device(device: Device) [] -> bool [] {
                empty: [["pwrite_device", "/dev/sdb", "x", "100"], ["is_zero_device", "/dev/sdb"]] => "false";
            };
            /// Discards every block of a device (BLKDISCARD); the disk must have been added with discard.
            316 call blkdiscard(device: Device) [] -> () [] {
                empty: [["blkdiscard", "/dev/sdb"]] => ok;
            };
            /// Whether discarded blocks of a device read back as zeroes (BLKDISCARDZEROES).
            317 call blkdiscardzeroes(device: Device) [] -> bool [] {
                empty: [["blkdiscardzeroes", "/dev/sda"]] => "false";
            };
            /// The checksum of a device's contents in hex: md5, sha1, sha224, sha256, sha384 or sha512.
            318 call checksum_device(csumtype: String, device: Device) [] -> String [] {
                empty: [["zero_device", "/dev/sdb"], ["checksum_device", "md5", "/dev/sdb"]] => "58f06dd588d8ffb3beb46ada6309436b";
            };
            /// Copies from a device to a device: srcoffset, destoffset and size in bytes (size defaults to the rest of the source); sparse skips blocks of zeroes; append is refused for devices.
            319 call copy_device_to_device(src: Device, dest: Device) [srcoffset: i64, destoffset: i64, size: i64, sparse: bool, append: bool] -> () [] {
                empty: [["pwrite_device", "/dev/sda", "hello", "0"], ["copy_device_to_device", "/dev/sda", "/dev/sdb", "size:5"], ["pread_device", "/dev/sdb", "5", "0"]] => "hello";
            };
            /// Copies from a device to a file (created if needed; truncated unless append). See copy_device_to_device.
            320 call copy_device_to_file(src: Device, dest: Pathname) [srcoffset: i64, destoffset: i64, size: i64, sparse: bool, append: bool] -> () [needs_root] {
                basic_fs: [["pwrite_device", "/dev/sdb", "hello", "0"], ["copy_device_to_file", "/dev/sdb", "/dest", "size:5"], ["cat", "/dest"]] => "hello";
            };
            /// Copies from a file to a device. See copy_device_to_device.
            321 call copy_file_to_device(src: Pathname, dest: Device) [srcoffset: i64, destoffset: i64, size: i64, sparse: bool, append: bool] -> () [needs_root] {
                basic_fs: [["write", "/src", "hello"], ["copy_file_to_device", "/src", "/dev/sdb"], ["pread_device", "/dev/sdb", "5", "0"]] => "hello";
            };
            /// Copies blocks from a file to a file (not for copying files: see cp). See copy_device_to_device.
            322 call copy_file_to_file(src: Pathname, dest: Pathname) [srcoffset: i64, destoffset: i64, size: i64, sparse: bool, append: bool] -> () [needs_root] {
                basic_fs: [["write", "/src", "hello world"], ["copy_file_to_file", "/src", "/dest", "srcoffset:6", "size:5"], ["cat", "/dest"]] => "world";
            };

            /// The MBR type byte (ID byte) of a partition; msdos tables only.
            330 call part_get_mbr_id(device: Device, partnum: i64) [] -> i64 [] {
                partition: [["part_get_mbr_id", "/dev/sda", "1"]] => "131";
            };
            /// Sets the MBR type byte (ID byte) of a partition; msdos tables only.
            331 call part_set_mbr_id(device: Device, partnum: i64, idbyte: i64) [] -> () [] {
                partition: [["part_set_mbr_id", "/dev/sda", "1", "0x7f"], ["part_get_mbr_id", "/dev/sda", "1"]] => "127";
            };
            /// The kind of an MBR partition: primary, logical or extended (primary on GPT).
            332 call part_get_mbr_part_type(device: Device, partnum: i64) [] -> String [] {
                partition: [["part_get_mbr_part_type", "/dev/sda", "1"]] => "primary";
            };
            /// The type GUID of a GPT partition (for MBR, the GUID matching its type byte).
            333 call part_get_gpt_type(device: Device, partnum: i64) [] -> String [] {
                partition: [["part_get_gpt_type", "/dev/sda", "1"]] => "0FC63DAF-8483-4772-8E79-3D69D8477DE4";
            };
            /// The unique GUID of a GPT partition.
            334 call part_get_gpt_guid(device: Device, partnum: i64) [] -> String [];
            /// Sets the unique GUID of a GPT partition.
            335 call part_set_gpt_guid(device: Device, partnum: i64, guid: String) [] -> () [] {
                empty: [["part_disk", "/dev/sda", "gpt"], ["part_set_gpt_guid", "/dev/sda", "1", "01234567-89AB-CDEF-0123-456789ABCDEF"], ["part_get_gpt_guid", "/dev/sda", "1"]] => "01234567-89AB-CDEF-0123-456789ABCDEF";
            };
            /// The 64 attribute bits of a GPT partition.
            336 call part_get_gpt_attributes(device: Device, partnum: i64) [] -> i64 [];
            /// Sets the 64 attribute bits of a GPT partition.
            337 call part_set_gpt_attributes(device: Device, partnum: i64, attributes: i64) [] -> () [] {
                empty: [["part_disk", "/dev/sda", "gpt"], ["part_set_gpt_attributes", "/dev/sda", "1", "4"], ["part_get_gpt_attributes", "/dev/sda", "1"]] => "4";
            };
            /// The name of a GPT partition.
            338 call part_get_name(device: Device, partnum: i64) [] -> String [] {
                empty: [["part_disk", "/dev/sda", "gpt"], ["part_get_name", "/dev/sda", "1"]] => (contains "");
            };
            /// Whether a partition is bootable (the MBR boot flag; legacy BIOS bootable on GPT).
            339 call part_get_bootable(device: Device, partnum: i64) [] -> bool [] {
                partition: [["part_get_bootable", "/dev/sda", "1"]] => "false";
            };
            /// The whole disk of a partition: /dev/sda for /dev/sda1.
            340 call part_to_dev(partition: Device) [] -> String [] {
                partition: [["part_to_dev", "/dev/sda1"]] => "/dev/sda";
                partition: [["part_to_dev", "/dev/sda"]] => fails;
            };
            /// The number of a partition: 1 for /dev/sda1.
            341 call part_to_partnum(partition: Device) [] -> i64 [] {
                partition: [["part_to_partnum", "/dev/sda1"]] => "1";
                partition: [["part_to_partnum", "/dev/sda"]] => fails;
            };
            /// The disk GUID of a GPT disk.
            342 call part_get_disk_guid(device: Device) [] -> String [];
            /// Sets the disk GUID of a GPT disk.
            343 call part_set_disk_guid(device: Device, guid: String) [] -> () [] {
                empty: [["part_init", "/dev/sda", "gpt"], ["part_set_disk_guid", "/dev/sda", "01234567-89AB-CDEF-0123-456789ABCDEF"], ["part_get_disk_guid", "/dev/sda"]] => "01234567-89AB-CDEF-0123-456789ABCDEF";
            };
            /// Sets the disk GUID of a GPT disk to a new random one.
            344 call part_set_disk_guid_random(device: Device) [] -> () [] {
                empty: [["part_init", "/dev/sda", "gpt"], ["part_set_disk_guid_random", "/dev/sda"]] => ok;
            };
            /// Moves the backup GPT header to the end of the disk (after the disk grew), like sgdisk -e.
            345 call part_expand_gpt(device: Device) [] -> () [] {
                empty: [["part_disk", "/dev/sdb", "gpt"], ["part_expand_gpt", "/dev/sdb"]] => ok;
            };
            /// Moves the end of a partition to endsect (negative counts from the disk's end); its filesystem is not resized.
            346 call part_resize(device: Device, partnum: i64, endsect: i64) [] -> () [] {
                empty: [["part_init", "/dev/sda", "mbr"], ["part_add", "/dev/sda", "p", "2048", "-2048"], ["part_resize", "/dev/sda", "1", "-4096"]] => ok;
            };

            /// The extended attributes of a file (following symlinks), names and values.
            350 call getxattrs(path: Pathname) [] -> Vec<XAttr> [needs_root] {
                basic_fs: [["touch", "/f"], ["setxattr", "user.test", "hello", "5", "/f"], ["getxattrs", "/f"]] => (contains "attrname: user.test");
            };
            /// The extended attributes of a file, of a symlink itself rather than its target.
            351 call lgetxattrs(path: Pathname) [] -> Vec<XAttr> [needs_root] {
                basic_fs: [["touch", "/f"], ["lsetxattr", "user.test", "hi", "2", "/f"], ["lgetxattrs", "/f"]] => (contains "attrname: user.test");
            };
            /// The value of one extended attribute of a file (following symlinks).
            352 call getxattr(path: Pathname, name: String) [] -> Vec<u8> [needs_root] {
                basic_fs: [["touch", "/f"], ["getxattr", "/f", "user.nosuch"]] => fails;
            };
            /// The value of one extended attribute, of a symlink itself rather than its target.
            353 call lgetxattr(path: Pathname, name: String) [] -> Vec<u8> [needs_root] {
                basic_fs: [["touch", "/f"], ["lsetxattr", "user.test", "hi", "2", "/f"], ["lgetxattr", "/f", "user.test"]] => "hi";
            };
            /// Sets extended attribute xattr to the first vallen bytes of val (following symlinks).
            354 call setxattr(xattr: String, val: Vec<u8>, vallen: i64, path: Pathname) [] -> () [needs_root] {
                basic_fs: [["touch", "/f"], ["setxattr", "user.test", "hello", "5", "/f"], ["getxattr", "/f", "user.test"]] => "hello";
            };
            /// Sets an extended attribute of a symlink itself rather than its target.
            355 call lsetxattr(xattr: String, val: Vec<u8>, vallen: i64, path: Pathname) [] -> () [needs_root] {
                basic_fs: [["touch", "/f"], ["ln_s", "f", "/l"], ["lsetxattr", "trusted.test", "hi", "2", "/l"], ["lgetxattr", "/l", "trusted.test"]] => "hi";
                basic_fs: [["touch", "/f"], ["ln_s", "f", "/l"], ["lsetxattr", "trusted.test", "hi", "2", "/l"], ["getxattrs", "/f"]] => "";
            };
            /// Removes an extended attribute of a file (following symlinks).
            356 call removexattr(xattr: String, path: Pathname) [] -> () [needs_root] {
                basic_fs: [["touch", "/f"], ["setxattr", "user.test", "hello", "5", "/f"], ["removexattr", "user.test", "/f"], ["getxattrs", "/f"]] => "";
            };
            /// Removes an extended attribute of a symlink itself rather than its target.
            357 call lremovexattr(xattr: String, path: Pathname) [] -> () [needs_root] {
                basic_fs: [["touch", "/f"], ["lsetxattr", "user.test", "hello", "5", "/f"], ["lremovexattr", "user.test", "/f"], ["lgetxattrs", "/f"]] => "";
            };
            /// The extended attributes of the files named in directory path (not following symlinks), as a flat list: for each file an entry with an empty attrname whose attrval is the count of entries that follow (empty when reading failed), then those entries.
            358 call lxattrlist(path: Pathname, names: Vec<String>) [] -> Vec<XAttr> [needs_root] {
                basic_fs: [["touch", "/f"], ["lsetxattr", "user.a", "x", "1", "/f"], ["lxattrlist", "/", "f"]] => (contains "attrname: user.a");
            };
            /// The POSIX ACL of a file (following symlinks) in the long text form acl_to_text prints, one entry a line with numeric ids; acltype "access" (the mode's ACL when none is set) or "default" (empty when none; an error on a non-directory).
            480 call acl_get_file(path: Pathname, acltype: String) [] -> String [needs_root] {
                basic_fs: [["touch", "/f"], ["chmod", "0640", "/f"], ["acl_get_file", "/f", "access"]] => (contains "user::rw-");
            };
            /// Sets a file's POSIX ACL, acltype "access" or "default" (directories only; an empty one removes it), from acl_from_text's form: entries separated by commas or newlines, u/g/m/o tags, numeric ids, rwx- permissions; checked as acl_valid does.
            481 call acl_set_file(path: Pathname, acltype: String, acl: String) [] -> () [needs_root] {
                basic_fs: [["touch", "/f"], ["acl_set_file", "/f", "access", "u::rwx,g::r--,o::---,u:500:r--,m::r--"], ["acl_get_file", "/f", "access"]] => (contains "user:500:r--");
            };
            /// Removes a directory's default POSIX ACL; success when it has none.
            482 call acl_delete_def_file(dir: Pathname) [] -> () [needs_root] {
                basic_fs: [["mkdir", "/d"], ["acl_set_file", "/d", "default", "u::rwx,g::r-x,o::r-x"], ["acl_delete_def_file", "/d"], ["acl_get_file", "/d", "default"]] => "";
            };
            /// The Linux capabilities of a file (following symlinks), in cap_to_text(3) form as getcap prints them ("cap_net_raw=ep"); "" when it has none.
            485 call cap_get_file(path: Pathname) [] -> String [needs_root];
            /// Sets the Linux capabilities of a file from cap_from_text(3) form (setcap's), e.g. "cap_net_raw+ep"; the effective flag is all or nothing.
            486 call cap_set_file(path: Pathname, cap: String) [] -> () [needs_root] {
                basic_fs: [["touch", "/f"], ["cap_set_file", "/f", "cap_net_raw=ep"], ["cap_get_file", "/f"]] => "cap_net_raw=ep";
            };
            /// Removes the Linux capabilities of a file (its security.capability attribute), as setcap -r does.
            487 call cap_remove_file(path: Pathname) [] -> () [needs_root] {
                basic_fs: [["touch", "/f"], ["cap_set_file", "/f", "cap_net_raw=ep"], ["cap_remove_file", "/f"], ["cap_get_file", "/f"]] => "";
            };
            /// Makes a Linux swap area on a device (mkswap -f), with an optional label and UUID.
            500 call mkswap(device: Device) [label: String, uuid: String] -> () [needs_tools] {
                partition: [["mkswap", "/dev/sda1"], ["vfs_type", "/dev/sda1"]] => "swap";
            };
            /// Makes a swap area with a label (deprecated in libguestfs for mkswap's label option).
            501 call mkswap_L(label: String, device: Device) [] -> () [needs_tools] {
                partition: [["mkswap_L", "hello", "/dev/sda1"], ["vfs_label", "/dev/sda1"]] => "hello";
            };
            /// Makes a swap area with a UUID (deprecated in libguestfs for mkswap's uuid option).
            502 call mkswap_U(uuid: String, device: Device) [] -> () [needs_tools] {
                partition: [["mkswap_U", "01234567-0123-0123-0123-0123456789ab", "/dev/sda1"], ["vfs_uuid", "/dev/sda1"]] => "01234567-0123-0123-0123-0123456789ab";
            };
            /// Makes a swap area in an existing file (create it first, e.g. with fallocate, without holes).
            503 call mkswap_file(path: Pathname) [] -> () [needs_root, needs_tools];
            /// Enables swapping on a device (swapon(2)).
            504 call swapon_device(device: Device) [] -> () [] {
                partition: [["mkswap", "/dev/sda1"], ["swapon_device", "/dev/sda1"], ["swapoff_device", "/dev/sda1"]] => ok;
            };
            /// Disables swapping on a device (swapoff(2)).
            505 call swapoff_device(device: Device) [] -> () [] {
                partition: [["mkswap", "/dev/sda1"], ["swapoff_device", "/dev/sda1"]] => fails;
            };
            /// Enables swapping on a file made with mkswap_file.
            506 call swapon_file(file: Pathname) [] -> () [needs_root] {
                basic_fs: [["fill", "0", "1M", "/swap"], ["chmod", "0600", "/swap"], ["mkswap_file", "/swap"], ["swapon_file", "/swap"], ["swapoff_file", "/swap"]] => ok;
            };
            /// Disables swapping on a file.
            507 call swapoff_file(file: Pathname) [] -> () [needs_root];
            /// Enables swapping on the swap area with this label.
            508 call swapon_label(label: String) [] -> () [] {
                partition: [["mkswap_L", "swapit", "/dev/sda1"], ["swapon_label", "swapit"], ["swapoff_label", "swapit"]] => ok;
            };
            /// Disables swapping on the swap area with this label.
            509 call swapoff_label(label: String) [] -> () [];
            /// Enables swapping on the swap area with this UUID.
            510 call swapon_uuid(uuid: String) [] -> () [] {
                partition: [["mkswap_U", "01234567-0123-0123-0123-0123456789ab", "/dev/sda1"], ["swapon_uuid", "01234567-0123-0123-0123-0123456789ab"], ["swapoff_uuid", "01234567-0123-0123-0123-0123456789ab"]] => ok;
            };
            /// Disables swapping on the swap area with this UUID.
            511 call swapoff_uuid(uuid: String) [] -> () [];
            /// What blkid -p -i -o export says of a device: TYPE, UUID, LABEL, USAGE, PART_ENTRY_*…, as key/value pairs in blkid's order.
            512 call blkid(device: Device) [] -> Vec<(String, String)> [needs_tools] {
                partition: [["mkfs", "ext4", "/dev/sda1", "label:blk"], ["blkid", "/dev/sda1"]] => (contains "LABEL: blk");
            };
            /// The device holding the filesystem (or swap area) with this label.
            513 call findfs_label(label: String) [] -> String [] {
                partition: [["mkfs", "ext4", "/dev/sda1", "label:findme"], ["findfs_label", "findme"]] => "/dev/sda1";
            };
            /// The device holding the filesystem (or swap area) with this UUID.
            514 call findfs_uuid(uuid: String) [] -> String [] {
                partition: [["mkswap_U", "01234567-0123-0123-0123-0123456789ab", "/dev/sda1"], ["findfs_uuid", "01234567-0123-0123-0123-0123456789ab"]] => "/dev/sda1";
            };
            /// Erases the filesystem, RAID and partition-table signatures of a device (wipefs -a).
            515 call wipefs(device: Device) [] -> () [needs_tools] {
                partition: [["mkfs", "ext4", "/dev/sda1"], ["wipefs", "/dev/sda1"], ["vfs_type", "/dev/sda1"]] => "";
            };
            /// Zeroes the unused blocks of an unmounted ext2/3/4 filesystem (zerofree).
            516 call zerofree(device: Device) [] -> () [needs_tools] {
                basic_fs: [["umount", "/"], ["zerofree", "/dev/sda1"]] => ok;
            };
            /// Makes an ext2/3/4 filesystem with mke2fs's options (see libguestfs's mke2fs; blockscount goes after the device).
            517 call mke2fs(device: Device) [blockscount: i64, blocksize: i64, fragsize: i64, blockspergroup: i64, numberofgroups: i64, bytesperinode: i64, inodesize: i64, journalsize: i64, numberofinodes: i64, stridesize: i64, stripewidth: i64, maxonlineresize: i64, reservedblockspercentage: i64, mmpupdateinterval: i64, journaldevice: String, label: String, lastmounteddir: String, creatoros: String, fstype: String, usagetype: String, uuid: String, forcecreate: bool, writesbandgrouponly: bool, lazyitableinit: bool, lazyjournalinit: bool, testfs: bool, discard: bool, quotatype: bool, extent: bool, filetype: bool, flexbg: bool, hasjournal: bool, journaldev: bool, largefile: bool, quota: bool, resizeinode: bool, sparsesuper: bool, uninitbg: bool] -> () [needs_tools] {
                partition: [["mke2fs", "/dev/sda1", "fstype:ext3", "label:m2"], ["vfs_type", "/dev/sda1"]] => "ext3";
            };
            /// Changes ext2/3/4 parameters (tune2fs): mount counts, error behaviour, reserved blocks, check interval (seconds)…
            518 call tune2fs(device: Device) [force: bool, maxmountcount: i64, mountcount: i64, errorbehavior: String, group: i64, intervalbetweenchecks: i64, reservedblockspercentage: i64, lastmounteddirectory: String, reservedblockscount: i64, user: i64] -> () [needs_tools] {
                partition: [["mkfs", "ext4", "/dev/sda1"], ["tune2fs", "/dev/sda1", "maxmountcount:42"], ["tune2fs_l", "/dev/sda1"]] => (contains "Maximum mount count: 42");
            };
            /// The ext2/3/4 superblock as tune2fs -l lists it, as key/value pairs (`<none>` as "").
            519 call tune2fs_l(device: Device) [] -> Vec<(String, String)> [needs_tools] {
                basic_fs: [["tune2fs_l", "/dev/sda1"]] => (contains "Filesystem magic number: 0xEF53");
            };
            /// A file's ext2-style attribute letters (as lsattr shows them), sorted.
            520 call get_e2attrs(file: Pathname) [] -> String [needs_root] {
                basic_fs: [["touch", "/f"], ["get_e2attrs", "/f"]] => "";
            };
            /// Sets (or with clear, clears) a file's ext2-style attributes, given as chattr letters.
            521 call set_e2attrs(file: Pathname, attrs: String) [clear: bool] -> () [needs_root] {
                basic_fs: [["touch", "/f"], ["set_e2attrs", "/f", "A"], ["get_e2attrs", "/f"]] => "A";
                basic_fs: [["touch", "/f"], ["set_e2attrs", "/f", "A"], ["set_e2attrs", "/f", "A", "clear:true"], ["get_e2attrs", "/f"]] => "";
            };
            /// A file's inode generation number.
            522 call get_e2generation(file: Pathname) [] -> i64 [needs_root];
            /// Sets a file's inode generation number (0 to 4294967295).
            523 call set_e2generation(file: Pathname, generation: i64) [] -> () [needs_root] {
                basic_fs: [["touch", "/f"], ["set_e2generation", "/f", "123456"], ["get_e2generation", "/f"]] => "123456";
            };
            /// The smallest size in bytes the filesystem can be shrunk to: ext2/3/4 (resize2fs -P), ntfs (ntfsresize), btrfs (mounted; device min-size); xfs cannot shrink.
            524 call vfs_minimum_size(mountable: Device) [] -> i64 [needs_tools] {
                partition: [["mkfs", "ext4", "/dev/sda1"], ["vfs_minimum_size", "/dev/sda1"]] => ok;
            };
            /// The geometry of an xfs filesystem (a mountpoint in the guest or a device), as xfs_info prints it.
            525 call xfs_info(pathordevice: String) [] -> XfsInfo [needs_tools];
            /// Grows a mounted xfs filesystem (xfs_growfs): datasec/logsec/rtsec pick sections, sizes in filesystem blocks.
            526 call xfs_growfs(path: Pathname) [datasec: bool, logsec: bool, rtsec: bool, datasize: i64, logsize: i64, rtsize: i64, rtextsize: i64, maxpct: i64] -> () [needs_root, needs_tools] {
                partition: [["mkfs", "xfs", "/dev/sda1"], ["mount", "/dev/sda1", "/"], ["xfs_growfs", "/", "datasec:true"]] => ok;
            };
            /// Changes an unmounted xfs filesystem's parameters (what xfs_admin does): features, label, UUID.
            527 call xfs_admin(device: Device) [extunwritten: bool, imgfile: bool, v2log: bool, projid32bit: bool, lazycounter: bool, label: String, uuid: String] -> () [needs_tools] {
                partition: [["mkfs", "xfs", "/dev/sda1"], ["xfs_admin", "/dev/sda1", "label:xlab"], ["vfs_label", "/dev/sda1"]] => "xlab";
            };
            /// Checks or repairs an xfs filesystem (xfs_repair); returns 0 clean, 1 corruption found with nomodify.
            528 call xfs_repair(device: Device) [forcelogzero: bool, nomodify: bool, noprefetch: bool, forcegeometry: bool, maxmem: i64, ihashsize: i64, bhashsize: i64, agstride: i64, logdev: String, rtdev: String] -> i64 [needs_tools] {
                partition: [["mkfs", "xfs", "/dev/sda1"], ["xfs_repair", "/dev/sda1", "nomodify:true"]] => "0";
            };
            /// Resizes an ntfs filesystem to its device or to size bytes (ntfsresize); force skips the consistency check.
            529 call ntfsresize(device: Device) [size: i64, force: bool] -> () [needs_tools] {
                partition: [["mkfs", "ntfs", "/dev/sda1"], ["ntfsresize", "/dev/sda1", "size:268435456"], ["vfs_type", "/dev/sda1"]] => "ntfs";
            };
            /// Fixes common ntfs problems and schedules a Windows chkdsk (ntfsfix); clearbadsectors clears the bad-sector list.
            530 call ntfsfix(device: Device) [clearbadsectors: bool] -> () [needs_tools] {
                partition: [["mkfs", "ntfs", "/dev/sda1"], ["ntfsfix", "/dev/sda1"]] => ok;
            };
            /// Whether ntfs-3g can mount a device (rw: read-write): ntfs-3g.probe's exit status (0 yes, 12 hibernated, 15 unclean…).
            531 call ntfs_3g_probe(rw: bool, device: Device) [] -> i64 [needs_tools] {
                partition: [["mkfs", "ntfs", "/dev/sda1"], ["ntfs_3g_probe", "true", "/dev/sda1"]] => "0";
            };
            /// Packs a guest directory into a squashfs image streamed to a host file; compress: gzip, lzo, lz4, xz or zstd; excludes: wildcard patterns.
            532 file_out mksquashfs(path: Pathname) [compress: String, excludes: Vec<String>] -> () [needs_root, needs_tools] {
                basic_fs: [["mkdir", "/s"], ["write", "/s/hello", "hello\n"], ["mksquashfs", "/s", "s.sqsh"], ["upload", "s.sqsh", "/s.sqsh"], ["copy_file_to_device", "/s.sqsh", "/dev/sdb"], ["mkdir", "/mnt"], ["mount_ro", "/dev/sdb", "/mnt"], ["cat", "/mnt/hello"]] => "hello\n";
            };
            /// The LVM physical volumes' device names (pvs), sorted.
            540 call pvs() [] -> Vec<String> [needs_tools] {
                basic_fs_on_lvm: [["pvs"]] => "/dev/sda1";
            };
            /// The LVM volume groups' names (vgs), sorted.
            541 call vgs() [] -> Vec<String> [needs_tools] {
                basic_fs_on_lvm: [["vgs"]] => "VG";
            };
            /// The LVM logical volumes as /dev/VG/LV, sorted; thin pools, snapshots' internals and other LVs that are not public (or are never activated) are left out, as libguestfs does.
            542 call lvs() [] -> Vec<String> [needs_tools] {
                basic_fs_on_lvm: [["lvs"]] => "/dev/VG/LV";
            };
            /// Every LVM physical volume with all its fields (libguestfs's lvm_pv; sizes in bytes, the UUID without hyphens).
            543 call pvs_full() [] -> Vec<LvmPv> [needs_tools] {
                basic_fs_on_lvm: [["pvs_full"]] => (contains "pv_name: /dev/sda1");
            };
            /// Every LVM volume group with all its fields (libguestfs's lvm_vg).
            544 call vgs_full() [] -> Vec<LvmVg> [needs_tools] {
                basic_fs_on_lvm: [["vgs_full"]] => (contains "vg_name: VG");
            };
            /// Every LVM logical volume with all its fields (libguestfs's lvm_lv; percentages -1 when not applicable).
            545 call lvs_full() [] -> Vec<LvmLv> [needs_tools] {
                basic_fs_on_lvm: [["lvs_full"]] => (contains "lv_name: LV");
            };
            /// Makes a device (usually a partition) an LVM physical volume.
            546 call pvcreate(device: Device) [] -> () [needs_tools];
            /// Creates the volume group volgroup on the physical volumes physvols (devices).
            547 call vgcreate(volgroup: String, physvols: Vec<String>) [] -> () [needs_tools];
            /// Creates the logical volume /dev/volgroup/logvol of mbytes MiB (rounded up to whole extents), active.
            548 call lvcreate(logvol: String, volgroup: String, mbytes: i64) [] -> () [needs_tools] {
                basic_fs_on_lvm: [["lvcreate", "LV2", "VG", "8"], ["lvs"]] => "/dev/VG/LV\n/dev/VG/LV2";
            };
            /// Creates the logical volume /dev/volgroup/logvol on percent % (1 to 100) of the group's free space.
            549 call lvcreate_free(logvol: String, volgroup: String, percent: i64) [] -> () [needs_tools] {
                basic_fs_on_lvm: [["lvcreate_free", "LV2", "VG", "100"], ["lvs"]] => "/dev/VG/LV\n/dev/VG/LV2";
            };
            /// Removes a logical volume (/dev/VG/LV), or every logical volume of a group when given /dev/VG; forced, with no questions.
            550 call lvremove(device: Device) [] -> () [needs_tools] {
                basic_fs_on_lvm: [["umount", "/"], ["lvremove", "/dev/VG/LV"], ["lvs"]] => "";
            };
            /// Removes a volume group and every logical volume in it.
            551 call vgremove(vgname: String) [] -> () [needs_tools];
            /// Wipes the LVM label from a physical volume (which must be in no volume group: remove the group first).
            552 call pvremove(device: Device) [] -> () [needs_tools];
            /// Resizes a logical volume to mbytes MiB (shrinking loses the data past the end: shrink the filesystem first).
            553 call lvresize(device: Device, mbytes: i64) [] -> () [needs_tools] {
                basic_fs_on_lvm: [["lvresize", "/dev/VG/LV", "16"], ["blockdev_getsize64", "/dev/VG/LV"]] => "16777216";
            };
            /// Grows a logical volume by percent % (1 to 100) of its group's free space.
            554 call lvresize_free(lv: Device, percent: i64) [] -> () [needs_tools];
            /// Resizes a physical volume to the size of its device (after the partition grew).
            555 call pvresize(device: Device) [] -> () [needs_tools];
            /// Renames a logical volume: logvol and newlogvol are /dev/VG/LV names in the same group.
            556 call lvrename(logvol: String, newlogvol: String) [] -> () [needs_tools] {
                basic_fs_on_lvm: [["umount", "/"], ["lvrename", "/dev/VG/LV", "/dev/VG/LV3"], ["lvs"]] => "/dev/VG/LV3";
            };
            /// Renames a volume group (its active LVs move to /dev/NEWVG/…).
            557 call vgrename(volgroup: String, newvolgroup: String) [] -> () [needs_tools] {
                basic_fs_on_lvm: [["umount", "/"], ["vgrename", "VG", "VG2"], ["vgrename", "VG2", "VG"], ["vgs"]] => "VG";
            };
            /// The UUID of a logical volume, as LVM prints it (with hyphens).
            558 call lvuuid(device: Device) [] -> String [needs_tools];
            /// The UUID of a volume group, as LVM prints it.
            559 call vguuid(vgname: String) [] -> String [needs_tools];
            /// The UUID of a physical volume, as LVM prints it.
            560 call pvuuid(device: Device) [] -> String [needs_tools];
            /// The UUIDs of the logical volumes of a volume group (as lvuuid gives them; lvs_full's lv_uuid is the same without hyphens).
            561 call vglvuuids(vgname: String) [] -> Vec<String> [needs_tools] {
                basic_fs_on_lvm: [["vglvuuids", "VG"]] => (contains "-");
            };
            /// The UUIDs of the physical volumes of a volume group.
            562 call vgpvuuids(vgname: String) [] -> Vec<String> [needs_tools];
            /// Activates (true) or deactivates the logical volumes of the volume groups named (all groups when the list is empty).
            563 call vg_activate(activate: bool, volgroups: Vec<String>) [] -> () [needs_tools];
            /// Activates (true) or deactivates every logical volume of every volume group.
            564 call vg_activate_all(activate: bool) [] -> () [needs_tools];
            /// Rescans the devices for physical volumes, volume groups and logical volumes (after luks_open or a new partition table); activate: activate what was found.
            565 call lvm_scan(activate: bool) [] -> () [needs_tools];
            /// Whether a device is an LVM logical volume (/dev/VG/LV or /dev/mapper/VG-LV).
            566 call is_lv(mountable: Device) [] -> bool [needs_tools] {
                basic_fs_on_lvm: [["is_lv", "/dev/VG/LV"]] => "true";
                basic_fs_on_lvm: [["is_lv", "/dev/sda1"]] => "false";
            };
            /// The /dev/VG/LV name of a logical volume given as /dev/VG/LV or /dev/mapper/VG-LV; an error for anything else.
            567 call lvm_canonical_lv_name(lvname: Device) [] -> String [needs_tools] {
                basic_fs_on_lvm: [["lvm_canonical_lv_name", "/dev/mapper/VG-LV"]] => "/dev/VG/LV";
                basic_fs_on_lvm: [["lvm_canonical_lv_name", "/dev/sda1"]] => fails;
            };
            /// Lets LVM see only the devices listed (whole disks or partitions, matched exactly), then rescans; refused while a logical volume is mounted.
            568 call lvm_set_filter(devices: Vec<String>) [] -> () [needs_tools];
            /// Undoes lvm_set_filter: LVM sees every disk of the appliance again; then rescans.
            569 call lvm_clear_filter() [] -> () [needs_tools];
            /// The device-mapper devices as /dev/mapper/NAME, sorted, without the ones that are LVM logical volumes (lvs lists those).
            570 call list_dm_devices() [] -> Vec<String> [] {
                basic_fs_on_lvm: [["list_dm_devices"]] => "";
            };
            /// Whether the disks hold md RAID members not assembled yet, or LVM physical volumes whose logical volumes have not been activated yet (the library then calls internal_lvm_activate_native, and where that cannot, loads the tools layer and calls internal_lvm_activate).
            571 call internal_lvm_pending() [] -> bool [internal];
            /// Assembles the md arrays and then activates the logical volumes found on the disks, as libguestfs's appliance does at boot (mdadm -As, vgchange -aay), writing nothing to read-only disks.
            572 call internal_lvm_activate() [] -> () [needs_tools, internal];
            /// Activates the linear and striped logical volumes found on the disks without lvm (from their metadata, through device-mapper), as vgchange -aay would; false where lvm must do it (md members to assemble, or volumes it does not fully understand), and the library then calls internal_lvm_activate.
            573 call internal_lvm_activate_native() [] -> bool [internal];
            /// The true case of a path on a case-insensitive filesystem (ntfs-3g, vfat); the last element may not exist.
            200 call case_sensitive_path(path: Pathname) [] -> String [needs_root] {
                basic_fs: [["mkdir", "/Abc"], ["touch", "/Abc/Def"], ["case_sensitive_path", "/abc/def"]] => "/Abc/Def";
            };
            /// The canonical absolute path: symlinks, . and .. resolved inside the guest.
            201 call realpath(path: Pathname) [] -> String [needs_root] {
                iso_fs: [["realpath", "/abssymlink"]] => "/10klines";
            };
            /// The paths matching a shell wildcard pattern (with {a,b}); directories end in / unless directoryslash is false.
            202 call glob_expand(pattern: String) [directoryslash: bool] -> Vec<String> [needs_root] {
                basic_fs: [["touch", "/a1"], ["touch", "/a2"], ["mkdir", "/ad"], ["glob_expand", "/a*"]] => "/a1\n/a2\n/ad/";
                basic_fs: [["touch", "/a1"], ["mkdir", "/ad"], ["glob_expand", "/a*", "directoryslash:false"]] => "/a1\n/ad";
            };
            /// Every path under a directory, relative to it, each ending in a NUL byte, unsorted, to a host file (or stream).
            203 file_out find0(directory: Pathname) [] -> () [needs_root] {
                iso_fs: [["find0", "/directory", "-"]] => "/file\0";
            };
            /// The size of a file in bytes.
            204 call filesize(file: Pathname) [] -> i64 [needs_root] {
                iso_fs: [["filesize", "/10klines"]] => "308890";
            };
            /// The disk space used by a file or tree in KiB, like du -s.
            205 call du(path: Pathname) [] -> i64 [needs_root] {
                basic_fs: [["mkdir", "/p"], ["du", "/p"]] => "1";
            };
            /// The first 10 lines of a file.
            206 call head(path: Pathname) [] -> Vec<String> [needs_root] {
                iso_fs: [["head", "/10klines"]] => "0abcdefghijklmnopqrstuvwxyz\n1abcdefghijklmnopqrstuvwxyz\n2abcdefghijklmnopqrstuvwxyz\n3abcdefghijklmnopqrstuvwxyz\n4abcdefghijklmnopqrstuvwxyz\n5abcdefghijklmnopqrstuvwxyz\n6abcdefghijklmnopqrstuvwxyz\n7abcdefghijklmnopqrstuvwxyz\n8abcdefghijklmnopqrstuvwxyz\n9abcdefghijklmnopqrstuvwxyz";
            };
            /// The first nrlines lines; negative: all but the last -nrlines lines.
            207 call head_n(nrlines: i64, path: Pathname) [] -> Vec<String> [needs_root] {
                iso_fs: [["head_n", "3", "/10klines"]] => "0abcdefghijklmnopqrstuvwxyz\n1abcdefghijklmnopqrstuvwxyz\n2abcdefghijklmnopqrstuvwxyz";
                iso_fs: [["head_n", "-9997", "/10klines"]] => "0abcdefghijklmnopqrstuvwxyz\n1abcdefghijklmnopqrstuvwxyz\n2abcdefghijklmnopqrstuvwxyz";
                iso_fs: [["head_n", "0", "/10klines"]] => "";
            };
            /// The last 10 lines of a file.
            208 call tail(path: Pathname) [] -> Vec<String> [needs_root] {
                iso_fs: [["tail", "/10klines"]] => "9990abcdefghijklmnopqrstuvwxyz\n9991abcdefghijklmnopqrstuvwxyz\n9992abcdefghijklmnopqrstuvwxyz\n9993abcdefghijklmnopqrstuvwxyz\n9994abcdefghijklmnopqrstuvwxyz\n9995abcdefghijklmnopqrstuvwxyz\n9996abcdefghijklmnopqrstuvwxyz\n9997abcdefghijklmnopqrstuvwxyz\n9998abcdefghijklmnopqrstuvwxyz\n9999abcdefghijklmnopqrstuvwxyz";
            };
            /// The last nrlines lines; negative: the lines from the -nrlines'th on.
            209 call tail_n(nrlines: i64, path: Pathname) [] -> Vec<String> [needs_root] {
                iso_fs: [["tail_n", "3", "/10klines"]] => "9997abcdefghijklmnopqrstuvwxyz\n9998abcdefghijklmnopqrstuvwxyz\n9999abcdefghijklmnopqrstuvwxyz";
                iso_fs: [["tail_n", "-9998", "/10klines"]] => "9997abcdefghijklmnopqrstuvwxyz\n9998abcdefghijklmnopqrstuvwxyz\n9999abcdefghijklmnopqrstuvwxyz";
                iso_fs: [["tail_n", "0", "/10klines"]] => "";
            };
            /// The number of lines in a file, as wc -l.
            210 call wc_l(path: Pathname) [] -> i64 [needs_root] {
                iso_fs: [["wc_l", "/10klines"]] => "10000";
            };
            /// The number of words in a file, as wc -w.
            211 call wc_w(path: Pathname) [] -> i64 [needs_root] {
                iso_fs: [["wc_w", "/10klines"]] => "10000";
            };
            /// The number of bytes in a file, as wc -c.
            212 call wc_c(path: Pathname) [] -> i64 [needs_root] {
                iso_fs: [["wc_c", "/10klines"]] => "308890";
            };

            /// Whether a path is a block device.
            400 call is_blockdev(path: Pathname) [followsymlinks: bool] -> bool [needs_root] {
                iso_fs: [["is_blockdev", "/known-1"]] => "false";
                basic_fs: [["mknod_b", "0777", "99", "66", "/node"], ["is_blockdev", "/node"]] => "true";
            };
            /// Whether a path is a character device.
            401 call is_chardev(path: Pathname) [followsymlinks: bool] -> bool [needs_root] {
                basic_fs: [["mknod_c", "0777", "99", "66", "/node"], ["is_chardev", "/node"]] => "true";
            };
            /// Whether a path is a FIFO (named pipe).
            402 call is_fifo(path: Pathname) [followsymlinks: bool] -> bool [needs_root] {
                basic_fs: [["mkfifo", "0777", "/node"], ["is_fifo", "/node"]] => "true";
                iso_fs: [["is_fifo", "/known-1"]] => "false";
            };
            /// Whether a path is a Unix domain socket.
            403 call is_socket(path: Pathname) [followsymlinks: bool] -> bool [needs_root] {
                iso_fs: [["is_socket", "/known-1"]] => "false";
            };
            /// Removes a file (not a directory); a missing file is not an error.
            404 call rm_f(path: Pathname) [] -> () [needs_root] {
                basic_fs: [["rm_f", "/nosuchfile"]] => ok;
                basic_fs: [["mkdir", "/new"], ["rm_f", "/new"]] => fails;
            };
            /// Creates a hard link linkname to target.
            405 call ln(target: Pathname, linkname: Pathname) [] -> () [needs_root] {
                basic_fs: [["touch", "/a"], ["ln", "/a", "/b"], ["statns", "/b"]] => (contains "st_nlink: 2");
            };
            /// Creates a hard link, replacing an existing linkname.
            406 call ln_f(target: Pathname, linkname: Pathname) [] -> () [needs_root] {
                basic_fs: [["touch", "/a"], ["touch", "/b"], ["ln_f", "/a", "/b"], ["statns", "/a"]] => (contains "st_nlink: 2");
            };
            /// Creates a symbolic link, replacing an existing linkname.
            407 call ln_sf(target: String, linkname: Pathname) [] -> () [needs_root] {
                basic_fs: [["touch", "/b"], ["ln_sf", "a", "/b"], ["readlink", "/b"]] => "a";
            };
            /// Renames a file or directory with rename(2): no copying, no moving into a directory.
            408 call rename(oldpath: Pathname, newpath: Pathname) [] -> () [needs_root] {
                basic_fs: [["write", "/a", "x"], ["rename", "/a", "/b"], ["cat", "/b"]] => "x";
            };
            /// Copies a file or tree recursively (cp -rP): symlinks copied as symlinks, attributes not kept.
            409 call cp_r(src: Pathname, dest: Pathname) [] -> () [needs_root] {
                basic_fs: [["mkdir", "/d"], ["write", "/d/f", "x"], ["cp_r", "/d", "/e"], ["cat", "/e/f"]] => "x";
            };
            /// Copies attributes of src to dest (both followed if symlinks): mode, xattributes, ownership, or all; none unless asked.
            410 call copy_attributes(src: Pathname, dest: Pathname) [all: bool, mode: bool, xattributes: bool, ownership: bool] -> () [needs_root] {
                basic_fs: [["touch", "/a"], ["chmod", "0600", "/a"], ["touch", "/b"], ["copy_attributes", "/a", "/b", "mode:true"], ["statns", "/b"]] => (contains "st_mode: 33152");
            };
            /// Creates a new directory from a template ending in XXXXXX; returns its name.
            411 call mkdtemp(tmpl: Pathname) [] -> String [needs_root] {
                basic_fs: [["mkdir", "/tmp"], ["mkdtemp", "/tmp/tmpXXXXXX"]] => (contains "/tmp/tmp");
            };
            /// Creates a device node or FIFO; mode includes the file type (S_IFBLK, S_IFCHR, S_IFIFO, S_IFSOCK, S_IFREG); less the umask.
            412 call mknod(mode: i64, devmajor: i64, devminor: i64, path: Pathname) [] -> () [needs_root] {
                basic_fs: [["mknod", "010777", "0", "0", "/node"], ["is_fifo", "/node"]] => "true";
            };
            /// Creates a block device node; mode holds only permission bits.
            413 call mknod_b(mode: i64, devmajor: i64, devminor: i64, path: Pathname) [] -> () [needs_root] {
                basic_fs: [["mknod_b", "0777", "99", "66", "/node"], ["statns", "/node"]] => (contains "st_rdev: 25410");
            };
            /// Creates a character device node; mode holds only permission bits.
            414 call mknod_c(mode: i64, devmajor: i64, devminor: i64, path: Pathname) [] -> () [needs_root] {
                basic_fs: [["mknod_c", "0777", "1", "3", "/null"], ["is_chardev", "/null"]] => "true";
            };
            /// Creates a FIFO (named pipe); mode holds only permission bits.
            415 call mkfifo(mode: i64, path: Pathname) [] -> () [needs_root] {
                basic_fs: [["mkfifo", "0777", "/node"], ["statns", "/node"]] => (contains "st_mode: 4589");
            };
            /// Changes the owner and group of a path, of a symlink itself rather than its target.
            416 call lchown(owner: i64, group: i64, path: Pathname) [] -> () [needs_root] {
                basic_fs: [["ln_s", "nowhere", "/l"], ["lchown", "10", "11", "/l"], ["lstatns", "/l"]] => (contains "st_uid: 10");
            };
            /// Sets the daemon's umask (mask & 0777) for files created later; returns the previous one.
            417 call umask(mask: i64) [] -> i64 [] {
                empty: [["umask", "077"], ["umask", "022"]] => "63";
            };
            /// The daemon's current umask.
            418 call get_umask() [] -> i64 [] {
                empty: [["get_umask"]] => "18";
            };
            /// Creates a directory with a mode (less the umask).
            419 call mkdir_mode(path: Pathname, mode: i64) [] -> () [needs_root] {
                basic_fs: [["mkdir_mode", "/d", "0111"], ["statns", "/d"]] => (contains "st_mode: 16457");
            };
            /// Whether two files have the same contents.
            420 call equal(file1: Pathname, file2: Pathname) [] -> bool [needs_root] {
                iso_fs: [["equal", "/known-1", "/known-1"]] => "true";
                iso_fs: [["equal", "/known-1", "/known-2"]] => "false";
                iso_fs: [["equal", "/known-1", "/nosuchfile"]] => fails;
            };
            /// Whether a file contains only zero bytes (an empty file does).
            421 call is_zero(path: Pathname) [] -> bool [needs_root] {
                iso_fs: [["is_zero", "/empty"]] => "true";
                iso_fs: [["is_zero", "/known-1"]] => "false";
            };
            /// The printable strings of at least 4 characters in a file, as strings(1) -a.
            422 call strings(path: Pathname) [] -> Vec<String> [needs_root] {
                iso_fs: [["strings", "/empty"]] => "";
                basic_fs: [["write", "/s", "hello world"], ["strings", "/s"]] => "hello world";
            };
            /// strings with an encoding as strings(1) -e: s (7-bit), S (8-bit), b/l (16-bit big/little endian), B/L (32-bit).
            423 call strings_e(encoding: String, path: Pathname) [] -> Vec<String> [needs_root] {
                basic_fs: [["write", "/s", "hello world"], ["strings_e", "s", "/s"]] => "hello world";
            };
            /// A hex dump of a file, exactly as hexdump -C prints it.
            424 call hexdump(path: Pathname) [] -> String [needs_root] {
                iso_fs: [["hexdump", "/known-1"]] => (contains "61 62 63 64 65 66 0a");
            };
            /// Creates or replaces a file with len bytes of the octet c.
            425 call fill(c: i64, len: i64, path: Pathname) [] -> () [needs_root] {
                basic_fs: [["fill", "0x63", "10", "/f"], ["cat", "/f"]] => "cccccccccc";
            };
            /// Creates or replaces a file with len bytes of pattern repeated (the last copy cut short).
            426 call fill_pattern(pattern: String, len: i64, path: Pathname) [] -> () [needs_root] {
                basic_fs: [["fill_pattern", "abcdefghijklmnopqrstuvwxyz", "28", "/f"], ["cat", "/f"]] => "abcdefghijklmnopqrstuvwxyzab";
            };
            /// Creates nr empty files named 00000000, 00000001, … in a directory.
            427 call fill_dir(dir: Pathname, nr: i64) [] -> () [needs_root] {
                basic_fs: [["mkdir", "/d"], ["fill_dir", "/d", "3"], ["ls", "/d"]] => "00000000\n00000001\n00000002";
            };
            /// lstatns of each name in directory path, in order; an entry with st_ino -1 for a name that failed.
            428 call lstatnslist(path: Pathname, names: Vec<String>) [] -> Vec<Statns> [needs_root] {
                iso_fs: [["lstatnslist", "/", "known-1 known-4"]] => (contains "st_size: 11");
            };
            /// readlink of each name in directory path, in order; "" for a name that is not a symlink or failed.
            429 call readlinklist(path: Pathname, names: Vec<String>) [] -> Vec<String> [needs_root] {
                iso_fs: [["readlinklist", "/", "abssymlink"]] => "/10klines";
            };
            /// The type of a file as file(1) -zb says for a regular file; "directory", "symbolic link", "block special"… otherwise.
            430 call file(path: Pathname) [] -> String [needs_root, needs_tools] {
                iso_fs: [["file", "/known-1"]] => "ASCII text";
                iso_fs: [["file", "/empty"]] => "empty";
                iso_fs: [["file", "/abssymlink"]] => "symbolic link";
                iso_fs: [["file", "/directory"]] => "directory";
            };
            /// The architecture of a binary (ELF executable, library or kernel module, PE): i386, x86_64, aarch64…
            431 call file_architecture(filename: Pathname) [] -> String [needs_root] {
                iso_fs: [["file_architecture", "/bin/busybox"]] => "x86_64";
                iso_fs: [["file_architecture", "/known-1"]] => fails;
            };

            /// Runs a program of the guest, chrooted into the guest tree (with /dev, /dev/pts, /proc and /sys bound in for the run), stdin /dev/null, no network; returns its stdout (up to 64 MiB, the reply coming in parts beyond one 4 MiB message; redirect more to a file and download it; invalid UTF-8 becomes U+FFFD). A non-zero exit status is an error carrying the status, stderr and stdout.
            460 call command(arguments: Vec<String>) [] -> String [needs_root] {
                iso_fs: [["command", "/bin/busybox echo hello"]] => "hello\n";
                iso_fs: [["command", "/bin/busybox false"]] => fails;
                iso_fs: [["command", "/bin/busybox cat /known-1"]] => "abcdef\n";
            };
            /// Like command, returning stdout split into lines (a final newline ends the last line, no empty line after it).
            461 call command_lines(arguments: Vec<String>) [] -> Vec<String> [needs_root] {
                iso_fs: [["command_lines", "/bin/busybox seq 3"]] => "1\n2\n3";
            };
            /// Runs a shell command in the guest, as command("/bin/sh", "-c", command).
            462 call sh(command: String) [] -> String [needs_root] {
                iso_fs: [["sh", "echo hello; echo world >&2"]] => "hello\n";
                iso_fs: [["sh", "exit 3"]] => fails;
            };
            /// Like sh, returning stdout split into lines.
            463 call sh_lines(command: String) [] -> Vec<String> [needs_root] {
                iso_fs: [["sh_lines", "echo a; echo b"]] => "a\nb";
            };

            /// Packs a guest directory into a cpio archive (names ./…, symlinks not followed); format newc (the default) or crc.
            470 file_out cpio_out(directory: Pathname) [format: String] -> () [needs_root] {
                basic_fs: [["mkdir", "/c"], ["write", "/c/hello", "hello\n"], ["cpio_out", "/c", "c.cpio"], ["upload", "c.cpio", "/c.cpio"], ["file", "/c.cpio"]] => (contains "ASCII cpio archive (SVR4 with no CRC)");
            };
            /// Decodes base64 from the host and writes it to a guest file (whitespace ignored).
            471 file_in base64_in(filename: Pathname) [] -> () [needs_root] {
                basic_fs: [["mkdir", "/base64_in"], ["base64_in", "hello.b64", "/base64_in/hello"], ["cat", "/base64_in/hello"]] => "hello\n";
            };
            /// Sends a guest file encoded as base64, in lines of 76 characters, as base64(1).
            472 file_out base64_out(filename: Pathname) [] -> () [needs_root] {
                iso_fs: [["base64_out", "/known-1", "-"]] => "YWJjZGVmCg==\n";
            };
            /// Sends a guest file compressed with ctype compress, gzip, bzip2, xz or lzop; level as the program takes it (gzip and xz 0-9, default 6; bzip2 1-9, default 9; lzop 1-9, default 3; compress none).
            473 file_out compress_out(ctype: String, file: Pathname) [level: i64] -> () [needs_root, needs_tools] {
                basic_fs: [["mkdir", "/t"], ["write", "/t/hello", "hello\n"], ["tar_out", "/t", "t.tar"], ["upload", "t.tar", "/t.tar"], ["compress_out", "gzip", "/t.tar", "t.tar.gz"], ["mkdir", "/u"], ["tar_in", "t.tar.gz", "/u", "compress:gzip"], ["cat", "/u/hello"]] => "hello\n";
            };
            /// Sends a device's contents compressed, as compress_out.
            474 file_out compress_device_out(ctype: String, device: Device) [level: i64] -> () [needs_tools] {
                basic_fs: [["mkdir", "/t"], ["write", "/t/hello", "hello\n"], ["tar_out", "/t", "t.tar"], ["upload", "t.tar", "/t.tar"], ["copy_file_to_device", "/t.tar", "/dev/sdb"], ["compress_device_out", "xz", "/dev/sdb", "sdb.xz"], ["mkdir", "/u"], ["tar_in", "sdb.xz", "/u", "compress:xz"], ["cat", "/u/hello"]] => "hello\n";
            };
            /// The checksums of every regular file under a directory, as lines "HASH  ./path" the way md5sum and friends print them (a name holding a backslash or newline is escaped and its line starts with a backslash, as coreutils does); csumtype as checksum.
            475 file_out checksums_out(csumtype: String, directory: Pathname) [] -> () [needs_root] {
                iso_fs: [["checksums_out", "md5", "/directory", "-"]] => (contains "fc0bf7fc75c8792c75022da5674861d0");
            };

            /// Makes a btrfs filesystem over one or more devices (mkfs.btrfs -f). allocstart: only 0 (mkfs.btrfs dropped -A, a debugging option), bytecount (-b, the size used on each device), datatype (-d: raid0, raid1, raid1c3, raid1c4, raid5, raid6, raid10, single or dup), leafsize (the node size: mkfs.btrfs 6 dropped -l), label (-L), metadata (-m, as datatype), nodesize (-n), sectorsize (-s).
            600 call mkfs_btrfs(devices: Vec<String>) [allocstart: i64, bytecount: i64, datatype: String, leafsize: i64, label: String, metadata: String, nodesize: i64, sectorsize: i64] -> () [needs_tools] {
                partition: [["mkfs_btrfs", "/dev/sda1"], ["vfs_type", "/dev/sda1"]] => "btrfs";
            };
            /// The subvolumes and snapshots of a btrfs filesystem: fs is a path in the guest tree on it, or a device (or btrfsvol:) that is mounted read-only for the call (read with the kernel's tree-search ioctl, as btrfs subvolume list does; no tool needed).
            601 call btrfs_subvolume_list(fs: String) [] -> Vec<BtrfsSubvolume> [];
            /// Creates a btrfs subvolume at a path of the guest tree (its parent directory must be on btrfs); qgroupid: a qgroup (LEVEL/ID) to add it to.
            602 call btrfs_subvolume_create(dest: Pathname) [qgroupid: String] -> () [needs_root, needs_tools] {
                partition: [["mkfs_btrfs", "/dev/sda1"], ["mount", "/dev/sda1", "/"], ["btrfs_subvolume_create", "/sub"], ["btrfs_subvolume_list", "/"]] => (contains "btrfssubvolume_path: sub");
            };
            /// Deletes the btrfs subvolume or snapshot at a path of the guest tree.
            603 call btrfs_subvolume_delete(subvolume: Pathname) [] -> () [needs_root, needs_tools] {
                partition: [["mkfs_btrfs", "/dev/sda1"], ["mount", "/dev/sda1", "/"], ["btrfs_subvolume_create", "/sub"], ["btrfs_subvolume_delete", "/sub"], ["btrfs_subvolume_list", "/"]] => "";
            };
            /// Snapshots the subvolume at source to dest (both guest paths); ro: a read-only snapshot; qgroupid: a qgroup to add it to.
            604 call btrfs_subvolume_snapshot(source: Pathname, dest: Pathname) [ro: bool, qgroupid: String] -> () [needs_root, needs_tools] {
                partition: [["mkfs_btrfs", "/dev/sda1"], ["mount", "/dev/sda1", "/"], ["btrfs_subvolume_create", "/sub"], ["write", "/sub/f", "in sub"], ["btrfs_subvolume_snapshot", "/sub", "/snap"], ["cat", "/snap/f"]] => "in sub";
            };
            /// The id of the default subvolume of a btrfs filesystem (the one mounted without subvol=); fs as for btrfs_subvolume_list.
            605 call btrfs_subvolume_get_default(fs: String) [] -> i64 [needs_tools];
            /// Sets the default subvolume, by id (5 is the top level), of the btrfs filesystem a guest path is on.
            606 call btrfs_subvolume_set_default(id: i64, fs: Pathname) [] -> () [needs_root, needs_tools];
            /// Resizes the mounted btrfs filesystem a guest path is on (its first device): to size bytes, or to fill the device when size is not given.
            607 call btrfs_filesystem_resize(mountpoint: Pathname) [size: i64] -> () [needs_root, needs_tools];
            /// Sets the UUID of the filesystem or swap area on a device, with the tool of its type: tune2fs (ext2/3/4), xfs_db (xfs), btrfstune (btrfs, which rewrites every metadata block) or swaplabel (swap). Unmounted devices only.
            608 call set_uuid(device: Device, uuid: String) [] -> () [needs_tools] {
                partition: [["mkfs", "ext4", "/dev/sda1"], ["set_uuid", "/dev/sda1", "01234567-0123-0123-0123-0123456789ab"], ["vfs_uuid", "/dev/sda1"]] => "01234567-0123-0123-0123-0123456789ab";
            };
            /// Sets a new random UUID on the filesystem or swap area on a device, as set_uuid.
            609 call set_uuid_random(device: Device) [] -> () [needs_tools] {
                partition: [["mkfs", "ext4", "/dev/sda1"], ["set_uuid_random", "/dev/sda1"], ["vfs_uuid", "/dev/sda1"]] => (contains "-");
            };
            /// Sets the UUID of an ext2/3/4 filesystem (tune2fs -U): a UUID, or clear, random or time.
            610 call set_e2uuid(device: Device, uuid: String) [] -> () [needs_tools] {
                partition: [["mkfs", "ext4", "/dev/sda1"], ["set_e2uuid", "/dev/sda1", "01234567-0123-0123-0123-0123456789ab"], ["vfs_uuid", "/dev/sda1"]] => "01234567-0123-0123-0123-0123456789ab";
            };
            /// A device name in canonical form, for display: /dev/hdX and /dev/vdX (and their partitions) become /dev/sdX; /dev/mapper/VG-LV and /dev/dm-N of an LVM logical volume become /dev/VG/LV; anything else is returned as given.
            611 call canonical_device_name(device: String) [] -> String [] {
                empty: [["canonical_device_name", "/dev/hda"]] => "/dev/sda";
                empty: [["canonical_device_name", "/dev/vdb"]] => "/dev/sdb";
            };
            /// Mounts with mount(8)-style options and an explicit filesystem type (vfstype, as mount -t), as mount_options otherwise.
            612 call mount_vfs(options: String, vfstype: String, mountable: Mountable, mountpoint: Pathname) [] -> () [] {
                basic_fs: [["umount", "/"], ["mount_vfs", "ro", "ext2", "/dev/sda1", "/"], ["touch", "/new"]] => fails;
            };
            /// Opens an encrypted device (LUKS, or BitLocker with crypttype bitlk) as /dev/mapper/MAPNAME with one of its keys (bytes; given to cryptsetup on a pipe, never in a file). crypttype: luks or bitlk (default: from the signature, as vfs_type says). readonly: a read-only mapping (always so on a read-only drive). cipher: for crypttypes that need one.
            580 call cryptsetup_open(device: Device, key: Key, mapname: String) [readonly: bool, crypttype: String, cipher: String] -> () [needs_tools];
            /// Closes a mapping cryptsetup_open made: device is its /dev/mapper/MAPNAME.
            581 call cryptsetup_close(device: Device) [] -> () [needs_tools];
            /// Formats a device as LUKS (LUKS2, cryptsetup's defaults) with key in keyslot (0 to 31). Destroys what the device held.
            582 call luks_format(device: Device, key: Key, keyslot: i64) [] -> () [needs_tools];
            /// As luks_format, with the cipher given (e.g. aes-xts-plain64).
            583 call luks_format_cipher(device: Device, key: Key, keyslot: i64, cipher: String) [] -> () [needs_tools];
            /// Adds newkey in keyslot (which must be free) to a LUKS device, authorised by an existing key.
            584 call luks_add_key(device: Device, key: Key, newkey: Key, keyslot: i64) [] -> () [needs_tools];
            /// Erases keyslot of a LUKS device, authorised by a key (any slot's, the erased one's included).
            585 call luks_kill_slot(device: Device, key: Key, keyslot: i64) [] -> () [needs_tools];
            /// The UUID of a LUKS device's header.
            586 call luks_uuid(device: Device) [] -> String [];
            /// Creates an md RAID array /dev/md/NAME from devices. level: linear, raid0 (0, stripe), raid1 (1, mirror, the default), raid4, raid5, raid6, raid10 (with or without "raid"). nrdevices: active devices (default: devices plus missing ones); spare: spares (default 0); chunk: bytes, a multiple of 1024. missingbitmap: bit N set puts a "missing" slot at position N of the device list.
            587 call md_create(name: String, devices: Vec<Device>) [missingbitmap: i64, nrdevices: i64, spare: i64, chunk: i64, level: String] -> () [needs_tools];
            /// The md arrays (/dev/mdN), sorted. Arrays found on the drives are assembled before the first call, as libguestfs assembles them at boot (read-only drives' arrays read-only, degraded ones not at all).
            588 call list_md_devices() [] -> Vec<String> [needs_tools];
            /// What mdadm -D --export says of an array, keys without MD_ and in lower case: level, devices, metadata, uuid, name…
            589 call md_detail(md: Device) [] -> Vec<(String, String)> [needs_tools];
            /// The members of an array as /proc/mdstat lists them: device, role index and flags.
            590 call md_stat(md: Device) [] -> Vec<MdStat> [needs_tools];
            /// Stops an md array.
            591 call md_stop(md: Device) [] -> () [needs_tools];
            /// Deprecated (use cryptsetup_open): opens a LUKS device as /dev/mapper/MAPNAME.
            592 call luks_open(device: Device, key: Key, mapname: String) [] -> () [needs_tools];
            /// Deprecated (use cryptsetup_open with readonly): opens a LUKS device read-only as /dev/mapper/MAPNAME.
            593 call luks_open_ro(device: Device, key: Key, mapname: String) [] -> () [needs_tools];
            /// Deprecated (use cryptsetup_close): closes /dev/mapper/MAPNAME.
            594 call luks_close(device: Device) [] -> () [needs_tools];
            /// Runs setfiles(8) on paths (guest paths, relabelled recursively) with the guest's specfile (a file_contexts file in the guest), in the guest root as libguestfs does: /dev, /proc, /selinux and /sys excluded; -m, -C and -T 0 when setfiles has them. force: -F, reset every context, not only the type. Needs a filesystem that stores security.* xattrs.
            640 call setfiles(specfile: Pathname, paths: Vec<String>) [force: bool] -> () [needs_root, needs_tools] {
                basic_fs: [["mkdir", "/etc"], ["write", "/etc/file_contexts", "/.*\tsystem_u:object_r:default_t:s0\n/etc(/.*)?\tsystem_u:object_r:etc_t:s0\n"], ["touch", "/etc/hostname"], ["setfiles", "/etc/file_contexts", "/"], ["getxattr", "/etc/hostname", "security.selinux"]] => (contains "system_u:object_r:etc_t:s0");
            };
            /// Deprecated (use setfiles): setfiles with one path.
            641 call selinux_relabel(specfile: Pathname, path: Pathname) [force: bool] -> () [needs_root, needs_tools] {
                basic_fs: [["mkdir", "/etc"], ["write", "/etc/file_contexts", "/.*\tsystem_u:object_r:default_t:s0\n"], ["touch", "/hello"], ["selinux_relabel", "/etc/file_contexts", "/"], ["lgetxattr", "/hello", "security.selinux"]] => (contains "system_u:object_r:default_t:s0");
            };
            /// Every field xfs_info prints of an xfs filesystem (a device, mounted or not, or a mountpoint in the guest) as libguestfs names them: meta-data, meta-data.isize, meta-data.agcount, meta-data.agsize ("19200 blks"), data.bsize, data.blocks, naming ("version 2"), naming.bsize, log ("internal log"), log.sunit, realtime ("none"), realtime.extsz…, values as xfs_info prints them, in its order.
            642 call xfs_info2(mountable: String) [] -> Vec<(String, String)> [needs_tools] {
                partition: [["mkfs", "xfs", "/dev/sda1"], ["xfs_info2", "/dev/sda1"]] => (contains "meta-data.isize: 512");
            };
            /// The appliance kernel's log, as dmesg prints it without options ("[    0.000000] message" lines).
            643 call dmesg() [] -> String [] {
                empty: [["dmesg"]] => (contains "Linux version");
            };
            /// The appliance kernel's uname(2): sysname, release, version and machine.
            644 call utsname() [] -> Utsname [] {
                empty: [["utsname"]] => (contains "uts_sysname: Linux");
            };
        }
    };
}
