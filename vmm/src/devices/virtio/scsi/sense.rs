//! SCSI sense data: what a CHECK CONDITION tells the guest, and what
//! REQUEST SENSE returns afterwards.

/// Sense keys (SPC-4 table 49) the device uses.
const KEY_NO_SENSE: u8 = 0x00;
const KEY_MEDIUM_ERROR: u8 = 0x03;
const KEY_ILLEGAL_REQUEST: u8 = 0x05;
const KEY_DATA_PROTECT: u8 = 0x07;

/// Fixed-format sense data (SPC-4 4.5.3): response code 0x70, key, ASC, ASCQ, additional length 10.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Sense {
    pub key: u8,
    pub asc: u8,
    pub ascq: u8,
}

impl Sense {
    pub(crate) const NO_SENSE: Sense = Sense::new(KEY_NO_SENSE, 0x00, 0x00);
    pub(crate) const INVALID_OPCODE: Sense = Sense::new(KEY_ILLEGAL_REQUEST, 0x20, 0x00);
    pub(crate) const LBA_OUT_OF_RANGE: Sense = Sense::new(KEY_ILLEGAL_REQUEST, 0x21, 0x00);
    pub(crate) const INVALID_FIELD_IN_CDB: Sense = Sense::new(KEY_ILLEGAL_REQUEST, 0x24, 0x00);
    pub(crate) const LUN_NOT_SUPPORTED: Sense = Sense::new(KEY_ILLEGAL_REQUEST, 0x25, 0x00);
    pub(crate) const INVALID_FIELD_IN_PARAMETER_LIST: Sense =
        Sense::new(KEY_ILLEGAL_REQUEST, 0x26, 0x00);
    pub(crate) const PARAMETER_LIST_LENGTH_ERROR: Sense =
        Sense::new(KEY_ILLEGAL_REQUEST, 0x1a, 0x00);
    /// MODE SENSE with PC = saved values: nothing is savable.
    pub(crate) const SAVING_PARAMETERS_NOT_SUPPORTED: Sense =
        Sense::new(KEY_ILLEGAL_REQUEST, 0x39, 0x00);
    pub(crate) const WRITE_PROTECTED: Sense = Sense::new(KEY_DATA_PROTECT, 0x27, 0x00);
    pub(crate) const UNRECOVERED_READ_ERROR: Sense = Sense::new(KEY_MEDIUM_ERROR, 0x11, 0x00);
    pub(crate) const WRITE_ERROR: Sense = Sense::new(KEY_MEDIUM_ERROR, 0x0c, 0x00);

    pub(crate) const fn new(key: u8, asc: u8, ascq: u8) -> Sense {
        Sense { key, asc, ascq }
    }

    /// The 18-byte fixed format: current error, no information field.
    pub(crate) fn to_fixed(self) -> [u8; 18] {
        let mut b = [0u8; 18];
        b[0] = 0x70;
        b[2] = self.key & 0x0f;
        b[7] = 10; // additional sense length: bytes 8..18
        b[12] = self.asc;
        b[13] = self.ascq;
        b
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_format_layout() {
        let b = Sense::INVALID_FIELD_IN_CDB.to_fixed();
        assert_eq!(b.len(), 18);
        assert_eq!(b[0], 0x70);
        assert_eq!(b[2], 0x05);
        assert_eq!(b[7], 10);
        assert_eq!((b[12], b[13]), (0x24, 0x00));
        let others: Vec<u8> = [1, 3, 4, 5, 6, 8, 9, 10, 11, 14, 15, 16, 17]
            .iter()
            .map(|&i| b[i])
            .collect();
        assert!(others.iter().all(|&x| x == 0));
    }

    #[test]
    fn key_is_masked_to_four_bits() {
        let b = Sense::new(0xf7, 0x12, 0x34).to_fixed();
        assert_eq!(b[2], 0x07);
        assert_eq!((b[12], b[13]), (0x12, 0x34));
    }

    #[test]
    fn no_sense_is_all_zero_but_header() {
        let b = Sense::NO_SENSE.to_fixed();
        assert_eq!(b[0], 0x70);
        assert_eq!(b[7], 10);
        assert_eq!((b[2], b[12], b[13]), (0, 0, 0));
    }

    #[test]
    fn named_codes() {
        let t = |s: Sense| (s.key, s.asc, s.ascq);
        assert_eq!(t(Sense::INVALID_OPCODE), (0x05, 0x20, 0x00));
        assert_eq!(t(Sense::INVALID_FIELD_IN_CDB), (0x05, 0x24, 0x00));
        assert_eq!(
            t(Sense::INVALID_FIELD_IN_PARAMETER_LIST),
            (0x05, 0x26, 0x00)
        );
        assert_eq!(t(Sense::LBA_OUT_OF_RANGE), (0x05, 0x21, 0x00));
        assert_eq!(t(Sense::PARAMETER_LIST_LENGTH_ERROR), (0x05, 0x1a, 0x00));
        assert_eq!(t(Sense::WRITE_PROTECTED), (0x07, 0x27, 0x00));
        assert_eq!(t(Sense::UNRECOVERED_READ_ERROR), (0x03, 0x11, 0x00));
        assert_eq!(t(Sense::WRITE_ERROR), (0x03, 0x0c, 0x00));
        assert_eq!(t(Sense::LUN_NOT_SUPPORTED), (0x05, 0x25, 0x00));
        assert_eq!(
            t(Sense::SAVING_PARAMETERS_NOT_SUPPORTED),
            (0x05, 0x39, 0x00)
        );
        assert_eq!(t(Sense::NO_SENSE), (0, 0, 0));
    }

    #[test]
    fn round_trips_through_fixed_format() {
        // The device rebuilds the last sense from the response bytes.
        for s in [
            Sense::WRITE_PROTECTED,
            Sense::LBA_OUT_OF_RANGE,
            Sense::WRITE_ERROR,
        ] {
            let b = s.to_fixed();
            assert_eq!(Sense::new(b[2] & 0x0f, b[12], b[13]), s);
        }
    }
}
