use super::*;

#[test]
fn numbers_take_guestfish_octal_and_hex() {
    assert_eq!(i64::from_word("0755").unwrap(), 0o755);
    assert_eq!(i64::from_word("0x1f").unwrap(), 0x1f);
    assert_eq!(i64::from_word("0").unwrap(), 0);
    assert_eq!(i64::from_word("-12").unwrap(), -12);
    assert!(i64::from_word("twelve").is_err());
}

#[test]
fn booleans_lists_and_validated_types() {
    assert!(bool::from_word("Yes").unwrap());
    assert!(!bool::from_word("off").unwrap());
    assert!(bool::from_word("maybe").is_err());
    assert_eq!(Vec::<String>::from_word(" a  b ").unwrap(), ["a", "b"]);
    assert!(Pathname::from_word("relative")
        .unwrap_err()
        .contains("absolute"));
    assert_eq!(Compression::from_word("zst").unwrap(), Compression::Zstd);
    assert_eq!(Compression::from_word("bzip2").unwrap(), Compression::Bzip2);
}
