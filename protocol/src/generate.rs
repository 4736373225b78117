//! What the protocol crate generates from the API table: the per-call
//! modules, the [`Daemon`] trait the daemon implements, its [`dispatch`],
//! and the [`CALLS`] list the CLI and the docs are made from.

use crate::types::*;
use crate::value::ArgType;
use crate::{calls, CallIo};

/// How a call moves data besides its arguments and result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallKind {
    /// Arguments and a result only.
    Plain,
    /// The host streams data to the daemon after the call.
    FileIn,
    /// The daemon streams data to the host before its reply.
    FileOut,
    /// Answered by the handle in the library ([`Handle`]): never sent to
    /// the daemon, no procedure number (the table writes 0).
    Host,
}

/// What the library needs to know to send a call.
#[derive(Debug, Clone, Copy)]
pub struct CallMeta {
    /// The call's name, as in the table (with `_`).
    pub name: &'static str,
    /// Its procedure number on the wire.
    pub proc_nr: u32,
    /// Whether the tools layer must be loaded first.
    pub needs_tools: bool,
}

#[derive(Debug, Clone, Copy)]
/// One argument of a call, as the table names it.
pub struct ArgInfo {
    /// Its name.
    pub name: &'static str,
    /// The Rust type as written in the table.
    pub ty: &'static str,
}

/// One call as the table describes it.
#[derive(Debug, Clone, Copy)]
pub struct CallInfo {
    /// The call's name (with `_`).
    pub name: &'static str,
    /// Its procedure number on the wire.
    pub proc_nr: u32,
    /// Whether it streams data, and which way.
    pub kind: CallKind,
    /// The required arguments, in order.
    pub args: &'static [ArgInfo],
    /// The optional arguments.
    pub opts: &'static [ArgInfo],
    /// The result type as written in the table.
    pub ret: &'static str,
    /// The docs, one line each.
    pub doc: &'static str,
    /// Refused until a filesystem is mounted on `/`.
    pub needs_root: bool,
    /// Runs a host tool from the appliance's tools layer.
    pub needs_tools: bool,
    /// Used by the library itself: not a command, not in the docs.
    pub internal: bool,
    /// Its test cases, as the table gives them.
    pub tests: &'static [TableTest],
}

/// What a table test case starts from, as libguestfs's generator's init
/// kinds: the scratch disks /dev/sda (and /dev/sdb) fresh each time, and
/// /dev/sdc a small ISO 9660 image with known files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TestInit {
    /// Blank disks, nothing mounted.
    Empty,
    /// One MBR partition filling /dev/sda.
    Partition,
    /// That partition holding ext2, mounted on /.
    BasicFs,
    /// ext2 on LV /dev/VG/LV (8 MiB) of VG VG on that partition, mounted on /.
    BasicFsOnLvm,
    /// The ISO mounted read-only on /.
    IsoFs,
}

/// What the last step of a table test must give.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TestExpect {
    /// It succeeds (and so does every step before it).
    Succeeds,
    /// It fails (every step before it succeeds).
    Fails,
    /// Its result, rendered as text (strings as they are, lists one item
    /// a line, booleans and numbers as words), is exactly this.
    Output(&'static str),
    /// Its rendered result contains this.
    Contains(&'static str),
}

/// One test case of a call: an init kind, steps as guestfish command
/// words (the call's own or any other's), and what the last one gives.
#[derive(Debug, Clone, Copy)]
pub struct TableTest {
    /// What the disks hold first.
    pub init: TestInit,
    /// Each step's words: the command name (`-` or `_`), then its
    /// arguments as the CLI takes them.
    pub steps: &'static [&'static [&'static str]],
    /// What the last step must give.
    pub expect: TestExpect,
}

impl CallInfo {
    /// The first line of the docs.
    pub fn summary(&self) -> &'static str {
        self.doc.lines().next().unwrap_or("").trim()
    }

    /// The call named `name`, with `-` or `_`.
    pub fn find(name: &str) -> Option<&'static CallInfo> {
        let name = name.replace('-', "_");
        CALLS.iter().find(|c| c.name == name)
    }
}

