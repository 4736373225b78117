#!/usr/bin/env bash
# The disk scripts/compare-guestfish.sh and compare-virt-tools.sh read:
# 128M, MBR, /dev/sda1 ext4 labelled "compare" holding a small /etc with
# text, binary, compressed and zero-filled files, a symlink, a
# subdirectory, an xattr and an owner other than root. Written by libguest.
#   scripts/compare-disk.sh OUT.img [LIBGUEST_BINARY]
set -euo pipefail
disk=${1:?usage: $0 OUT.img [LIBGUEST_BINARY]}
libguest=${2:-target/release/libguest}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
rm -f "$disk"
printf 'hello world\n' | gzip -n > "$tmp/hello.gz"
"$libguest" -N "$disk=fs:ext4:128M" -m /dev/sda1 >/dev/null <<SETUP
set-label /dev/sda1 compare
mkdir /etc
write /etc/hostname "compare-host\n"
write /etc/hostname2 "compare-host\n"
write /etc/fstab "# fstab\nLABEL=compare / ext4 defaults 0 1\n"
write /etc/passwd "root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\nuser:x:1000:1000::/home/user:/bin/sh\n"
write /etc/services "tcpmux 1/tcp\necho 7/tcp\ndiscard 9/tcp\nsystat 11/tcp\ndaytime 13/tcp\nnetstat 15/tcp\nqotd 17/tcp\nchargen 19/tcp\nftp 21/tcp\nssh 22/tcp\ntelnet 23/tcp\nsmtp 25/tcp\n"
write /etc/a.conf "a=1\n"
write /etc/b.conf "b=2\n"
write /etc/bin.dat "\x00\x01hello strings\x00\x7fsecond string here\x00ab\x00"
fill 0 4096 /etc/zeros
ln-s hostname /etc/link
mkdir /etc/dir
touch /etc/dir/one
mkdir /etc/dir/sub
setxattr user.comment "a note" 6 /etc/hostname
upload $tmp/hello.gz /etc/hello.gz
chmod 0640 /etc/fstab
chown 1000 1000 /etc/dir/one
SETUP
