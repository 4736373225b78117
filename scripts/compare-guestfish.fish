# Read-only commands for scripts/compare-guestfish.sh, one a line, run on
# the disk that script builds (an MBR disk, /dev/sda1 ext4 with a small tree).
list-devices
list-partitions
list-filesystems
vfs-type /dev/sda1
vfs-label /dev/sda1
vfs-uuid /dev/sda1
blockdev-getsize64 /dev/sda
blockdev-getss /dev/sda
blockdev-getbsz /dev/sda
blockdev-getsz /dev/sda
blockdev-getro /dev/sda
part-list /dev/sda
part-get-parttype /dev/sda
part-get-mbr-id /dev/sda 1
part-get-bootable /dev/sda 1
part-to-dev /dev/sda1
part-to-partnum /dev/sda1
device-index /dev/sda
nr-devices
canonical-device-name /dev/sda1
is-whole-device /dev/sda
is-whole-device /dev/sda1
mount-ro /dev/sda1 /
mounts
mountpoints
ls /
ls /etc
ll /etc
cat /etc/hostname
cat /etc/fstab
read-lines /etc/fstab
head /etc/services
head-n 3 /etc/services
tail-n 2 /etc/services
wc-l /etc/services
wc-w /etc/services
wc-c /etc/services
exists /etc/hostname
exists /nonexistent
is-file /etc/hostname
is-dir /etc
is-symlink /etc/link
is-file-opts /etc/link followsymlinks:true
readlink /etc/link
realpath /etc/link
case-sensitive-path /ETC/HOSTNAME
stat /etc/hostname
lstat /etc/link
statns /etc/hostname
lstatns /etc/link
filesize /etc/services
find /etc
find /etc/
find /
find0 /etc -
du /etc
checksum md5 /etc/hostname
checksum sha256 /etc/services
strings /etc/bin.dat
hexdump /etc/bin.dat
is-zero /etc/zeros
is-zero /etc/hostname
equal /etc/hostname /etc/hostname2
glob-expand /etc/*.conf
glob-expand /etc/s*
readdir /etc/dir
getxattrs /etc/hostname
lgetxattrs /etc/hostname
getxattr /etc/hostname user.comment
statvfs /
get-umask
grep root /etc/passwd
egrep "^(root|daemon):" /etc/passwd
fgrep x:1 /etc/passwd
grepi ROOT /etc/passwd
zgrep hello /etc/hello.gz
file /etc/hostname
file /etc/link
file /etc/dir
file /dev/sda1
download /etc/hostname -
read-file /etc/hostname
pread /etc/services 10 5
pread-device /dev/sda 16 510
tune2fs-l /dev/sda1
blkid /dev/sda1
get-e2label /dev/sda1
get-e2uuid /dev/sda1
vfs-minimum-size /dev/sda1
umount /
list-filesystems