/// One call of the table as a type: `calls::<name>::Call`. Code that picks
/// the call at run time (a command line, a fuzzer) is written once,
/// generically over `C: Call`, and instantiated per call with
/// [`for_each_call_name!`](crate::for_each_call_name).
pub trait Call {
    /// Everything the daemon receives: `calls::<name>::Args`.
    type Args: serde::Serialize + serde::de::DeserializeOwned + std::fmt::Debug;
    /// What the daemon answers: `calls::<name>::Ret`.
    type Ret: serde::Serialize + serde::de::DeserializeOwned + std::fmt::Debug;
    /// What the library needs to send it.
    const META: CallMeta;
    /// The call as the table describes it.
    const INFO: CallInfo;
    /// The arguments from `source`: the required ones in table order,
    /// then the optional ones.
    fn read_args<S: ArgSource>(source: &mut S) -> Result<Self::Args, S::Error>;
    /// A `host` call answered by `handle`; `None` for a daemon call.
    fn host<H: Handle + ?Sized>(
        handle: &mut H,
        args: &Self::Args,
    ) -> Option<Result<Self::Ret, H::Error>>;
    /// The arguments as a trace line prints them: ` "a" 1 opt:true`.
    fn trace_args(args: &Self::Args) -> String;
}

/// Where [`Call::read_args`] takes argument values from, by name: the
/// words of a command line, for instance.
pub trait ArgSource {
    /// Why a value is missing or malformed.
    type Error;
    /// The next required argument.
    fn required<T: ArgType>(&mut self, name: &'static str) -> Result<T, Self::Error>;
    /// An optional argument; `None` when it was not given.
    fn optional<T: ArgType>(&mut self, name: &'static str) -> Result<Option<T>, Self::Error>;
}

/// Longest argument or result a trace line shows, in bytes.
const TRACE_VALUE_MAX: usize = 200;

#[doc(hidden)]
/// One argument or result as a trace line shows it: its `Debug` form,
/// cut at [`TRACE_VALUE_MAX`] bytes (a `write` of 4 MiB stays one line).
pub fn trace_value<T: std::fmt::Debug + ?Sized>(value: &T) -> String {
    let mut text = format!("{value:?}");
    if text.len() > TRACE_VALUE_MAX {
        let mut end = TRACE_VALUE_MAX;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
        text.push('…');
    }
    text
}

#[doc(hidden)]
pub const fn has_flag(flags: &[&str], wanted: &str) -> bool {
    let mut i = 0;
    while i < flags.len() {
        let f = flags[i].as_bytes();
        let w = wanted.as_bytes();
        if f.len() == w.len() {
            let mut j = 0;
            while j < f.len() && f[j] == w[j] {
                j += 1;
            }
            if j == f.len() {
                return true;
            }
        }
        i += 1;
    }
    false
}

#[doc(hidden)]
#[macro_export]
macro_rules! __call_kind {
    (call) => {
        $crate::CallKind::Plain
    };
    (file_in) => {
        $crate::CallKind::FileIn
    };
    (file_out) => {
        $crate::CallKind::FileOut
    };
    (host) => {
        $crate::CallKind::Host
    };
}

/// A `host` call's body in `Call::host`: the [`Handle`] method; nothing
/// for daemon calls.
#[doc(hidden)]
#[macro_export]
macro_rules! __host_body {
    (host $name:ident $handle:ident $args:ident) => {
        Some(<H as $crate::Handle>::$name($handle, $args.clone()))
    };
    ($kind:ident $name:ident $handle:ident $args:ident) => {{
        let _ = ($handle, $args);
        None
    }};
}

/// One [`Handle`] method for a `host` call; nothing for daemon calls.
#[doc(hidden)]
#[macro_export]
macro_rules! __handle_method {
    (host $name:ident [$($doc:literal)*]) => {
        $(#[doc = $doc])*
        #[allow(non_snake_case)] // libguestfs names: mkswap_L, mkswap_U
        fn $name(
            &mut self,
            args: $crate::calls::$name::Args,
        ) -> Result<$crate::calls::$name::Ret, Self::Error>;
    };
    ($kind:ident $name:ident [$($doc:literal)*]) => {};
}

/// One [`Daemon`] method for a daemon call; nothing for `host` calls.
#[doc(hidden)]
#[macro_export]
macro_rules! __daemon_method {
    (host $name:ident [$($doc:literal)*]) => {};
    ($kind:ident $name:ident [$($doc:literal)*]) => {
        $(#[doc = $doc])*
        #[allow(non_snake_case)] // libguestfs names: mkswap_L, mkswap_U
        fn $name(
            &mut self,
            io: &mut dyn $crate::CallIo,
            args: $crate::calls::$name::Args,
        ) -> Result<$crate::calls::$name::Ret, $crate::ErrorReply>;
    };
}

/// [`dispatch`]'s test for one daemon call; nothing for `host` calls,
/// which the daemon never answers.
#[doc(hidden)]
#[macro_export]
macro_rules! __dispatch_arm {
    (host $proc:literal $name:ident $daemon:ident $io:ident $proc_nr:ident $payload:ident) => {};
    ($kind:ident $proc:literal $name:ident $daemon:ident $io:ident $proc_nr:ident $payload:ident) => {
        if $proc_nr == $proc {
            let args: calls::$name::Args =
                postcard::from_bytes($payload).map_err(|e| decode_error(stringify!($name), e))?;
            if calls::$name::NEEDS_ROOT && !$daemon.root_mounted() {
                return Err(not_mounted(stringify!($name)));
            }
            let ret = $daemon.$name($io, args)?;
            return encode(stringify!($name), &ret);
        }
    };
}

/// A table entry's `{ init: [[words…], …] => expect; … }` test cases.
#[doc(hidden)]
#[macro_export]
macro_rules! __table_tests {
    ($( $init:ident : [ $( [ $($word:literal),* $(,)? ] ),* $(,)? ] => $expect:tt );* $(;)?) => {
        &[$(
            $crate::TableTest {
                init: $crate::__table_init!($init),
                steps: &[ $( &[ $($word),* ] ),* ],
                expect: $crate::__table_expect!($expect),
            }
        ),*]
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __table_init {
    (empty) => {
        $crate::TestInit::Empty
    };
    (partition) => {
        $crate::TestInit::Partition
    };
    (basic_fs) => {
        $crate::TestInit::BasicFs
    };
    (basic_fs_on_lvm) => {
        $crate::TestInit::BasicFsOnLvm
    };
    (iso_fs) => {
        $crate::TestInit::IsoFs
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __table_expect {
    (ok) => {
        $crate::TestExpect::Succeeds
    };
    (fails) => {
        $crate::TestExpect::Fails
    };
    ((contains $text:literal)) => {
        $crate::TestExpect::Contains($text)
    };
    ($text:literal) => {
        $crate::TestExpect::Output($text)
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __call_modules {
    ($(
        $(#[doc = $doc:literal])*
        $proc:literal $kind:ident $name:ident ( $($arg:ident : $aty:ty),* )
        [ $($opt:ident : $oty:ty),* ] -> $ret:ty [ $($flag:ident),* ] $({ $($test:tt)* })?;
    )*) => {$(
        $(#[doc = $doc])*
        #[allow(non_snake_case)] // libguestfs names: mkswap_L, mkswap_U
        pub mod $name {
            #[allow(unused_imports)]
            use $crate::types::*;

            /// The call's name.
            pub const NAME: &str = stringify!($name);
            /// Its procedure number on the wire.
            pub const PROC: u32 = $proc;
            /// Whether it streams data, and which way.
            pub const KIND: $crate::CallKind = $crate::__call_kind!($kind);
            /// The table's flags.
            pub const FLAGS: &[&str] = &[$(stringify!($flag)),*];
            /// Refused until a filesystem is mounted on `/`.
            pub const NEEDS_ROOT: bool = $crate::generate_support::has_flag(FLAGS, "needs_root");
            /// Runs a host tool (mkfs…) from the tools layer.
            pub const NEEDS_TOOLS: bool = $crate::generate_support::has_flag(FLAGS, "needs_tools");

            /// Everything the daemon receives: required arguments, then the
            /// optional ones.
            #[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
            pub struct Args {
                $(
                    #[doc = concat!("Required argument `", stringify!($arg), "` (see the call's docs).")]
                    pub $arg: $aty,
                )*
                $(
                    #[doc = concat!("Optional argument `", stringify!($opt), "`; `None` leaves it unset.")]
                    pub $opt: Option<$oty>,
                )*
            }

            /// The optional arguments; `Default` leaves them all unset.
            #[derive(Debug, Clone, Default, PartialEq)]
            pub struct Opts {
                $(
                    #[doc = concat!("Optional argument `", stringify!($opt), "`; `None` leaves it unset.")]
                    pub $opt: Option<$oty>,
                )*
            }

            /// The call's result.
            pub type Ret = $ret;

            /// The table's test cases for the call.
            pub const TESTS: &[$crate::TableTest] = $crate::__table_tests!($($($test)*)?);

            /// What the library needs to send the call.
            pub const META: $crate::CallMeta = $crate::CallMeta {
                name: NAME,
                proc_nr: PROC,
                needs_tools: NEEDS_TOOLS,
            };

            /// The call as the table describes it.
            pub const INFO: $crate::CallInfo = $crate::CallInfo {
                name: NAME,
                proc_nr: PROC,
                kind: KIND,
                args: &[$($crate::ArgInfo { name: stringify!($arg), ty: stringify!($aty) }),*],
                opts: &[$($crate::ArgInfo { name: stringify!($opt), ty: stringify!($oty) }),*],
                ret: stringify!($ret),
                doc: concat!($($doc, "\n"),*),
                needs_root: NEEDS_ROOT,
                needs_tools: NEEDS_TOOLS,
                internal: $crate::generate_support::has_flag(FLAGS, "internal"),
                tests: TESTS,
            };

            /// This call as a type, for generic code.
            #[derive(Debug, Clone, Copy)]
            pub struct Call;

            impl $crate::Call for Call {
                type Args = Args;
                type Ret = Ret;
                const META: $crate::CallMeta = META;
                const INFO: $crate::CallInfo = INFO;
                fn read_args<S: $crate::ArgSource>(
                    #[allow(unused_variables)] source: &mut S,
                ) -> Result<Args, S::Error> {
                    Ok(Args {
                        $($arg: source.required::<$aty>(stringify!($arg))?,)*
                        $($opt: source.optional::<$oty>(stringify!($opt))?,)*
                    })
                }
                fn host<H: $crate::Handle + ?Sized>(
                    handle: &mut H,
                    args: &Args,
                ) -> Option<Result<Ret, H::Error>> {
                    $crate::__host_body!($kind $name handle args)
                }
                #[allow(unused_mut)]
                fn trace_args(#[allow(unused_variables)] args: &Args) -> String {
                    let mut line = String::new();
                    $(
                        line.push(' ');
                        line.push_str(&$crate::generate_support::trace_value(&args.$arg));
                    )*
                    $(
                        if let Some(value) = &args.$opt {
                            line.push_str(concat!(" ", stringify!($opt), ":"));
                            line.push_str(&$crate::generate_support::trace_value(value));
                        }
                    )*
                    line
                }
            }
        }
    )*};
}

/// Hands the table's call names to `$callback!` as `name name …`; with
/// [`Call`] that is all generic code needs:
/// `calls::$name::Call` is the call, its `INFO` describes it.
#[macro_export]
macro_rules! for_each_call_name {
    ($callback:path) => {
        $crate::for_each_call!($crate::__call_names, [$callback]);
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __call_names {
    ([$callback:path] $(
        $(#[doc = $doc:literal])*
        $proc:literal $kind:ident $name:ident ( $($arg:ident : $aty:ty),* )
        [ $($opt:ident : $oty:ty),* ] -> $ret:ty [ $($flag:ident),* ] $({ $($test:tt)* })?;
    )*) => {
        $callback! { $($name)* }
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __daemon_trait {
    ($(
        $(#[doc = $doc:literal])*
        $proc:literal $kind:ident $name:ident ( $($arg:ident : $aty:ty),* )
        [ $($opt:ident : $oty:ty),* ] -> $ret:ty [ $($flag:ident),* ] $({ $($test:tt)* })?;
    )*) => {
        /// The daemon side of every call: guest-init implements one method
        /// per daemon entry of the table (not `host` ones); [`dispatch`]
        /// decodes, checks and calls it.
        pub trait Daemon {
            /// Whether a guest filesystem is mounted on `/` (calls flagged
            /// `needs_root` are refused until then).
            fn root_mounted(&self) -> bool;
            $( $crate::__daemon_method! { $kind $name [$($doc)*] } )*
        }

        /// The handle side: the library's `Guest` implements one method per
        /// `host` entry of the table, so an entry without its
        /// implementation does not compile. Its generated `Guest` methods
        /// and generic callers ([`Call::host`]) go through it.
        pub trait Handle {
            /// What a host call fails with.
            type Error;
            $( $crate::__handle_method! { $kind $name [$($doc)*] } )*
        }

        /// Decodes a call's payload, runs it and encodes its result.
        /// `host` calls are not here: proc 0 is an unknown procedure.
        pub fn dispatch<D: Daemon + ?Sized>(
            daemon: &mut D,
            io: &mut dyn CallIo,
            proc_nr: u32,
            payload: &[u8],
        ) -> Result<Vec<u8>, ErrorReply> {
            $( $crate::__dispatch_arm! { $kind $proc $name daemon io proc_nr payload } )*
            Err(ErrorReply::new(
                ErrorKind::UnknownProcedure,
                format!("unknown procedure {proc_nr}: the appliance is older than the library (delete ~/.cache/libguest/appliance)"),
            ))
        }

        /// Every call in the table, in table order.
        pub static CALLS: &[CallInfo] = &[$(calls::$name::INFO),*];
    };
}

crate::for_each_call!(crate::__daemon_trait);

fn decode_error(call: &str, e: postcard::Error) -> ErrorReply {
    ErrorReply::new(
        ErrorKind::InvalidArgument,
        format!("the arguments of {call} do not decode or fail validation ({e})"),
    )
}

fn not_mounted(_call: &str) -> ErrorReply {
    ErrorReply::new(
        ErrorKind::NotMounted,
        String::from("no filesystem is mounted on /; call mount first (or use -i / inspect_os)"),
    )
}

fn encode<T: serde::Serialize>(call: &str, value: &T) -> Result<Vec<u8>, ErrorReply> {
    let bytes = postcard::to_allocvec(value).map_err(|e| {
        ErrorReply::new(ErrorKind::Other, format!("{call}: encoding the reply: {e}"))
    })?;
    // Over one frame it goes in parts (frame.rs); over MAX_REPLY not at all.
    if bytes.len() > crate::frame::MAX_REPLY {
        return Err(ErrorReply::new(
            ErrorKind::TooLarge,
            format!(
                "the result of {call} is {} bytes, over the {} MiB reply limit; use download or tar_out for large data",
                bytes.len(),
                crate::frame::MAX_REPLY >> 20
            ),
        ));
    }
    Ok(bytes)
}

/// A table type as `stringify!` spells it, tidied: `Vec < String >` to
/// `Vec<String>`.
pub fn tidy_type(ty: &str) -> String {
    ty.replace(" < ", "<")
        .replace("< ", "<")
        .replace(" >", ">")
        .replace(" ,", ",")
}

/// The API reference in Markdown, generated from the table.
pub fn docs_markdown() -> String {
    let mut out = String::from(
        "# libguest API\n\nGenerated from `protocol/src/table.rs` (do not edit; \
         `UPDATE_DOCS=1 cargo test -p libguest-protocol` rewrites it).\n\n\
         Each call is a `Guest` method and a `libguest` CLI command (with `-` or `_`).\n",
    );
    for c in CALLS.iter().filter(|c| !c.internal) {
        let args: Vec<String> = c
            .args
            .iter()
            .map(|a| format!("{}: {}", a.name, tidy_type(a.ty)))
            .collect();
        out.push_str(&format!(
            "\n## `{}`\n\n```text\n{}({})",
            c.name,
            c.name,
            args.join(", ")
        ));
        if !c.opts.is_empty() {
            let opts: Vec<String> = c
                .opts
                .iter()
                .map(|a| format!("{}: {}", a.name, tidy_type(a.ty)))
                .collect();
            out.push_str(&format!(" [{}]", opts.join(", ")));
        }
        out.push_str(&format!(
            " -> {}\n```\n\n{}\n",
            tidy_type(c.ret),
            c.doc.trim()
        ));
        let mut notes = Vec::new();
        match c.kind {
            CallKind::FileIn => notes.push("streams data from the host"),
            CallKind::FileOut => notes.push("streams data to the host"),
            CallKind::Plain => {}
            CallKind::Host => {
                out.push_str(
                    "\n*answered by the handle on the host; not sent to the appliance.*\n",
                );
                continue;
            }
        }
        if c.needs_root {
            notes.push("needs a filesystem mounted on /");
        }
        if !notes.is_empty() {
            out.push_str(&format!(
                "\n*{}; procedure {}.*\n",
                notes.join("; "),
                c.proc_nr
            ));
        } else {
            out.push_str(&format!("\n*procedure {}.*\n", c.proc_nr));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn procedure_numbers_and_names_are_unique() {
        let daemon_calls = || CALLS.iter().filter(|c| c.kind != CallKind::Host);
        let mut procs: Vec<u32> = daemon_calls().map(|c| c.proc_nr).collect();
        procs.sort_unstable();
        procs.dedup();
        assert_eq!(procs.len(), daemon_calls().count());
        assert!(!procs.contains(&0), "proc 0 is for host calls only");
        assert!(CALLS
            .iter()
            .filter(|c| c.kind == CallKind::Host)
            .all(|c| c.proc_nr == 0 && !c.needs_root && !c.needs_tools));
        let mut names: Vec<&str> = CALLS.iter().map(|c| c.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), CALLS.len());
        assert!(CALLS.iter().all(|c| !c.summary().is_empty()));
    }

    #[test]
    fn flags_and_kinds_come_from_the_table() {
        let ls = CallInfo::find("ls").unwrap();
        assert!(ls.needs_root && !ls.internal && ls.kind == CallKind::Plain);
        assert_eq!(CallInfo::find("tar-out").unwrap().kind, CallKind::FileOut);
        assert!(CallInfo::find("internal_poweroff").unwrap().internal);
        assert_eq!(calls::mount::PROC, 20);
        assert_eq!(CallInfo::find("umount").unwrap().opts.len(), 2);
        assert_eq!(CallInfo::find("set-memsize").unwrap().kind, CallKind::Host);
    }

    #[test]
    fn trace_lines_quote_strings_and_cut_long_values() {
        use crate::Call as _;
        let args = calls::umount::Args {
            pathordevice: "/dev/sda1".into(),
            force: Some(true),
            lazyunmount: None,
        };
        assert_eq!(
            calls::umount::Call::trace_args(&args),
            " \"/dev/sda1\" force:true"
        );
        let long = trace_value(&"é".repeat(300));
        assert!(long.len() <= TRACE_VALUE_MAX + '…'.len_utf8() && long.ends_with('…'));
    }

    #[test]
    fn keys_never_reach_a_trace() {
        use crate::Call as _;
        let args = calls::luks_add_key::Args {
            device: Device::new("/dev/sda2").unwrap(),
            key: Key::new("old secret"),
            newkey: Key::new(b"\xffnew".as_slice()),
            keyslot: 1,
        };
        let line = calls::luks_add_key::Call::trace_args(&args);
        assert_eq!(line, " Device(\"/dev/sda2\") *** *** 1");
        assert!(!format!("{args:?}").contains("secret"));
    }

    #[test]
    fn docs_are_current() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/api.md");
        let generated = docs_markdown();
        if std::env::var_os("UPDATE_DOCS").is_some() {
            std::fs::write(path, &generated).unwrap();
        }
        let committed = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            committed == generated,
            "docs/api.md is stale: run UPDATE_DOCS=1 cargo test -p libguest-protocol"
        );
    }
}
