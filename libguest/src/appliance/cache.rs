use std::path::PathBuf;

/// Root of libguest's cache: LIBGUEST_CACHE_DIR, else
/// $XDG_CACHE_HOME/libguest, else ~/.cache/libguest, else /var/tmp.
/// kernel-config/build-kernel.sh uses the same rule.
pub fn cache_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("LIBGUEST_CACHE_DIR").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    if let Some(dir) = std::env::var_os("XDG_CACHE_HOME").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir).join("libguest");
    }
    if let Some(home) = std::env::var_os("HOME").filter(|d| !d.is_empty()) {
        return PathBuf::from(home).join(".cache/libguest");
    }
    // SAFETY: getuid(2) cannot fail.
    let uid = unsafe { libc::getuid() };
    PathBuf::from(format!("/var/tmp/libguest-{uid}"))
}
