//! Test fixtures for Windows: registry hives built here (a regf base
//! block with its checksum, one hive bin of nk/vk/lf/li/ri/db cells) and
//! a Windows tree holding them.

use std::path::Path;

use super::hive;
use super::tests::write;

pub(super) struct K {
    pub(super) name: &'static str,
    pub(super) values: Vec<(&'static str, u32, Vec<u8>)>,
    pub(super) subkeys: Vec<K>,
}

pub(super) fn key(
    name: &'static str,
    values: Vec<(&'static str, u32, Vec<u8>)>,
    subkeys: Vec<K>,
) -> K {
    K {
        name,
        values,
        subkeys,
    }
}

pub(super) fn sz(s: &str) -> Vec<u8> {
    s.encode_utf16()
        .chain([0])
        .flat_map(u16::to_le_bytes)
        .collect()
}

pub(super) fn dword(v: u32) -> Vec<u8> {
    v.to_le_bytes().to_vec()
}

struct Bins(Vec<u8>);

impl Bins {
    /// Appends an allocated cell; returns its offset.
    fn cell(&mut self, body: &[u8]) -> u32 {
        let off = self.0.len() as u32;
        let size = (4 + body.len()).div_ceil(8) * 8;
        self.0.extend_from_slice(&(-(size as i32)).to_le_bytes());
        self.0.extend_from_slice(body);
        self.0.resize(off as usize + size, 0);
        off
    }

    fn name(name: &str) -> (Vec<u8>, bool) {
        if name.is_ascii() {
            (name.as_bytes().to_vec(), true)
        } else {
            (
                name.encode_utf16().flat_map(u16::to_le_bytes).collect(),
                false,
            )
        }
    }

    fn value(&mut self, name: &str, ty: u32, data: &[u8]) -> u32 {
        let (size, data_off) = if data.len() <= 4 {
            let mut inline = [0u8; 4];
            inline[..data.len()].copy_from_slice(data);
            (data.len() as u32 | 0x8000_0000, u32::from_le_bytes(inline))
        } else if data.len() > 16344 {
            let segments: Vec<u32> = data.chunks(16344).map(|c| self.cell(c)).collect();
            let list: Vec<u8> = segments.iter().flat_map(|o| o.to_le_bytes()).collect();
            let list = self.cell(&list);
            let mut db = b"db".to_vec();
            db.extend_from_slice(&(segments.len() as u16).to_le_bytes());
            db.extend_from_slice(&list.to_le_bytes());
            (data.len() as u32, self.cell(&db))
        } else {
            (data.len() as u32, self.cell(data))
        };
        let (raw, ascii) = Self::name(name);
        let mut vk = b"vk".to_vec();
        vk.extend_from_slice(&(raw.len() as u16).to_le_bytes());
        for v in [size, data_off, ty] {
            vk.extend_from_slice(&v.to_le_bytes());
        }
        vk.extend_from_slice(&u16::from(ascii).to_le_bytes());
        vk.extend_from_slice(&[0, 0]);
        vk.extend_from_slice(&raw);
        self.cell(&vk)
    }

    /// Keys with three or more subkeys get an "ri" list of two "li"s.
    fn key(&mut self, k: &K, is_root: bool) -> u32 {
        let children: Vec<u32> = k.subkeys.iter().map(|c| self.key(c, false)).collect();
        let list = match children.len() {
            0 => u32::MAX,
            1 | 2 => {
                let mut lf = b"lf".to_vec();
                lf.extend_from_slice(&(children.len() as u16).to_le_bytes());
                for (c, sub) in children.iter().zip(&k.subkeys) {
                    lf.extend_from_slice(&c.to_le_bytes());
                    let mut hint = sub.name.as_bytes().to_vec();
                    hint.resize(4, 0);
                    lf.extend_from_slice(&hint[..4]);
                }
                self.cell(&lf)
            }
            n => {
                let halves = [&children[..n / 2], &children[n / 2..]];
                let lis: Vec<u32> = halves
                    .iter()
                    .map(|h| {
                        let mut li = b"li".to_vec();
                        li.extend_from_slice(&(h.len() as u16).to_le_bytes());
                        h.iter()
                            .for_each(|c| li.extend_from_slice(&c.to_le_bytes()));
                        self.cell(&li)
                    })
                    .collect();
                let mut ri = b"ri".to_vec();
                ri.extend_from_slice(&2u16.to_le_bytes());
                lis.iter()
                    .for_each(|c| ri.extend_from_slice(&c.to_le_bytes()));
                self.cell(&ri)
            }
        };
        let values: Vec<u32> = k
            .values
            .iter()
            .map(|(n, t, d)| self.value(n, *t, d))
            .collect();
        let value_list = if values.is_empty() {
            u32::MAX
        } else {
            let list: Vec<u8> = values.iter().flat_map(|o| o.to_le_bytes()).collect();
            self.cell(&list)
        };
        let (raw, ascii) = Self::name(k.name);
        let flags: u16 = if ascii { 0x20 } else { 0 } | if is_root { 0x0C } else { 0 };
        let mut nk = vec![0u8; 76];
        nk[..2].copy_from_slice(b"nk");
        nk[2..4].copy_from_slice(&flags.to_le_bytes());
        let mut put = |at: usize, v: u32| nk[at..at + 4].copy_from_slice(&v.to_le_bytes());
        put(16, u32::MAX);
        put(20, children.len() as u32);
        put(28, list);
        put(32, u32::MAX);
        put(36, values.len() as u32);
        put(40, value_list);
        put(44, u32::MAX);
        put(48, u32::MAX);
        nk[72..74].copy_from_slice(&(raw.len() as u16).to_le_bytes());
        nk.extend_from_slice(&raw);
        self.cell(&nk)
    }
}

/// A hive file whose root key is `root`.
pub(super) fn build_hive(root: &K) -> Vec<u8> {
    let mut bins = Bins(vec![0u8; 32]);
    let root_off = bins.key(root, true);
    let len = bins.0.len().div_ceil(4096) * 4096;
    // The free rest of the bin: one unallocated cell.
    let free = len - bins.0.len();
    if free >= 8 {
        bins.0.extend_from_slice(&(free as i32).to_le_bytes());
    }
    bins.0.resize(len, 0);
    bins.0[..4].copy_from_slice(b"hbin");
    bins.0[8..12].copy_from_slice(&(len as u32).to_le_bytes());
    let mut base = vec![0u8; 4096];
    base[..4].copy_from_slice(b"regf");
    let mut put = |at: usize, v: u32| base[at..at + 4].copy_from_slice(&v.to_le_bytes());
    put(4, 1);
    put(8, 1);
    put(0x14, 1);
    put(0x18, 5);
    put(0x1C, 0);
    put(0x20, 1);
    put(0x24, root_off);
    put(0x28, len as u32);
    put(0x2C, 1);
    let sum = hive::header_checksum(&base);
    base[0x1FC..0x200].copy_from_slice(&sum.to_le_bytes());
    base.extend_from_slice(&bins.0);
    base
}

pub(super) fn software_hive() -> K {
    let uninstall = |name, display: &str, version: &str| {
        key(
            name,
            vec![
                ("DisplayName", hive::REG_SZ, sz(display)),
                ("DisplayVersion", hive::REG_SZ, sz(version)),
                ("Publisher", hive::REG_SZ, sz("Vendor Inc.")),
                (
                    "InstallLocation",
                    hive::REG_EXPAND_SZ,
                    sz(r"C:\Program Files\X"),
                ),
            ],
            vec![],
        )
    };
    let cv = key(
        "CurrentVersion",
        vec![
            ("ProductName", hive::REG_SZ, sz("Windows 10 Pro")),
            ("CurrentMajorVersionNumber", hive::REG_DWORD, dword(10)),
            ("CurrentMinorVersionNumber", hive::REG_DWORD, dword(0)),
            ("CurrentVersion", hive::REG_SZ, sz("6.3")),
            ("CurrentBuildNumber", hive::REG_SZ, sz("22631")),
            ("BigBlob", 3, vec![0xAB; 40000]),
        ],
        vec![],
    );
    let apps = key(
        "Uninstall",
        vec![],
        vec![
            uninstall("7-Zip", "7-Zip 23.01 (x64)", "23.01"),
            uninstall("{ABC-123}", "Éditeur", "1.2.3"),
            uninstall("Zoom", "Zoom", "5.17"),
            key("Hidden", vec![], vec![]),
        ],
    );
    key(
        "ROOT",
        vec![],
        vec![key(
            "Microsoft",
            vec![],
            vec![
                key(
                    "Windows",
                    vec![],
                    vec![key("CurrentVersion", vec![], vec![apps])],
                ),
                key("Windows NT", vec![], vec![cv]),
                key(
                    "Ünïcode",
                    vec![("", hive::REG_SZ, sz("default value"))],
                    vec![],
                ),
            ],
        )],
    )
}

fn system_hive() -> Vec<u8> {
    let cn = key(
        "ComputerName",
        vec![("ComputerName", hive::REG_SZ, sz("WIN-BOX"))],
        vec![],
    );
    let set = |name| {
        key(
            name,
            vec![],
            vec![key(
                "Control",
                vec![],
                vec![key("ComputerName", vec![], vec![cn_clone(&cn)])],
            )],
        )
    };
    build_hive(&key(
        "ROOT",
        vec![],
        vec![
            key(
                "Select",
                vec![("Current", hive::REG_DWORD, dword(2))],
                vec![],
            ),
            set("ControlSet002"),
        ],
    ))
}

fn cn_clone(k: &K) -> K {
    key(k.name, k.values.clone(), vec![])
}

/// A PE header saying x86_64.
pub(super) fn pe_x86_64() -> Vec<u8> {
    let mut pe = vec![0u8; 1024];
    pe[..2].copy_from_slice(b"MZ");
    pe[0x3C..0x40].copy_from_slice(&0x80u32.to_le_bytes());
    pe[0x80..0x84].copy_from_slice(b"PE\0\0");
    pe[0x84..0x86].copy_from_slice(&0x8664u16.to_le_bytes());
    pe
}

/// A Windows tree, spelt in the case Windows leaves on disk.
pub(super) fn windows_tree(r: &Path) {
    write(
        r,
        "/WINDOWS/system32/config/SOFTWARE",
        &build_hive(&software_hive()),
    );
    write(r, "/WINDOWS/system32/config/SYSTEM", &system_hive());
    write(r, "/WINDOWS/system32/CMD.EXE", &pe_x86_64());
}
