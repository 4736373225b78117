use super::*;

#[test]
fn every_name_has_help() {
    for name in names() {
        assert!(
            find(&name).is_some_and(|c| !c.describe().is_empty()),
            "{name}"
        );
    }
    assert!(find("ls").unwrap().describe().starts_with("ls directory"));
    assert!(find("copy_in")
        .unwrap()
        .describe()
        .starts_with("copy-in LOCAL"));
    assert_eq!(find("vi").unwrap().name, "edit");
    assert_eq!(find("q").unwrap().name, "quit");
    assert!(find("frobnicate").is_none());
    assert!(find("internal_poweroff").is_none());
}

#[test]
fn every_visible_call_is_a_command_with_its_docs() {
    for info in protocol::CALLS.iter().filter(|c| !c.internal) {
        let c = find(info.name).unwrap();
        if c.call.is_none() {
            continue; // a compound command took the name over (launch)
        }
        assert!(c.describe().contains(info.summary()), "{}", info.name);
        assert_eq!(c.summary(), info.summary());
    }
    let tar_out = find("tar-out").unwrap().describe();
    assert!(tar_out.starts_with("tar-out directory HOSTFILE [compress:Compression"));
}

#[test]
fn names_are_unique() {
    let mut seen: Vec<&str> = all()
        .iter()
        .flat_map(|c| std::iter::once(&*c.name).chain(c.aliases.iter().copied()))
        .collect();
    let count = seen.len();
    seen.sort_unstable();
    seen.dedup();
    assert_eq!(seen.len(), count, "a name or alias is used twice");
}

#[test]
fn host_calls_are_commands() {
    let c = find("set-memsize").unwrap();
    assert_eq!(c.usage, "set-memsize memsize");
    assert!(find("add-drive-opts")
        .unwrap()
        .usage
        .contains("[label:String]"));
    assert!(find("disk-create").unwrap().call.is_some());
    assert!(find("launch").unwrap().call.is_none());
}
