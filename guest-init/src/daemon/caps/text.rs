//! libcap's text form of a file capability set (cap_to_text(3) and
//! cap_from_text(3)), written to print exactly what `getcap` prints and
//! to accept exactly what `setcap` accepts.

/// The three sets, one bit per capability number (0..64).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Caps {
    pub(crate) effective: u64,
    pub(crate) inheritable: u64,
    pub(crate) permitted: u64,
}

/// libcap's flag bits (LIBCAP_EFF, LIBCAP_INH, LIBCAP_PER).
const EFF: u8 = 1;
const PER: u8 = 2;
const INH: u8 = 4;

/// The capability numbers a file can carry (__CAP_MAXBITS).
const MAX_BITS: u32 = 64;

/// libcap's names, by number (__CAP_BITS of them); higher numbers print
/// as decimal.
const NAMES: [&str; 41] = [
    "cap_chown",
    "cap_dac_override",
    "cap_dac_read_search",
    "cap_fowner",
    "cap_fsetid",
    "cap_kill",
    "cap_setgid",
    "cap_setuid",
    "cap_setpcap",
    "cap_linux_immutable",
    "cap_net_bind_service",
    "cap_net_broadcast",
    "cap_net_admin",
    "cap_net_raw",
    "cap_ipc_lock",
    "cap_ipc_owner",
    "cap_sys_module",
    "cap_sys_rawio",
    "cap_sys_chroot",
    "cap_sys_ptrace",
    "cap_sys_pacct",
    "cap_sys_admin",
    "cap_sys_boot",
    "cap_sys_nice",
    "cap_sys_resource",
    "cap_sys_time",
    "cap_sys_tty_config",
    "cap_mknod",
    "cap_lease",
    "cap_audit_write",
    "cap_audit_control",
    "cap_setfcap",
    "cap_mac_override",
    "cap_mac_admin",
    "cap_syslog",
    "cap_wake_alarm",
    "cap_block_suspend",
    "cap_audit_read",
    "cap_perfmon",
    "cap_bpf",
    "cap_checkpoint_restore",
];

/// How many capabilities the running kernel knows (libcap's
/// cap_max_bits): /proc/sys/kernel/cap_last_cap + 1, else libcap's own
/// count.
pub(crate) fn kernel_bits() -> u32 {
    std::fs::read_to_string("/proc/sys/kernel/cap_last_cap")
        .ok()
        .and_then(|s| s.trim().parse::<u32>().ok())
        .map_or(NAMES.len() as u32, |last| last.saturating_add(1))
        .clamp(1, MAX_BITS)
}

fn mask(bits: u32) -> u64 {
    if bits >= 64 {
        u64::MAX
    } else {
        (1u64 << bits) - 1
    }
}

fn name(n: u32) -> String {
    NAMES
        .get(n as usize)
        .map_or_else(|| n.to_string(), |s| (*s).to_owned())
}

impl Caps {
    fn flags(&self, n: u32) -> u8 {
        let bit = |set: u64| (set >> n) & 1 == 1;
        let mut f = 0;
        if bit(self.effective) {
            f |= EFF;
        }
        if bit(self.inheritable) {
            f |= INH;
        }
        if bit(self.permitted) {
            f |= PER;
        }
        f
    }

    /// cap_to_text: `=` and the most common flag combination of the
    /// kernel's capabilities, then the others as `names+flags-flags`
    /// groups; an all-clear default prints the first group as `names=flags`.
    pub(crate) fn to_text(self, kernel_bits: u32) -> String {
        let cmb = kernel_bits.min(MAX_BITS);
        let mut histo = [0u32; 8];
        for n in 0..cmb {
            histo[self.flags(n) as usize] += 1;
        }
        // Ties go to the lower combination (libcap's bias to "not set").
        let mut m = 7usize;
        for t in (0..7).rev() {
            if histo[t] >= histo[m] {
                m = t;
            }
        }
        let letters = |f: usize| {
            let mut s = String::new();
            if f & EFF as usize != 0 {
                s.push('e');
            }
            if f & INH as usize != 0 {
                s.push('i');
            }
            if f & PER as usize != 0 {
                s.push('p');
            }
            s
        };
        let mut out = format!("={}", letters(m));
        let mut start = 0;
        for t in (0..8).rev() {
            if t == m || histo[t] == 0 {
                continue;
            }
            let names: Vec<String> = (0..cmb)
                .filter(|&n| self.flags(n) as usize == t)
                .map(name)
                .collect();
            out.push(' ');
            out.push_str(&names.join(","));
            let raised = t & !m;
            if raised != 0 {
                let mut op = '+';
                if out[start..].starts_with("= ") {
                    start += 2;
                    op = '=';
                }
                out.push(op);
                out.push_str(&letters(raised));
            }
            let lowered = !t & m;
            if lowered != 0 {
                out.push('-');
                out.push_str(&letters(lowered));
            }
        }
        // Numbers the kernel does not know: always `+` groups.
        for t in (1..8).rev() {
            let names: Vec<String> = (cmb..MAX_BITS)
                .filter(|&n| self.flags(n) as usize == t)
                .map(name)
                .collect();
            if names.is_empty() {
                continue;
            }
            out.push(' ');
            out.push_str(&names.join(","));
            out.push('+');
            out.push_str(&letters(t));
        }
        out.split_off(start)
    }

