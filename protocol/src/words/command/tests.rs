use super::*;
use crate::types::{Compression, Pathname};
use crate::ArgSource;

fn words(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

#[test]
fn positional_then_optional() {
    let w2 = words(&["/dir", "compress:xz"]);
    let mut p = Words::new(
        "tar-out",
        &w2,
        &["directory"],
        &["compress", "excludes"],
        None,
    )
    .unwrap();
    assert_eq!(p.next::<Pathname>("directory").unwrap().as_str(), "/dir");
    assert_eq!(
        p.opt::<Compression>("compress").unwrap(),
        Some(Compression::Xz)
    );
    assert_eq!(p.opt::<Vec<String>>("excludes").unwrap(), None);
}

#[test]
fn counts_and_types_are_checked() {
    let err = Words::new("ls", &[], &["directory"], &[], None)
        .err()
        .unwrap();
    assert!(
        err.contains("expected 1 argument, got 0; usage: ls directory"),
        "{err}"
    );
    let w = words(&["a", "b"]);
    assert!(Words::new("ls", &w, &["directory"], &[], None).is_err());
    let w = words(&["relative"]);
    let mut p = Words::new("ls", &w, &["directory"], &[], None).unwrap();
    assert!(p
        .next::<Pathname>("directory")
        .unwrap_err()
        .contains("absolute"));
    let w = words(&["0755", "/x"]);
    let mut p = Words::new("chmod", &w, &["mode", "path"], &[], None).unwrap();
    assert_eq!(p.required::<i64>("mode").unwrap(), 0o755);
    assert_eq!(p.required::<Pathname>("path").unwrap().as_str(), "/x");
}
