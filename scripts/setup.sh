#!/usr/bin/env bash
# Installs what libguest needs on a fresh Debian 12 machine and builds (or
# finds in the cache) the appliance kernel, plus the test-host kernel where
# /dev/kvm cannot run Linux. Idempotent: a second run takes seconds.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# e2fsprogs, xfsprogs, dosfstools, btrfs-progs: the daemon tests make real
# filesystems on loop devices; util-linux gives losetup and mount. file
# (with libmagic's database) goes into the tools layer for the file call;
# the daemon tests compare with bsdextrautils' hexdump and binutils' strings.
# lzop and ncompress: compress_out's lzop and compress types.
# rpm (rpmbuild, rpm --justdb, its bdb_ro reader) and db5.3-util (db5.3_load):
# the rpm database tests build real Packages files and compare with rpm -qa.
# acl (getfacl, setfacl): the ACL calls' tests compare with them.
# libcap2-bin: the capability tests compare with getcap and setcap.
# cryptsetup-bin and mdadm: the LUKS and md RAID calls run them (tools layer);
# their tests compare with them.
packages=(linux-source-6.12 build-essential bc flex bison libelf-dev libssl-dev cpio xz-utils binutils qemu-system-x86 qemu-utils e2fsprogs xfsprogs dosfstools btrfs-progs ntfs-3g util-linux zerofree squashfs-tools mount fdisk gdisk debootstrap file bsdextrautils lzop ncompress rpm db5.3-util python3 python3-venv acl libcap2-bin cryptsetup-bin mdadm lvm2 dmsetup policycoreutils attr fuse3 genisoimage busybox-static)
# lvm2, dmsetup: the LVM calls run lvm in the appliance; their tests compare with lvm's reports.
# policycoreutils (setfiles) and attr (getfattr): the SELinux calls' tests
# label a real filesystem with setfiles and read the labels back with getfattr.
# genisoimage: the ISO the API table's test cases mount (iso_fs); busybox-static:
# the static program on it that the command, sh and file_architecture cases run.
# fuse3 (fusermount3): `libguest mount` unmounts through it when not root,
# and its auto_unmount watchdog takes the mount away if the process dies.
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# qemu-system-x86 from Debian 12 replaces a newer (backported) qemu-utils
# with its own version's, removing the old one first: install both together
# so qemu-img is there afterwards whichever qemu-utils the machine had.
# A backported qemu-utils is only in dpkg's status, so apt will not replace
# it by itself: ask for the version qemu-system-x86 will come in.
sudo=""
[ "$(id -u)" = 0 ] || sudo="sudo"
# Fresh lists first: the version asked for below must be one the mirror
# still has (an image's lists can be older than the mirror's last update).
if [ ${#missing[@]} -gt 0 ] && command -v apt-get >/dev/null; then
  $sudo apt-get update -qq
fi
allow=()
for i in "${!missing[@]}"; do
  if [ "${missing[$i]}" = qemu-system-x86 ]; then
    qemu_version=$(apt-cache policy qemu-system-x86 | awk '/Candidate:/ {print $2}')
    if [ -n "$qemu_version" ] && [ "$qemu_version" != "(none)" ]; then
      missing[$i]="qemu-system-x86=$qemu_version"
      missing=("${missing[@]/#qemu-utils/}")
      missing+=("qemu-utils=$qemu_version")
      allow=(--allow-downgrades)
    fi
    break
  fi
done
missing=(${missing[@]})
if [ ${#missing[@]} -gt 0 ]; then
  if ! command -v apt-get >/dev/null; then
    echo "setup: missing ${missing[*]} and no apt-get; install the equivalents and set LIBGUEST_KERNEL_SRC to a kernel source tree" >&2
    exit 1
  fi
  echo "setup: installing ${missing[*]}" >&2
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${allow[@]}" "${missing[@]}" >/dev/null
fi

. scripts/lib.sh

bash kernel-config/build-kernel.sh appliance >/dev/null
if ! kvm_runs_linux; then
  # The e2e harness boots the appliance inside a TCG test host here.
  bash kernel-config/build-kernel.sh testhost >/dev/null
fi
