//! xfs_info2: every field xfs_info prints, named as libguestfs's parser
//! (daemon/xfs.ml) names them: `group` for the text after a heading's
//! `=`, `group.key` for each `key=digits[ blks|extents]`.

use std::sync::OnceLock;

use protocol::{calls, CallIo, ErrorKind, ErrorReply};
use regex::Regex;

use super::super::state::GuestDaemon;
use super::xfs::info_text;

/// libguestfs's re3 (the text opening a group) and re4 (one field).
fn patterns() -> &'static (Regex, Regex) {
    static RE: OnceLock<(Regex, Regex)> = OnceLock::new();
    RE.get_or_init(|| {
        let first = Regex::new(r"\A(version\s[0-9]+|\S+\slog|\S+)");
        let field = Regex::new(r"([-A-Za-z0-9_]+)=([0-9]+(\s(blks|extents))?)");
        match (first, field) {
            (Ok(a), Ok(b)) => (a, b),
            // Constant patterns: a failure is a build bug, caught by the tests.
            _ => unreachable!("xfs_info2 patterns"),
        }
    })
}

/// Parses xfs_info's text as libguestfs does; `name` replaces the
/// meta-data group's text (the appliance path xfs_info saw).
pub(super) fn parse(text: &str, name: &str) -> Vec<(String, String)> {
    let (first, field) = patterns();
    // Groups start at a line beginning with a lower-case letter.
    let mut groups: Vec<&str> = Vec::new();
    let mut start = 0;
    for (i, _) in text.match_indices('\n') {
        if text[i + 1..].starts_with(|c: char| c.is_ascii_lowercase()) {
            groups.push(&text[start..i]);
            start = i + 1;
        }
    }
    groups.push(&text[start..]);
    let mut out = Vec::new();
    for group in groups {
        let Some((heading, rest)) = group.split_once('=') else {
            continue;
        };
        let heading = heading.trim();
        let mut at = 0;
        if let Some(m) = first.captures(rest).and_then(|c| c.get(1)) {
            let value = if heading == "meta-data" {
                name
            } else {
                m.as_str()
            };
            out.push((heading.to_owned(), value.to_owned()));
            at = m.end();
        }
        while at <= rest.len() {
            let Some(c) = field.captures_at(rest, at) else {
                break;
            };
            let (Some(key), Some(value)) = (c.get(1), c.get(2)) else {
                break;
            };
            out.push((
                format!("{heading}.{}", key.as_str()),
                value.as_str().to_owned(),
            ));
            at = value.end() + 1;
        }
    }
    out
}

pub(in crate::daemon) fn xfs_info2(
    d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    args: calls::xfs_info2::Args,
) -> Result<calls::xfs_info2::Ret, ErrorReply> {
    let call = "xfs_info2";
    let target = args.mountable.as_str();
    let out = info_text(d, call, target)?;
    let fields = parse(&out.text, target);
    if !fields.iter().any(|(k, _)| k == "meta-data") {
        return Err(ErrorReply::new(
            ErrorKind::Other,
            format!(
                "{call} {target}: no xfs geometry in the answer: {}",
                out.tail()
            ),
        ));
    }
    Ok(fields)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_as_libguestfs() {
        let text = "meta-data=/dev/sda1              isize=512    agcount=4, agsize=122094659 blks
         =                       sectsz=4096  attr=2, projid32bit=1
data     =                       bsize=4096   blocks=488378636, imaxpct=5
         =                       sunit=0      swidth=0 blks
naming   =version 2              bsize=4096   ascii-ci=0, ftype=1, parent=0
log      =internal log           bsize=4096   blocks=238466, version=2
         =                       sectsz=4096  sunit=1 blks, lazy-count=1
realtime =none                   extsz=4096   blocks=0, rtextents=0
         =                       rgcount=0    rgsize=0 extents
";
        let h = parse(text, "/dev/sda1");
        let get = |k: &str| h.iter().find(|(a, _)| a == k).map(|(_, v)| v.as_str());
        assert_eq!(h[0], ("meta-data".into(), "/dev/sda1".into()));
        assert_eq!(get("meta-data.agsize"), Some("122094659 blks"));
        assert_eq!(get("meta-data.projid32bit"), Some("1"));
        assert_eq!(get("data"), None);
        assert_eq!(get("data.swidth"), Some("0 blks"));
        assert_eq!(get("naming"), Some("version 2"));
        assert_eq!(get("naming.ascii-ci"), Some("0"));
        assert_eq!(get("log"), Some("internal log"));
        assert_eq!(get("log.sunit"), Some("1 blks"));
        assert_eq!(get("log.lazy-count"), Some("1"));
        assert_eq!(get("realtime"), Some("none"));
        assert_eq!(get("realtime.rgsize"), Some("0 extents"));
        assert_eq!(h.len(), 30);
    }
}
