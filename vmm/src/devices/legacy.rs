//! Legacy ports: the i8042 reset line (how the guest powers the VM off with
//! `reboot=k`), a CMOS that reads as zero, and open bus everywhere else.

pub(crate) const I8042_COMMAND: u16 = 0x64;
const I8042_RESET_CPU: u8 = 0xfe;
const CMOS_PORTS: std::ops::RangeInclusive<u16> = 0x70..=0x71;

#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Action {
    Continue,
    /// The guest pulsed the reset line: it rebooted or powered off.
    Reset,
}

pub(crate) fn read(port: u16, data: &mut [u8]) {
    let fill = match port {
        // i8042 status: output and input buffers empty, so the kernel's
        // reset path does not wait for a keyboard controller that isn't there.
        I8042_COMMAND => 0x00,
        p if CMOS_PORTS.contains(&p) => 0x00,
        // Nothing here: reads of an unclaimed ISA port float high.
        _ => 0xff,
    };
    data.fill(fill);
}

pub(crate) fn write(port: u16, data: &[u8]) -> Action {
    if port == I8042_COMMAND && data.first() == Some(&I8042_RESET_CPU) {
        return Action::Reset;
    }
    Action::Continue
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reset_only_on_the_reset_command() {
        assert_eq!(write(I8042_COMMAND, &[0xfe]), Action::Reset);
        assert_eq!(write(I8042_COMMAND, &[0xfd]), Action::Continue);
        assert_eq!(write(I8042_COMMAND, &[]), Action::Continue);
        assert_eq!(write(0x80, &[0xfe]), Action::Continue);
    }

    #[test]
    fn unclaimed_ports_float_high() {
        let mut b = [0u8; 4];
        read(0x2f8, &mut b);
        assert_eq!(b, [0xff; 4]);
        read(I8042_COMMAND, &mut b[..1]);
        assert_eq!(b[0], 0);
    }
}
