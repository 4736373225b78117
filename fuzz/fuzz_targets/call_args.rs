//! Arbitrary dynamic values (what the Python binding hands over) as the
//! arguments of any call of the table, through the generic
//! `Call::read_args` over `protocol::FromValue`: each conversion succeeds
//! or errors, but must never panic, and what it accepts must be valid
//! (a Pathname is absolute, a Device names a device).
#![no_main]

use protocol::{calls, ArgSource, ArgType, Call, Value, ValueError};

/// Values decoded from the fuzzer's bytes: one tag byte each.
struct Bytes<'a>(&'a [u8]);

impl Bytes<'_> {
    fn byte(&mut self) -> Option<u8> {
        let (first, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(*first)
    }

    fn chunk(&mut self) -> Vec<u8> {
        let len = usize::from(self.byte().unwrap_or(0) % 32).min(self.0.len());
        let (taken, rest) = self.0.split_at(len);
        self.0 = rest;
        taken.to_vec()
    }

    fn value(&mut self, depth: u8) -> Value {
        match self.byte().unwrap_or(0) % 7 {
            0 => Value::Null,
            1 => Value::Bool(self.byte().unwrap_or(0) & 1 == 1),
            2 => Value::Int(i64::from_le_bytes(
                std::array::from_fn(|_| self.byte().unwrap_or(0)),
            )),
            3 | 4 => Value::Str(String::from_utf8_lossy(&self.chunk()).into_owned()),
            5 => Value::Bytes(self.chunk()),
            _ if depth < 3 => {
                let n = self.byte().unwrap_or(0) % 4;
                Value::List((0..n).map(|_| self.value(depth + 1)).collect())
            }
            _ => Value::Null,
        }
    }
}

/// Every argument, required or optional, from the next value.
impl ArgSource for Bytes<'_> {
    type Error = ValueError;
    fn required<T: ArgType>(&mut self, _name: &'static str) -> Result<T, ValueError> {
        let v = self.value(0);
        T::from_value(v)
    }
    fn optional<T: ArgType>(&mut self, _name: &'static str) -> Result<Option<T>, ValueError> {
        match self.value(0) {
            Value::Null => Ok(None),
            v => T::from_value(v).map(Some),
        }
    }
}

fn check<C: Call>(data: &[u8]) {
    let Ok(args) = C::read_args(&mut Bytes(data)) else {
        return;
    };
    // Host calls are answered by the handle, never encoded (their host
    // paths may be any bytes, which serde's PathBuf cannot encode).
    if C::INFO.kind != protocol::CallKind::Host {
        // Accepted arguments are what the validated types allow: they
        // survive the wire encoding and decode to the same value.
        let wire = postcard::to_allocvec(&args).expect("encode accepted arguments");
        let back: C::Args = postcard::from_bytes(&wire).expect("decode accepted arguments");
        assert_eq!(format!("{args:?}"), format!("{back:?}"));
    }
}

macro_rules! every_call {
    ($($name:ident)*) => {
        const CHECKS: &[fn(&[u8])] = &[$(check::<calls::$name::Call>),*];
    };
}
protocol::for_each_call_name!(every_call);

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Some((pick, rest)) = data.split_first() else {
        return;
    };
    let pick = usize::from(*pick) | usize::from(rest.first().copied().unwrap_or(0)) << 8;
    CHECKS[pick % CHECKS.len()](rest);
});
