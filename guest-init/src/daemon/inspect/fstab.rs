//! fstab entries' devices resolved to the appliance's, by the UUIDs and
//! labels our prober read, as libguestfs's inspect_fs_unix_fstab does
//! (the entries themselves: `guest_formats::fstab`). Entries naming a
//! device we cannot find are left out.

use super::types::FsDevice;

/// The appliance device an fstab spec names, if we have it.
pub(super) fn resolve(spec: &str, devices: &[FsDevice]) -> Option<String> {
    let unquote = |v: &str| v.trim_matches('"').trim_matches('\'').to_owned();
    let by = |pred: &dyn Fn(&FsDevice) -> bool| {
        devices.iter().find(|d| pred(d)).map(|d| d.device.clone())
    };
    let uuid = |u: String| by(&|d| !d.uuid.is_empty() && d.uuid.eq_ignore_ascii_case(&u));
    let label = |l: String| by(&|d| !d.label.is_empty() && d.label == l);
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
}
