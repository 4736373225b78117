//! POSIX ACLs as the kernel stores them in `system.posix_acl_*` (version
//! 2: a u32 header, then {tag u16, perm u16, id u32} entries, little
//! endian) and as libacl writes them as text (acl_to_text, acl_from_text).
//! Only numeric ids: the appliance has no guest passwd to map names.

/// An entry's kind; the order is the kernel's tag order (1, 2, 4, 8,
/// 0x10, 0x20), which is also the order entries are stored in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Tag {
    UserObj,
    User,
    GroupObj,
    Group,
    Mask,
    Other,
}

impl Tag {
    fn code(self) -> u16 {
        match self {
            Tag::UserObj => 0x01,
            Tag::User => 0x02,
            Tag::GroupObj => 0x04,
            Tag::Group => 0x08,
            Tag::Mask => 0x10,
            Tag::Other => 0x20,
        }
    }

    fn from_code(code: u16) -> Option<Tag> {
        [
            Tag::UserObj,
            Tag::User,
            Tag::GroupObj,
            Tag::Group,
            Tag::Mask,
            Tag::Other,
        ]
        .into_iter()
        .find(|t| t.code() == code)
    }

    fn named(self) -> bool {
        matches!(self, Tag::User | Tag::Group)
    }
}

/// The id the kernel stores in entries without a qualifier.
const UNDEFINED_ID: u32 = u32::MAX;
const VERSION: u32 = 2;
const READ: u8 = 4;
const WRITE: u8 = 2;
const EXECUTE: u8 = 1;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct Entry {
    pub(super) tag: Tag,
    /// The uid or gid of a named entry; 0 otherwise.
    pub(super) id: u32,
    /// READ | WRITE | EXECUTE.
    pub(super) perm: u8,
}

/// An ACL's entries, sorted by tag then id.
pub(super) type Acl = Vec<Entry>;

/// Parses an xattr value. `what` names the file for errors: the value
/// may have been planted by the guest.
pub(super) fn from_xattr(value: &[u8], what: &str) -> Result<Acl, String> {
    let bad = |why: String| format!("{what}: malformed POSIX ACL attribute: {why}");
    let (header, body) = value
        .split_first_chunk::<4>()
        .ok_or_else(|| bad(format!("{} bytes, no header", value.len())))?;
    let version = u32::from_le_bytes(*header);
    if version != VERSION {
        return Err(bad(format!("version {version}, not {VERSION}")));
    }
    if body.len() % 8 != 0 {
        return Err(bad(format!(
            "{} bytes of entries, not a multiple of 8",
            body.len()
        )));
    }
    let mut acl = Vec::with_capacity(body.len() / 8);
    for raw in body.chunks_exact(8) {
        let tag_code = u16::from_le_bytes([raw[0], raw[1]]);
        let perm = u16::from_le_bytes([raw[2], raw[3]]);
        let id = u32::from_le_bytes([raw[4], raw[5], raw[6], raw[7]]);
        let tag =
            Tag::from_code(tag_code).ok_or_else(|| bad(format!("unknown tag {tag_code:#x}")))?;
        let perm = u8::try_from(perm)
            .ok()
            .filter(|p| p & !7 == 0)
            .ok_or_else(|| bad(format!("permission bits {perm:#x}")))?;
        let id = if tag.named() { id } else { 0 };
        acl.push(Entry { tag, id, perm });
    }
    acl.sort();
    validate(&acl).map_err(bad)?;
    Ok(acl)
}

/// The xattr value for a valid ACL.
pub(super) fn to_xattr(acl: &[Entry]) -> Vec<u8> {
    let mut out = Vec::with_capacity(4 + 8 * acl.len());
    out.extend_from_slice(&VERSION.to_le_bytes());
    for e in acl {
        out.extend_from_slice(&e.tag.code().to_le_bytes());
        out.extend_from_slice(&u16::from(e.perm).to_le_bytes());
        let id = if e.tag.named() { e.id } else { UNDEFINED_ID };
        out.extend_from_slice(&id.to_le_bytes());
    }
    out
}

/// The minimal ACL a file's mode stands for (acl_from_mode).
pub(super) fn from_mode(mode: u32) -> Acl {
    let perm = |shift: u32| ((mode >> shift) & 7) as u8;
    vec![
        Entry {
            tag: Tag::UserObj,
            id: 0,
            perm: perm(6),
        },
        Entry {
            tag: Tag::GroupObj,
            id: 0,
            perm: perm(3),
        },
        Entry {
            tag: Tag::Other,
            id: 0,
            perm: perm(0),
        },
    ]
}

/// acl_valid's rules on a sorted ACL: one owner, owning group and other
/// entry; a mask (at most one) when there are named entries; no id twice.
pub(super) fn validate(acl: &[Entry]) -> Result<(), String> {
    let count = |tag: Tag| acl.iter().filter(|e| e.tag == tag).count();
    for (tag, name) in [
        (Tag::UserObj, "user::"),
        (Tag::GroupObj, "group::"),
        (Tag::Other, "other::"),
    ] {
        match count(tag) {
            1 => {}
            0 => {
                return Err(format!(
                    "the ACL has no {name} entry (it needs exactly one)"
                ))
            }
            n => {
                return Err(format!(
                    "the ACL has {n} {name} entries (it needs exactly one)"
                ))
            }
        }
    }
    let masks = count(Tag::Mask);
    if masks > 1 {
        return Err(format!("the ACL has {masks} mask:: entries (at most one)"));
    }
    if masks == 0 && acl.iter().any(|e| e.tag.named()) {
        return Err(
            "the ACL has named user or group entries but no mask:: entry; add one (e.g. mask::rwx)"
                .into(),
        );
    }
    for pair in acl.windows(2) {
        if let [a, b] = pair {
            if a.tag.named() && a.tag == b.tag && a.id == b.id {
                let kind = if a.tag == Tag::User { "user" } else { "group" };
                return Err(format!("the ACL names {kind} {} twice", a.id));
            }
        }
    }
    Ok(())
}

