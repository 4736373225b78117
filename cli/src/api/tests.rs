use super::*;
use protocol::calls;

#[test]
fn usage_and_help_come_from_the_table() {
    let tar_out = &calls::tar_out::INFO;
    assert!(usage(tar_out).starts_with("tar-out directory HOSTFILE [compress:Compression"));
    assert!(help(tar_out).starts_with(tar_out.summary()));
    assert!(help(tar_out).contains("HOSTFILE is a file on this machine"));
    assert_eq!(
        usage(&calls::upload::INFO),
        "upload HOSTFILE remotefilename"
    );
}

#[test]
fn bad_counts_and_values_fail_before_launch_checks() {
    let mut g = Guest::new().unwrap();
    let mut out = Vec::new();
    let err = call::<calls::ls::Call>(&mut g, &[], &mut out).unwrap_err();
    assert!(err.to_string().contains("usage: ls directory"), "{err}");
    let err = call::<calls::ls::Call>(&mut g, &["etc".into()], &mut out).unwrap_err();
    assert!(err.to_string().contains("absolute"), "{err}");
    // Arguments are fine; the handle is not launched.
    let err = call::<calls::ls::Call>(&mut g, &["/".into()], &mut out).unwrap_err();
    assert!(matches!(err, Error::State { .. }), "{err}");
}

#[test]
fn usage_is_checked_without_an_appliance() {
    let err = check_usage::<calls::ls::Call>(&[]).unwrap_err().to_string();
    assert_eq!(err, "ls: expected 1 argument, got 0; usage: ls directory");
    let err = check_usage::<calls::ls::Call>(&["etc".into()]).unwrap_err();
    assert!(err.to_string().contains("absolute"), "{err}");
    check_usage::<calls::ls::Call>(&["/etc".into()]).unwrap();
    assert!(check_usage::<calls::upload::Call>(&["a".into()]).is_err());
}
