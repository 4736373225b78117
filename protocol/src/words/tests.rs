use super::*;

#[test]
fn numbers_take_guestfish_octal_and_hex() {
    assert_eq!(i64::from_word("0755").unwrap(), 0o755);
    assert_eq!(i64::from_word("0x1f").unwrap(), 0x1f);
    assert_eq!(i64::from_word("0").unwrap(), 0);
    assert_eq!(i64::from_word("-12").unwrap(), -12);
    assert!(i64::from_word("twelve").is_err());
    assert_eq!(i64::from_word("0X1F").unwrap(), 0x1f);
    assert_eq!(i64::from_word("+7").unwrap(), 7);
    assert!(i64::from_word("08").is_err());
    assert!(i64::from_word("0x").is_err());
    assert!(i64::from_word("-").is_err());
    assert!(i64::from_word("").is_err());
}

#[test]
fn numbers_take_guestfish_size_suffixes() {
    assert_eq!(i64::from_word("512k").unwrap(), 512 * 1024);
    assert_eq!(i64::from_word("1K").unwrap(), 1024);
    assert_eq!(i64::from_word("10M").unwrap(), 10 << 20);
    assert_eq!(i64::from_word("1G").unwrap(), 1 << 30);
    assert_eq!(i64::from_word("2T").unwrap(), 2 << 40);
    assert_eq!(i64::from_word("1P").unwrap(), 1 << 50);
    assert_eq!(i64::from_word("1E").unwrap(), 1 << 60);
    assert_eq!(i64::from_word("1GB").unwrap(), 1_000_000_000);
    assert_eq!(i64::from_word("1GiB").unwrap(), 1 << 30);
    assert_eq!(i64::from_word("3kB").unwrap(), 3000);
    assert_eq!(i64::from_word("0x10K").unwrap(), 16 * 1024);
    assert_eq!(i64::from_word("-1M").unwrap(), -(1 << 20));
    assert!(i64::from_word("8E").is_err(), "past i64::MAX");
    assert!(i64::from_word("-8E").is_ok(), "exactly i64::MIN");
    assert!(i64::from_word("1m").is_err(), "not a guestfish suffix");
    assert!(i64::from_word("1Z").is_err());
    assert!(i64::from_word("1Gx").is_err());
    assert!(i64::from_word("1 G").is_err());
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
