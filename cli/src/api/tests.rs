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

fn run<C: Call>(g: &mut Guest, words: &[&str]) -> libguest::Result<String>
where
    C::Ret: crate::print::Print,
{
    let words: Vec<String> = words.iter().map(|w| w.to_string()).collect();
    let mut out = Vec::new();
    call::<C>(g, &words, &mut out)?;
    Ok(String::from_utf8(out).unwrap())
}

#[test]
fn host_commands_run_on_the_handle_without_an_appliance() {
    let mut g = Guest::new().unwrap();
    assert_eq!(
        run::<calls::get_memsize::Call>(&mut g, &[]).unwrap(),
        "512\n"
    );
    run::<calls::set_memsize::Call>(&mut g, &["1024"]).unwrap();
    assert_eq!(
        run::<calls::get_memsize::Call>(&mut g, &[]).unwrap(),
        "1024\n"
    );
    let err = run::<calls::set_memsize::Call>(&mut g, &["10"]).unwrap_err();
    assert!(err.to_string().contains("128 to 65536"), "{err}");
    // OptString as guestfish reads it: "" is none, and none prints
    // "(null)", as guestfish's printf of a NULL does.
    run::<calls::set_append::Call>(&mut g, &["console=ttyS0"]).unwrap();
    assert_eq!(
        run::<calls::get_append::Call>(&mut g, &[]).unwrap(),
        "console=ttyS0\n"
    );
    run::<calls::set_append::Call>(&mut g, &[""]).unwrap();
    assert_eq!(
        run::<calls::get_append::Call>(&mut g, &[]).unwrap(),
        "(null)\n"
    );
    run::<calls::set_tmpdir::Call>(&mut g, &["/var/tmp"]).unwrap();
    assert_eq!(
        run::<calls::get_tmpdir::Call>(&mut g, &[]).unwrap(),
        "/var/tmp\n"
    );
    assert_eq!(
        run::<calls::is_config::Call>(&mut g, &[]).unwrap(),
        "true\n"
    );
    assert_eq!(run::<calls::get_state::Call>(&mut g, &[]).unwrap(), "0\n");

    let dir = tempfile::tempdir().unwrap();
    let img = dir.path().join("new.qcow2");
    let img_word = img.to_str().unwrap();
    run::<calls::disk_create::Call>(&mut g, &[img_word, "qcow2", "1048576", "clustersize:4096"])
        .unwrap();
    assert_eq!(
        run::<calls::disk_format::Call>(&mut g, &[img_word]).unwrap(),
        "qcow2\n"
    );
    assert_eq!(
        run::<calls::disk_virtual_size::Call>(&mut g, &[img_word]).unwrap(),
        "1048576\n"
    );
    run::<calls::add_drive_opts::Call>(&mut g, &[img_word, "format:qcow2", "readonly:true"])
        .unwrap();
    assert_eq!(g.drives().len(), 1);
    assert!(g.drives()[0].options.readonly);
    let err = run::<calls::disk_create::Call>(&mut g, &[img_word, "qcow2"]).unwrap_err();
    assert!(
        err.to_string()
            .contains("usage: disk_create filename format size"),
        "{err}"
    );
}

#[test]
fn numbers_and_strings_print_as_guestfish_prints_them() {
    use crate::print::{Base, Print};
    let mut out = Vec::new();
    131i64
        .print_as(&mut out, Base::of("part_get_mbr_id"))
        .unwrap();
    0o22i64.print_as(&mut out, Base::of("get_umask")).unwrap();
    7i64.print_as(&mut out, Base::of("device_index")).unwrap();
    "line\n".to_string().print(&mut out).unwrap();
    String::new().print(&mut out).unwrap();
    assert_eq!(String::from_utf8(out).unwrap(), "0x83\n022\n7\nline\n\n\n");
}