    /// cap_from_text: space-separated clauses `[names]op flags[op flags…]`.
    pub(crate) fn from_text(text: &str, kernel_bits: u32) -> Result<Caps, String> {
        let all = mask(kernel_bits.min(MAX_BITS));
        let b = text.as_bytes();
        if b.contains(&0) {
            return Err("it contains a NUL byte".into());
        }
        let at = |i: usize| b.get(i).copied().unwrap_or(0);
        let bad = |i: usize, why: &str| -> String {
            format!(
                "{why} at byte {i} ({:?})",
                String::from_utf8_lossy(b.get(i..).unwrap_or_default())
                    .chars()
                    .take(40)
                    .collect::<String>()
            )
        };
        let word = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
        let mut caps = Caps::default();
        let mut i = 0;
        loop {
            while is_space(at(i)) {
                i += 1;
            }
            if at(i) == 0 {
                return Ok(caps);
            }
            let mut list = 0u64;
            let mut listed = false;
            if word(at(i)) {
                loop {
                    if let Some(j) = keyword(b, i, "all") {
                        i = j;
                        list |= all;
                    } else {
                        let (n, j) = lookup(b, i).ok_or_else(|| bad(i, "unknown capability"))?;
                        list |= 1u64 << n;
                        i = j;
                    }
                    if at(i) != b',' {
                        break;
                    }
                    i += 1;
                    if !word(at(i)) {
                        return Err(bad(i, "a capability name must follow ','"));
                    }
                }
                listed = true;
            } else if at(i) == b'+' || at(i) == b'-' {
                return Err(bad(
                    i,
                    "'+' and '-' need a list of capabilities before them",
                ));
            } else {
                list = all;
            }
            let mut op = at(i);
            i += 1;
            if op == b'=' && (at(i) == b'+' || at(i) == b'-') {
                if !listed {
                    return Err(bad(i, "'=+' and '=-' need a list of capabilities"));
                }
                op = if at(i) == b'+' { b'P' } else { b'M' };
                i += 1;
            } else if !matches!(op, b'+' | b'-' | b'=') {
                return Err(bad(i - 1, "expected an operator '=', '+' or '-'"));
            }
            let mut flags = 0u8;
            loop {
                let c = at(i);
                if c != 0 && !is_space(c) {
                    i += 1;
                    flags |= match c {
                        b'e' => EFF,
                        b'i' => INH,
                        b'p' => PER,
                        _ => return Err(bad(i - 1, "expected a flag 'e', 'i' or 'p'")),
                    };
                } else if op != b'=' {
                    return Err(bad(i, "only '=' may have no flags"));
                }
                if matches!(op, b'=' | b'P' | b'M') {
                    caps.apply(list, EFF | INH | PER, false);
                }
                caps.apply(list, flags, op != b'-' && op != b'M');
                if at(i) == b'+' || at(i) == b'-' {
                    if !listed {
                        return Err(bad(i, "'+' and '-' need a list of capabilities"));
                    }
                    flags = 0;
                    op = at(i);
                    i += 1;
                    if !at(i).is_ascii_alphabetic() {
                        return Err(bad(i, "expected a flag 'e', 'i' or 'p'"));
                    }
                }
                let c = at(i);
                if c == 0 || is_space(c) {
                    break;
                }
            }
        }
    }

    fn apply(&mut self, list: u64, flags: u8, raise: bool) {
        for (flag, set) in [
            (EFF, &mut self.effective),
            (INH, &mut self.inheritable),
            (PER, &mut self.permitted),
        ] {
            if flags & flag != 0 {
                if raise {
                    *set |= list;
                } else {
                    *set &= !list;
                }
            }
        }
    }
}

/// C's isspace.
fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// libcap's namcmp: `word` at `i`, any case, as a whole word.
fn keyword(b: &[u8], i: usize, word: &str) -> Option<usize> {
    let end = i + word.len();
    let here = b.get(i..end)?;
    let next = b.get(end).copied().unwrap_or(0);
    (here.eq_ignore_ascii_case(word.as_bytes()) && !next.is_ascii_alphanumeric() && next != b'_')
        .then_some(end)
}

/// libcap's lookupname: a number (strtoul base 0: decimal, 0x hex, 0
/// octal) below 64, or a name (any case); the number and where it ends.
fn lookup(b: &[u8], i: usize) -> Option<(u32, usize)> {
    let rest = b.get(i..)?;
    if rest.first()?.is_ascii_digit() {
        let (radix, skip) = match rest {
            [b'0', b'x' | b'X', h, ..] if h.is_ascii_hexdigit() => (16, 2),
            [b'0', ..] => (8, 0),
            _ => (10, 0),
        };
        let digits = rest[skip..]
            .iter()
            .take_while(|c| (**c as char).is_digit(radix))
            .count();
        let text = std::str::from_utf8(&rest[skip..skip + digits]).ok()?;
        let n = u64::from_str_radix(text, radix).ok()?;
        return (n < u64::from(MAX_BITS)).then_some((n as u32, i + skip + digits));
    }
    let len = rest
        .iter()
        .take_while(|c| c.is_ascii_alphabetic() || **c == b'_')
        .count();
    let token = &rest[..len];
    NAMES
        .iter()
        .position(|n| n.as_bytes().eq_ignore_ascii_case(token))
        .map(|n| (n as u32, i + len))
}
