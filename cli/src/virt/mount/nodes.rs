//! The FUSE node table of `libguest mount`: node numbers for guest paths,
//! and guestmount's caches of attributes and link targets, which a
//! directory listing fills in one batch (lstatnslist, readlinklist).
//!
//! Plain data with no guest in it, so it is unit-tested on its own.
//! Names come from the guest and the kernel: a name is one path component
//! (no `/`, not `.` or `..`), so a joined path never leaves the mount.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use protocol::types::{Statns, XAttr};

/// FUSE's root node.
pub const ROOT: u64 = 1;

/// Whether `name` is one path component a guest path may be joined with.
pub fn is_component(name: &str) -> bool {
    !name.is_empty() && name != "." && name != ".." && !name.contains('/') && !name.contains('\0')
}

/// `dir` joined with one component.
pub fn join(dir: &str, name: &str) -> String {
    if dir == "/" {
        format!("/{name}")
    } else {
        format!("{dir}/{name}")
    }
}

/// Node numbers: one per guest file, keyed by (st_dev, st_ino) so hard
/// links share one and two mounted filesystems never collide; each
/// remembers one path that reaches it.
#[derive(Debug)]
pub struct Nodes {
    paths: HashMap<u64, String>,
    by_file: HashMap<(i64, i64), u64>,
    next: u64,
}

impl Default for Nodes {
    fn default() -> Nodes {
        Nodes {
            paths: HashMap::from([(ROOT, "/".to_string())]),
            by_file: HashMap::new(),
            next: ROOT + 1,
        }
    }
}

impl Nodes {
    /// The path node `ino` was last reached by.
    pub fn path(&self, ino: u64) -> Option<&str> {
        self.paths.get(&ino).map(String::as_str)
    }

    /// The node of the file `st` describes, reached by `path`.
    pub fn node(&mut self, path: &str, st: &Statns) -> u64 {
        if path == "/" {
            return ROOT;
        }
        let key = (st.st_dev, st.st_ino);
        let ino = match self.by_file.get(&key) {
            Some(&ino) => ino,
            None => {
                let ino = self.next;
                self.next += 1;
                self.by_file.insert(key, ino);
                ino
            }
        };
        self.paths.insert(ino, path.to_string());
        ino
    }

    /// After a rename: every node at or under `from` now lives under `to`.
    pub fn renamed(&mut self, from: &str, to: &str) {
        let under = format!("{from}/");
        for path in self.paths.values_mut() {
            if path == from {
                *path = to.to_string();
            } else if let Some(rest) = path.strip_prefix(&under) {
                *path = format!("{to}/{rest}");
            }
        }
    }

    /// After unlink or rmdir: a node still reached by `path` is dropped
    /// (a hard link elsewhere gets a node again on its next lookup).
    pub fn removed(&mut self, path: &str) {
        let gone: Vec<u64> = self
            .paths
            .iter()
            .filter(|(&ino, p)| ino != ROOT && p.as_str() == path)
            .map(|(&ino, _)| ino)
            .collect();
        for ino in gone {
            self.paths.remove(&ino);
            self.by_file.retain(|_, v| *v != ino);
        }
    }
}

/// guestmount's caches: attributes, extended attributes and link targets
/// by path, each good for `timeout` (--dir-cache-timeout) and dropped on
/// any change.
#[derive(Debug)]
pub struct Cache {
    timeout: Duration,
    stats: HashMap<String, (Instant, Statns)>,
    links: HashMap<String, (Instant, String)>,
    xattrs: HashMap<String, (Instant, Vec<XAttr>)>,
    /// The names of each directory listed and not yet asked for
    /// extended attributes: the first getxattr or listxattr in it fetches
    /// them all in one batch (`ls -l` asks for two per file; `find` none).
    listings: HashMap<String, (Instant, Vec<String>)>,
}

impl Cache {
    pub fn new(timeout: Duration) -> Cache {
        Cache {
            timeout,
            stats: HashMap::new(),
            links: HashMap::new(),
            xattrs: HashMap::new(),
            listings: HashMap::new(),
        }
    }

