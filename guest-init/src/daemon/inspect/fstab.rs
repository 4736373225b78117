//! fstab entries' devices resolved to the appliance's, by the UUIDs and
//! labels our prober read, as libguestfs's inspect_fs_unix_fstab does
//! (the entries themselves: `guest_formats::fstab`). Entries naming a
//! device we cannot find are left out.

use guest_formats::fstab::FstabEntry;
use protocol::types::BTRFSVOL;

use super::types::FsDevice;

/// The appliance mountable an fstab entry names, if we have it: its
/// device, or `btrfsvol:DEVICE/SUBVOL` for a btrfs `subvol=` mount (as
/// libguestfs's resolve_fstab_device).
pub(super) fn resolve_entry(entry: &FstabEntry, devices: &[FsDevice]) -> Option<String> {
    let device = resolve(&entry.spec, devices)?;
    match entry.btrfs_subvol() {
        Some(subvol) if !device.starts_with(BTRFSVOL) => {
            let mountable = format!("{BTRFSVOL}{device}/{subvol}");
            // Only a subvolume list_filesystems saw (it checked the name).
            devices
                .iter()
                .any(|d| d.device == mountable)
                .then_some(mountable)
        }
        _ => Some(device),
    }
}

/// `/dev/mapper/VG-LV` as LVM names it, `/dev/VG/LV` (a `-` in a VG or LV
/// name is doubled in the mapper name).
fn lv_of_mapper_name(name: &str) -> Option<String> {
    let mut vg = String::new();
    let mut chars = name.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, chars.peek()) {
            ('-', Some('-')) => {
                chars.next();
                vg.push('-');
            }
            ('-', Some(_)) => {
                let lv: String = chars.collect::<String>().replace("--", "-");
                return (!vg.is_empty() && !lv.is_empty()).then(|| format!("/dev/{vg}/{lv}"));
            }
            _ => vg.push(c),
        }
    }
    None
}

/// The appliance device an fstab spec names, if we have it.
pub(super) fn resolve(spec: &str, devices: &[FsDevice]) -> Option<String> {
    let unquote = |v: &str| v.trim_matches('"').trim_matches('\'').to_owned();
    let by = |pred: &dyn Fn(&FsDevice) -> bool| {
        devices.iter().find(|d| pred(d)).map(|d| d.device.clone())
    };
    // A UUID or label names the device, not one of its btrfs subvolumes.
    let whole = |d: &FsDevice| !d.device.starts_with(BTRFSVOL);
    let uuid =
        |u: String| by(&|d| whole(d) && !d.uuid.is_empty() && d.uuid.eq_ignore_ascii_case(&u));
    let label = |l: String| by(&|d| whole(d) && !d.label.is_empty() && d.label == l);
    if let Some(u) = spec.strip_prefix("UUID=") {
        return uuid(unquote(u));
    }
    if let Some(l) = spec.strip_prefix("LABEL=") {
        return label(unquote(l));
    }
    if let Some(u) = spec.strip_prefix("/dev/disk/by-uuid/") {
        return uuid(u.to_owned());
    }
    if let Some(l) = spec.strip_prefix("/dev/disk/by-label/") {
        return label(l.replace("\\x20", " "));
    }
    // PARTUUID=, PARTLABEL= and /dev/disk/by-* others: our prober does not
    // read partition-table names; such entries are left out.
    let name = spec.strip_prefix("/dev/")?;
    if let Some(d) = by(&|d| d.device == spec) {
        return Some(d);
    }
    // LVs: the appliance lists them as /dev/VG/LV.
    if let Some(lv) = name.strip_prefix("mapper/").and_then(lv_of_mapper_name) {
        return by(&|d| d.device == lv);
    }
    // The guest may call the disk hda, vda or xvda where the appliance
    // has sda (libguestfs's resolve_xdev).
    let letters_at = ["xvd", "hd", "vd", "sd"]
        .into_iter()
        .find_map(|p| name.strip_prefix(p))?;
    ["sd", "vd", "hd", "xvd"]
        .into_iter()
        .find_map(|p| by(&|d| d.device == format!("/dev/{p}{letters_at}")))
}

#[cfg(test)]
mod tests {
    use guest_formats::fstab::parse;

    use super::*;

    fn dev(device: &str, uuid: &str, label: &str) -> FsDevice {
        FsDevice {
            device: device.into(),
            fstype: "ext4".into(),
            uuid: uuid.into(),
            label: label.into(),
        }
    }

    #[test]
    fn resolves_specs() {
        let entries = parse("UUID=AbCd-1 / ext4 defaults 0 1\nLABEL=\"boot\\040fs\" /boot/ ext4\n");
        let devices = [
            dev("/dev/sda1", "abcd-1", ""),
            dev("/dev/sdb", "", "boot fs"),
            dev("/dev/sdc1", "", ""),
        ];
        let r = |s: &str| resolve(s, &devices);
        assert_eq!(r(&entries[0].spec).as_deref(), Some("/dev/sda1"));
        assert_eq!(r(&entries[1].spec).as_deref(), Some("/dev/sdb"));
        assert_eq!(r("/dev/vdc1").as_deref(), Some("/dev/sdc1"));
        assert_eq!(r("/dev/disk/by-uuid/ABCD-1").as_deref(), Some("/dev/sda1"));
        assert_eq!(r("UUID=nope"), None);
        assert_eq!(r("PARTUUID=1234"), None);
        assert_eq!(r("tmpfs"), None);
        assert_eq!(r("/dev/mapper/vg-root"), None);
    }

    #[test]
    fn resolves_lvs_and_btrfs_subvolumes() {
        let devices = [
            dev("/dev/my-vg/lv-root", "", ""),
            dev("/dev/rhel/root", "", ""),
            dev("/dev/sda2", "f00d", ""),
            dev("btrfsvol:/dev/sda2/root", "f00d", ""),
            dev("btrfsvol:/dev/sda2/home", "f00d", ""),
        ];
        let r = |s: &str| resolve(s, &devices);
        assert_eq!(
            r("/dev/mapper/my--vg-lv--root").as_deref(),
            Some("/dev/my-vg/lv-root")
        );
        assert_eq!(
            r("/dev/mapper/rhel-root").as_deref(),
            Some("/dev/rhel/root")
        );
        assert_eq!(r("/dev/rhel/root").as_deref(), Some("/dev/rhel/root"));
        assert_eq!(r("/dev/mapper/rhel-swap"), None);
        let entries = parse(
            "UUID=f00d / btrfs subvol=root,compress=zstd:1 0 0\n\
             UUID=f00d /home btrfs subvol=/home 0 0\n\
             UUID=f00d /srv btrfs subvol=nosuch 0 0\n\
             UUID=f00d /top btrfs defaults 0 0\n",
        );
        let got: Vec<Option<String>> = entries.iter().map(|e| resolve_entry(e, &devices)).collect();
        assert_eq!(
            got,
            [
                Some("btrfsvol:/dev/sda2/root".into()),
                Some("btrfsvol:/dev/sda2/home".into()),
                None,
                Some("/dev/sda2".into())
            ]
        );
    }
}
