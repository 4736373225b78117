//! The appliance kernel: dmesg (its log, from /dev/kmsg) and utsname.

use std::collections::VecDeque;
use std::fmt::Write as _;

use protocol::types::Utsname;
use protocol::{calls, CallIo, ErrorReply};
use rustix::fs::{Mode, OFlags};
use rustix::io::Errno;

use super::state::GuestDaemon;
use super::util::{errno_reply, MAX_DATA};

/// One /dev/kmsg record ("PRI,SEQ,USEC,FLAGS;text\n" and " KEY=value"
/// lines) as dmesg prints it: "[SSSSS.UUUUUU] text".
fn format_record(record: &str) -> Option<String> {
    let (head, body) = record.split_once(';')?;
    let usec: u64 = head.split(',').nth(2)?.parse().ok()?;
    // Continuation lines (" SUBSYSTEM=…") are dictionary data dmesg hides.
    let text = body.lines().next().unwrap_or_default();
    Some(format!(
        "[{:5}.{:06}] {text}\n",
        usec / 1_000_000,
        usec % 1_000_000
    ))
}

pub(super) fn dmesg(
    _d: &mut GuestDaemon,
    io: &mut dyn CallIo,
    _args: calls::dmesg::Args,
) -> Result<String, ErrorReply> {
    let fd = rustix::fs::open(
        "/dev/kmsg",
        OFlags::RDONLY | OFlags::NONBLOCK | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| errno_reply("dmesg: open", "/dev/kmsg", e))?;
    // Newest lines win when the log is bigger than one reply.
    let mut lines: VecDeque<String> = VecDeque::new();
    let mut total = 0;
    let mut buf = vec![0u8; 8192];
    loop {
        if io.cancelled() {
            return Err(ErrorReply::cancelled());
        }
        match rustix::io::read(&fd, &mut buf) {
            Ok(0) | Err(Errno::AGAIN) => break,
            // A record overwritten while we read: go on with the next.
            Err(Errno::PIPE) | Err(Errno::INTR) => continue,
            Err(e) => return Err(errno_reply("dmesg: read", "/dev/kmsg", e)),
            Ok(n) => {
                let Some(line) = format_record(&String::from_utf8_lossy(&buf[..n])) else {
                    continue;
                };
                total += line.len();
                lines.push_back(line);
                while total > MAX_DATA {
                    match lines.pop_front() {
                        Some(old) => total -= old.len(),
                        None => break,
                    }
                }
            }
        }
    }
    let mut out = String::with_capacity(total);
    for line in lines {
        let _ = out.write_str(&line);
    }
    Ok(out)
}

pub(super) fn utsname(
    _d: &mut GuestDaemon,
    _io: &mut dyn CallIo,
    _args: calls::utsname::Args,
) -> Result<Utsname, ErrorReply> {
    let u = rustix::system::uname();
    let s = |c: &std::ffi::CStr| c.to_string_lossy().into_owned();
    Ok(Utsname {
        uts_sysname: s(u.sysname()),
        uts_release: s(u.release()),
        uts_version: s(u.version()),
        uts_machine: s(u.machine()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_as_dmesg_prints_them() {
        assert_eq!(
            format_record("6,1,12345,-;Linux version 6.12\n SUBSYSTEM=x\n").as_deref(),
            Some("[    0.012345] Linux version 6.12\n")
        );
        assert_eq!(
            format_record("4,9,1234567890,c;late").as_deref(),
            Some("[ 1234.567890] late\n")
        );
        assert_eq!(format_record("garbage"), None);
    }
}
