//! `host` calls never reach the daemon: `Daemon` has no method for them
//! (the recorder below implements exactly the daemon calls, so a host
//! call there would not compile) and `dispatch` does not know proc 0.

use crate::{calls, dispatch, CallIo, CallKind, Daemon, ErrorKind, ErrorReply, CALLS};

/// Records which daemon methods ran.
#[derive(Default)]
struct Recorder {
    ran: Vec<&'static str>,
}

struct NoIo;

impl CallIo for NoIo {
    fn cancelled(&self) -> bool {
        false
    }
    fn read_chunk(&mut self, _: &mut Vec<u8>) -> Result<usize, ErrorReply> {
        Ok(0)
    }
    fn write_chunk(&mut self, _: &[u8]) -> Result<(), ErrorReply> {
        Ok(())
    }
}

macro_rules! recorder_method {
    (host $name:ident) => {};
    ($kind:ident $name:ident) => {
        #[allow(non_snake_case)] // libguestfs names: mkswap_L, mkswap_U
        fn $name(
            &mut self,
            _: &mut dyn CallIo,
            _: calls::$name::Args,
        ) -> Result<calls::$name::Ret, ErrorReply> {
            self.ran.push(stringify!($name));
            Err(ErrorReply::new(ErrorKind::InvalidArgument, "recorded"))
        }
    };
}

macro_rules! recorder_daemon {
    ($(
        $(#[doc = $doc:literal])*
        $proc:literal $kind:ident $name:ident ( $($arg:ident : $aty:ty),* )
        [ $($opt:ident : $oty:ty),* ] -> $ret:ty [ $($flag:ident),* ] $({ $($test:tt)* })?;
    )*) => {
        impl Daemon for Recorder {
            fn root_mounted(&self) -> bool {
                true
            }
            $( recorder_method! { $kind $name } )*
        }
    };
}

crate::for_each_call!(recorder_daemon);

#[test]
fn host_calls_are_proc_0_and_dispatch_refuses_it() {
    let host: Vec<_> = CALLS.iter().filter(|c| c.kind == CallKind::Host).collect();
    assert!(host.len() > 30, "{} host calls", host.len());
    assert!(host.iter().all(|c| c.proc_nr == 0));
    assert!(CALLS
        .iter()
        .filter(|c| c.kind != CallKind::Host)
        .all(|c| c.proc_nr != 0));
    let mut d = Recorder::default();
    // Whatever the payload: set_memsize's encoded arguments, or none.
    let payload = postcard::to_allocvec(&calls::set_memsize::Args { memsize: 1024 }).unwrap();
    for payload in [&payload[..], &[]] {
        let err = dispatch(&mut d, &mut NoIo, 0, payload).unwrap_err();
        assert_eq!(err.kind, ErrorKind::UnknownProcedure, "{}", err.message);
    }
    assert!(d.ran.is_empty(), "{:?}", d.ran);
}

#[test]
fn every_daemon_call_is_dispatched_to_its_method() {
    let mut d = Recorder::default();
    let ping = postcard::to_allocvec(&calls::ping_daemon::Args {}).unwrap();
    let err = dispatch(&mut d, &mut NoIo, calls::ping_daemon::PROC, &ping).unwrap_err();
    assert_eq!(err.message, "recorded");
    assert_eq!(d.ran, ["ping_daemon"]);
    // Every daemon proc is known (an empty payload may fail to decode, but
    // is never an unknown procedure).
    for c in CALLS.iter().filter(|c| c.kind != CallKind::Host) {
        if let Err(e) = dispatch(&mut d, &mut NoIo, c.proc_nr, &[]) {
            assert_ne!(e.kind, ErrorKind::UnknownProcedure, "{}", c.name);
        }
    }
}
