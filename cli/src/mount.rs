//! What `-i` and `-m` mount before the first command: the inspected
//! operating system's filesystems, or the ones named.

use libguest::Guest;

use crate::error::{one_line, CliError, Result};

/// `-m DEV[:MOUNTPOINT[:OPTIONS]]`; DEV may be btrfsvol:DEVICE/SUBVOLUME.
#[derive(Debug, Clone, PartialEq)]
pub struct MountSpec {
    pub device: String,
    pub mountpoint: String,
    pub options: Option<String>,
}

impl MountSpec {
    pub fn parse(spec: &str) -> Result<MountSpec> {
        // btrfsvol:DEVICE/SUBVOLUME has a colon of its own, as in guestfish.
        let (prefix, rest) = match spec.strip_prefix("btrfsvol:") {
            Some(rest) => ("btrfsvol:", rest),
            None => ("", spec),
        };
        let mut parts = rest.splitn(3, ':');
        let device = parts.next().unwrap_or_default().to_string();
        let device = if device.is_empty() {
            device
        } else {
            format!("{prefix}{device}")
        };
        if device.is_empty() {
            return Err(CliError::msg(format!(
                "-m {spec:?}: expected DEV[:MOUNTPOINT[:OPTIONS]], e.g. -m /dev/sda1"
            )));
        }
        let mountpoint = match parts.next() {
            None | Some("") => "/".to_string(),
            Some(mp) => mp.to_string(),
        };
        let options = parts.next().filter(|o| !o.is_empty()).map(str::to_string);
        Ok(MountSpec {
            device,
            mountpoint,
            options,
        })
    }

    pub fn mount(&self, g: &mut Guest, ro: bool) -> Result<()> {
        let (dev, mp) = (self.device.as_str(), self.mountpoint.as_str());
        match &self.options {
            Some(opts) => {
                let read_only = opts.split(',').any(|o| o == "ro");
                let opts = if ro && !read_only {
                    format!("ro,{opts}")
                } else {
                    opts.clone()
                };
                g.mount_options(opts, dev, mp)?
            }
            None if ro => g.mount_ro(dev, mp)?,
            None => g.mount(dev, mp)?,
        }
        Ok(())
    }
}

/// `-i`: the one OS's filesystems mounted where its fstab says.
pub fn mount_os(g: &mut Guest, ro: bool) -> Result<()> {
    let roots = g.inspect_os()?;
    match roots.as_slice() {
        [] => Err(CliError::msg(
            "-i: no operating system found in the disk images; mount a filesystem with -m DEV instead ('filesystems' lists them)",
        )),
        [root] => mount_root(g, root, ro),
        many => Err(CliError::msg(format!(
            "-i: {} operating systems found ({}); choose one with -m DEV[:MOUNTPOINT] instead",
            many.len(),
            many.join(", ")
        ))),
    }
}

/// Mounts an inspected root's filesystems, shortest mountpoint first so
/// that / is there before /boot. Only / failing is an error: a guest whose
/// fstab names a missing disk still opens, as with guestfish.
pub fn mount_root(g: &mut Guest, root: &str, ro: bool) -> Result<()> {
    let mut mountpoints = g.inspect_get_mountpoints(root)?;
    if !mountpoints.iter().any(|m| m.mountpoint == "/") {
        mountpoints.push(libguest::MountEntry {
            device: root.to_string(),
            mountpoint: "/".into(),
        });
    }
    mountpoints.sort_by_key(|m| m.mountpoint.len());
    for m in &mountpoints {
        let (dev, mp) = (m.device.as_str(), m.mountpoint.as_str());
        let mounted = if ro {
            g.mount_ro(dev, mp)
        } else {
            g.mount(dev, mp)
        };
        match mounted {
            Ok(()) => {}
            Err(e) if mp == "/" => return Err(e.into()),
            Err(e) => errln!(
                "libguest: warning: cannot mount {dev} on {mp}: {}",
                one_line(&e.to_string())
            ),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mount_specs() {
        let m = MountSpec::parse("/dev/sda1").unwrap();
        assert_eq!((m.mountpoint.as_str(), m.options.as_deref()), ("/", None));
        let m = MountSpec::parse("/dev/sda2:/boot:noatime,ro").unwrap();
        assert_eq!(m.device, "/dev/sda2");
        assert_eq!(m.mountpoint, "/boot");
        assert_eq!(m.options.as_deref(), Some("noatime,ro"));
        assert!(MountSpec::parse(":/x").is_err());
        let m = MountSpec::parse("btrfsvol:/dev/sda2/root:/:ro").unwrap();
        assert_eq!(m.device, "btrfsvol:/dev/sda2/root");
        assert_eq!(m.mountpoint, "/");
        assert_eq!(m.options.as_deref(), Some("ro"));
        assert!(MountSpec::parse("btrfsvol::/x").is_err());
    }
}