    fn fresh(&self, at: Instant) -> bool {
        at.elapsed() < self.timeout
    }

    pub fn stat(&self, path: &str) -> Option<&Statns> {
        self.stats
            .get(path)
            .filter(|(at, _)| self.fresh(*at))
            .map(|(_, st)| st)
    }

    pub fn link(&self, path: &str) -> Option<&str> {
        self.links
            .get(path)
            .filter(|(at, _)| self.fresh(*at))
            .map(|(_, target)| target.as_str())
    }

    /// Every extended attribute of `path`, when a listing fetched them.
    pub fn xattrs(&self, path: &str) -> Option<&[XAttr]> {
        self.xattrs
            .get(path)
            .filter(|(at, _)| self.fresh(*at))
            .map(|(_, x)| x.as_slice())
    }

    pub fn put_xattrs(&mut self, path: String, xattrs: Vec<XAttr>) {
        self.xattrs.insert(path, (Instant::now(), xattrs));
    }

    pub fn put_listing(&mut self, dir: String, names: Vec<String>) {
        self.listings.insert(dir, (Instant::now(), names));
    }

    /// The names of directory `dir`'s fresh listing if it has `name`,
    /// taken: a listing is batched for extended attributes once.
    pub fn take_listing_with(&mut self, dir: &str, name: &str) -> Option<Vec<String>> {
        let (at, names) = self.listings.get(dir)?;
        if !self.fresh(*at) || !names.iter().any(|n| n == name) {
            return None;
        }
        self.listings.remove(dir).map(|(_, names)| names)
    }

    pub fn put_stat(&mut self, path: String, st: Statns) {
        self.stats.insert(path, (Instant::now(), st));
    }

    pub fn put_link(&mut self, path: String, target: String) {
        self.links.insert(path, (Instant::now(), target));
    }

    /// Drops what is known about `path` and everything under it, and its
    /// parent directory (whose size, times and link count a change moves).
    pub fn invalidate(&mut self, path: &str) {
        let under = format!("{path}/");
        let parent = parent(path).to_string();
        let stale = |p: &String| p == path || p.starts_with(&under) || *p == parent;
        self.stats.retain(|p, _| !stale(p));
        self.links.retain(|p, _| !stale(p));
        self.xattrs.retain(|p, _| !stale(p));
        self.listings.retain(|p, _| !stale(p));
    }
}

/// lxattrlist's flat answer for `names`, split per name: each name's
/// header entry (empty attrname, attrval the decimal count) and that many
/// attributes. A name whose read failed (empty count) is left out; so is
/// everything from the first entry that breaks the encoding, since the
/// guest wrote it.
pub fn split_xattr_list(names: &[String], flat: Vec<XAttr>) -> Vec<(String, Vec<XAttr>)> {
    let mut out = Vec::new();
    let mut entries = flat.into_iter();
    for name in names {
        let Some(header) = entries.next() else {
            break;
        };
        if !header.attrname.is_empty() {
            break;
        }
        if header.attrval.is_empty() {
            continue;
        }
        let Some(count) = std::str::from_utf8(&header.attrval)
            .ok()
            .and_then(|c| c.parse::<usize>().ok())
        else {
            break;
        };
        let attrs: Vec<XAttr> = entries.by_ref().take(count).collect();
        if attrs.len() != count || attrs.iter().any(|a| a.attrname.is_empty()) {
            break;
        }
        out.push((name.clone(), attrs));
    }
    out
}

