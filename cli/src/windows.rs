//! guestfish's `win:` paths: `win:C:\Windows\System32\config` names a
//! file in a Windows guest. The drive letter is looked up in the drive
//! mappings of the first inspected root and must be mounted already; the
//! backslashes become slashes, and `case_sensitive_path` finds the real
//! case, as Windows would. Every `Pathname` argument of an API command
//! takes the form (a word without the prefix is left as it is).

use libguest::Guest;

use crate::error::{CliError, Result};

/// Whether `word` is a `win:` path (the prefix in any case).
pub fn is_win_path(word: &str) -> bool {
    word.get(..4)
        .is_some_and(|p| p.eq_ignore_ascii_case("win:"))
}

/// The guest path `word` (`win:…`) stands for.
pub fn resolve(g: &mut Guest, word: &str) -> Result<String> {
    let path = &word[4..];
    let bytes = path.as_bytes();
    let unix = if bytes.len() >= 2 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':' {
        let mountpoint = drive_mountpoint(g, char::from(bytes[0]))?;
        // "/" + "\foo" must not become "//foo".
        format!("{}{}", mountpoint.trim_end_matches('/'), &path[2..])
    } else {
        path.to_string()
    };
    let unix = unix.replace('\\', "/");
    let unix = match unix.as_str() {
        "" => "/".to_string(),
        p if !p.starts_with('/') => format!("/{p}"),
        _ => unix,
    };
    Ok(g.case_sensitive_path(unix.as_str())?)
}

/// Where the device behind drive `letter` is mounted.
fn drive_mountpoint(g: &mut Guest, letter: char) -> Result<String> {
    let roots = g.inspect_get_roots()?;
    let Some(root) = roots.first() else {
        return Err(CliError::msg(
            "to use Windows drive letters, inspect the guest first (the -i option, or the inspect-os command)",
        ));
    };
    let drives = g.inspect_get_drive_mappings(root.as_str())?;
    if drives.is_empty() {
        return Err(CliError::msg(format!(
            "to use Windows drive letters, the guest must be Windows ({root} has no drive letters)"
        )));
    }
    let device = drives
        .iter()
        .find(|(l, _)| l.len() == 1 && l.eq_ignore_ascii_case(&letter.to_string()))
        .map(|(_, device)| device.clone())
        .ok_or_else(|| {
            let letters: Vec<String> = drives.iter().map(|(l, _)| format!("{l}:")).collect();
            CliError::msg(format!(
                "drive '{letter}:' not found; the guest's drives are {} (inspect-get-drive-mappings {root})",
                letters.join(", ")
            ))
        })?;
    g.mountpoints()?
        .into_iter()
        .find(|m| m.device == device)
        .map(|m| m.mountpoint)
        .ok_or_else(|| {
            CliError::msg(format!(
                "to use '{letter}:', mount {device} first, e.g.: umount-all : mount {device} /"
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_prefix_is_recognised_in_any_case() {
        assert!(is_win_path("win:c:\\x"));
        assert!(is_win_path("WIN:\\x"));
        assert!(!is_win_path("/win:x"));
        assert!(!is_win_path("wi"));
        assert!(!is_win_path("wín:"));
    }
}
