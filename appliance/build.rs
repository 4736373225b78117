//! Builds guest-init as a static binary and embeds it in this crate, so
//! that a program depending on libguest carries its own appliance init.
//!
//! guest-init is PID 1 of a bare Linux appliance: it must be linked
//! statically (`+crt-static`). Cargo cannot give one workspace member other
//! target features, so this runs a nested cargo for an explicit target
//! (where RUSTFLAGS do not reach build scripts or proc macros) with its own
//! target directory. Set LIBGUEST_GUEST_INIT to a prebuilt static binary to
//! skip this.

use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

const TARGET: &str = "x86_64-unknown-linux-gnu";

fn main() {
    println!("cargo:rerun-if-env-changed=LIBGUEST_GUEST_INIT");
    let out_dir = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let dest = out_dir.join("guest-init");

    if let Some(prebuilt) = env::var_os("LIBGUEST_GUEST_INIT") {
        println!("cargo:rerun-if-changed={}", Path::new(&prebuilt).display());
        std::fs::copy(&prebuilt, &dest).expect("copy LIBGUEST_GUEST_INIT");
        return;
    }

    let manifest_dir = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("manifest dir"));
    let init_dir = manifest_dir.join("../guest-init");
    for p in ["src", "Cargo.toml"] {
        println!("cargo:rerun-if-changed={}", init_dir.join(p).display());
    }
    println!(
        "cargo:rerun-if-changed={}",
        manifest_dir.join("../Cargo.lock").display()
    );
    // guest-init is built from the API table too.
    println!(
        "cargo:rerun-if-changed={}",
        manifest_dir.join("../protocol/src").display()
    );
    // ... and from the guest-data parsers it links.
    for p in ["src", "Cargo.toml"] {
        let formats = manifest_dir.join("../guest-formats").join(p);
        println!("cargo:rerun-if-changed={}", formats.display());
    }

    // The test hooks only when this crate's own feature asks for them, in a
    // target directory of their own so the two builds never share a binary.
    let hooks = env::var_os("CARGO_FEATURE_TEST_HOOKS").is_some();
    let name = if hooks {
        "guest-init-test-hooks"
    } else {
        "guest-init"
    };
    let target_dir = shared_target_dir(&out_dir).join(name);
    let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.args(["build", "--release", "-p", "guest-init", "--target", TARGET]);
    if hooks {
        cmd.args(["--features", "test-hooks"]);
    }
    cmd.arg("--manifest-path")
        .arg(init_dir.join("Cargo.toml"))
        .arg("--target-dir")
        .arg(&target_dir)
        .env("CARGO_ENCODED_RUSTFLAGS", "-Ctarget-feature=+crt-static")
        .env("CARGO_PROFILE_RELEASE_STRIP", "symbols")
        .env("CARGO_PROFILE_RELEASE_DEBUG", "false")
        .env("CARGO_PROFILE_RELEASE_PANIC", "unwind");
    for var in [
        "RUSTFLAGS",
        "CARGO_TARGET_DIR",
        "CARGO_BUILD_TARGET",
        "CARGO_BUILD_RUSTFLAGS",
        "RUSTC_WORKSPACE_WRAPPER",
        "CARGO_LLVM_COV",
        "CARGO_MAKEFLAGS",
        "MAKEFLAGS",
        "MFLAGS",
    ] {
        cmd.env_remove(var);
    }
    // A sanitizer build (cargo fuzz) sets CARGO_CFG_SANITIZE, which the
    // cc crate would honour for guest-init's C dependencies (xz, zstd) and
    // break the static link: the nested build is a plain release build.
    for (var, _) in env::vars_os() {
        let var_name = var.to_string_lossy();
        if var_name.starts_with("CARGO_CFG_") || var_name.starts_with("CARGO_FEATURE_") {
            cmd.env_remove(var);
        }
    }
    let status = cmd.status().expect("run cargo to build guest-init");
    assert!(status.success(), "building guest-init failed");
    let built = target_dir.join(TARGET).join("release").join("guest-init");
    std::fs::copy(&built, &dest).expect("copy guest-init into OUT_DIR");
}

/// The workspace target directory (the ancestor of OUT_DIR that cargo marks
/// with CACHEDIR.TAG), so every profile shares one guest-init build.
fn shared_target_dir(out_dir: &Path) -> PathBuf {
    out_dir
        .ancestors()
        .find(|p| p.join("CACHEDIR.TAG").exists())
        .map(Path::to_path_buf)
        .unwrap_or_else(|| out_dir.to_path_buf())
}