/// The directory part of an absolute guest path (`/` for `/x`).
pub fn parent(path: &str) -> &str {
    match path.rfind('/') {
        Some(0) | None => "/",
        Some(i) => &path[..i],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn st(dev: i64, ino: i64) -> Statns {
        Statns {
            st_dev: dev,
            st_ino: ino,
            ..Statns::default()
        }
    }

    #[test]
    fn components_never_climb_out() {
        for bad in ["", ".", "..", "a/b", "/", "a\0b"] {
            assert!(!is_component(bad), "{bad:?}");
        }
        assert!(is_component("...") && is_component("a b"));
        assert_eq!(join("/", "etc"), "/etc");
        assert_eq!(join("/etc", "passwd"), "/etc/passwd");
        assert_eq!(parent("/etc/passwd"), "/etc");
        assert_eq!(parent("/etc"), "/");
    }

    #[test]
    fn hard_links_share_a_node_and_filesystems_do_not_collide() {
        let mut n = Nodes::default();
        let a = n.node("/a", &st(1, 12));
        let b = n.node("/b", &st(1, 12));
        let boot = n.node("/boot/x", &st(2, 12));
        assert_eq!(a, b);
        assert_ne!(a, boot);
        assert_eq!(n.path(a), Some("/b"));
        assert_eq!(n.node("/", &st(1, 2)), ROOT);
    }

    #[test]
    fn renames_move_whole_subtrees_and_removal_forgets() {
        let mut n = Nodes::default();
        let d = n.node("/d", &st(1, 3));
        let f = n.node("/d/f", &st(1, 4));
        let other = n.node("/dx", &st(1, 5));
        n.renamed("/d", "/e");
        assert_eq!(n.path(d), Some("/e"));
        assert_eq!(n.path(f), Some("/e/f"));
        assert_eq!(n.path(other), Some("/dx"));
        n.removed("/e/f");
        assert_eq!(n.path(f), None);
        assert_ne!(n.node("/e/f", &st(1, 4)), 0);
    }

    fn xattr(name: &str, value: &str) -> XAttr {
        XAttr {
            attrname: name.into(),
            attrval: value.as_bytes().to_vec(),
        }
    }

    #[test]
    fn xattr_lists_split_per_name_and_stop_at_a_broken_encoding() {
        let names: Vec<String> = ["a", "b", "c"].map(String::from).to_vec();
        let flat = vec![
            xattr("", "2"),
            xattr("user.one", "1"),
            xattr("user.two", "22"),
            xattr("", ""), // b could not be read
            xattr("", "0"),
        ];
        let got = split_xattr_list(&names, flat);
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].0, "a");
        assert_eq!(got[0].1.len(), 2);
        assert_eq!((got[1].0.as_str(), got[1].1.len()), ("c", 0));
        // A count past the end, or a header where an attribute should be.
        let short = vec![xattr("", "5"), xattr("user.x", "")];
        assert!(split_xattr_list(&names, short).is_empty());
        let nested = vec![xattr("", "1"), xattr("", "1")];
        assert!(split_xattr_list(&names, nested).is_empty());
        let junk = vec![xattr("", "-1")];
        assert!(split_xattr_list(&names, junk).is_empty());
    }

    #[test]
    fn cache_expires_and_changes_invalidate_the_parent_and_subtree() {
        let mut c = Cache::new(Duration::from_secs(60));
        for p in ["/", "/d", "/d/f", "/dx"] {
            c.put_stat(p.into(), st(1, 1));
        }
        c.put_link("/d/l".into(), "f".into());
        c.put_xattrs("/d/f".into(), Vec::new());
        c.put_listing("/d".into(), vec!["f".into()]);
        c.invalidate("/d");
        assert!(c.take_listing_with("/d", "f").is_none());
        assert!(c.stat("/d").is_none() && c.stat("/d/f").is_none() && c.link("/d/l").is_none());
        assert!(c.xattrs("/d/f").is_none());
        assert!(c.stat("/").is_none(), "the parent's times changed");
        assert!(c.stat("/dx").is_some());
        let mut c = Cache::new(Duration::ZERO);
        c.put_stat("/x".into(), st(1, 1));
        assert!(c.stat("/x").is_none());
        let mut c = Cache::new(Duration::from_secs(60));
        c.put_listing("/d".into(), vec!["f".into(), "g".into()]);
        assert!(c.take_listing_with("/d", "h").is_none());
        assert_eq!(c.take_listing_with("/d", "g").map(|n| n.len()), Some(2));
        assert!(c.take_listing_with("/d", "g").is_none(), "batched once");
    }
}