fn perm_text(perm: u8) -> String {
    [(READ, 'r'), (WRITE, 'w'), (EXECUTE, 'x')]
        .iter()
        .map(|&(bit, c)| if perm & bit != 0 { c } else { '-' })
        .collect()
}

/// The long text form as acl_to_text prints it: one entry a line, numeric
/// ids, and `\t#effective:` where the mask takes permissions away.
pub(super) fn to_text(acl: &[Entry]) -> String {
    let mask = acl.iter().find(|e| e.tag == Tag::Mask).map(|e| e.perm);
    let mut out = String::new();
    for e in acl {
        let head = match e.tag {
            Tag::UserObj => "user::".to_owned(),
            Tag::User => format!("user:{}:", e.id),
            Tag::GroupObj => "group::".to_owned(),
            Tag::Group => format!("group:{}:", e.id),
            Tag::Mask => "mask::".to_owned(),
            Tag::Other => "other::".to_owned(),
        };
        out.push_str(&head);
        out.push_str(&perm_text(e.perm));
        let masked = matches!(e.tag, Tag::User | Tag::GroupObj | Tag::Group);
        if let (true, Some(m)) = (masked, mask) {
            if e.perm & m != e.perm {
                out.push_str("\t#effective:");
                out.push_str(&perm_text(e.perm & m));
            }
        }
        out.push('\n');
    }
    out
}

/// Parses the text form acl_from_text takes: entries separated by commas
/// or newlines, `#` comments, `u[ser]`/`g[roup]`/`m[ask]`/`o[ther]`,
/// numeric qualifiers, permissions from `rwx-` in any order. Returns the
/// entries sorted; validation is separate ([`validate`]).
pub(super) fn from_text(text: &str) -> Result<Acl, String> {
    let mut acl = Vec::new();
    for line in text.lines() {
        let line = line.split('#').next().unwrap_or_default();
        for entry in line.split(',') {
            let entry = entry.trim();
            if entry.is_empty() {
                continue;
            }
            acl.push(parse_entry(entry)?);
        }
    }
    acl.sort();
    Ok(acl)
}

fn parse_entry(entry: &str) -> Result<Entry, String> {
    let shown: String = entry.chars().take(64).collect();
    let fields: Vec<&str> = entry.split(':').map(str::trim).collect();
    if matches!(fields.first(), Some(&"d" | &"default")) {
        return Err(format!(
            "ACL entry {shown:?}: give a default ACL with acltype \"default\", without the default: prefix"
        ));
    }
    let (tag, qualifier, perms) = match fields.as_slice() {
        [tag, qualifier, perms] => (*tag, *qualifier, *perms),
        // mask and other may leave out the empty qualifier.
        [tag, perms] => (*tag, "", *perms),
        _ => {
            return Err(format!(
                "ACL entry {shown:?} is not TAG:QUALIFIER:PERMS (e.g. user:1000:rw-)"
            ))
        }
    };
    let named = match tag {
        "u" | "user" => Some((Tag::UserObj, Tag::User)),
        "g" | "group" => Some((Tag::GroupObj, Tag::Group)),
        "m" | "mask" => None,
        "o" | "other" => None,
        _ => {
            return Err(format!(
                "ACL entry {shown:?}: unknown tag {tag:?} (user, group, mask or other)"
            ))
        }
    };
    let (tag, id) = match named {
        Some((obj, _)) if qualifier.is_empty() => (obj, 0),
        Some((_, named)) => {
            if fields.len() == 2 {
                return Err(format!(
                    "ACL entry {shown:?} is not TAG:QUALIFIER:PERMS (e.g. user:1000:rw-)"
                ));
            }
            let id = qualifier
                .bytes()
                .all(|b| b.is_ascii_digit())
                .then(|| qualifier.parse::<u32>().ok())
                .flatten()
                .filter(|&id| id != UNDEFINED_ID);
            match id {
                Some(id) => (named, id),
                None if qualifier.bytes().all(|b| b.is_ascii_digit()) => {
                    return Err(format!("ACL entry {shown:?}: id {qualifier} is out of range"))
                }
                None => {
                    return Err(format!(
                        "ACL entry {shown:?}: {qualifier:?} is a name; names cannot be looked up in the appliance, use the numeric id"
                    ))
                }
            }
        }
        None if !qualifier.is_empty() => {
            return Err(format!(
                "ACL entry {shown:?}: mask and other entries take no qualifier"
            ))
        }
        None if tag.starts_with('m') => (Tag::Mask, 0),
        None => (Tag::Other, 0),
    };
    let mut perm = 0u8;
    for c in perms.chars() {
        let bit = match c {
            'r' => READ,
            'w' => WRITE,
            'x' => EXECUTE,
            '-' => continue,
            _ => {
                return Err(format!(
                    "ACL entry {shown:?}: {c:?} is not a permission (r, w, x or -)"
                ))
            }
        };
        if perm & bit != 0 {
            return Err(format!("ACL entry {shown:?}: {c:?} given twice"));
        }
        perm |= bit;
    }
    Ok(Entry { tag, id, perm })
}
