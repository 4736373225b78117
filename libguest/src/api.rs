//! The `Guest` methods, generated from the API table
//! (`protocol::for_each_call!`): one method per call, named as in
//! libguestfs. Arguments are checked on the host before anything is sent
//! (`Device`, absolute `Pathname`, …) and again by the daemon.
//!
//! Streaming calls take a host endpoint: a [`Source`] for `file_in` calls
//! (first argument, as libguestfs's `upload(filename, remotefilename)`),
//! a [`Sink`] for `file_out` calls (last argument, as `download`).

use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use protocol::calls;
#[allow(unused_imports)]
use protocol::types::*;

use crate::connection::Stream;
use crate::error::{Error, Result};
use crate::guest::Guest;

/// Where a `file_in` call's data comes from: a host file or any reader.
pub enum Source<'a> {
    /// A host file, opened for reading.
    Path(PathBuf),
    /// Any reader, read to its end.
    Reader(&'a mut dyn Read),
}

/// Where a `file_out` call's data goes: a host file (created or
/// truncated) or any writer. A path whose last component is a symbolic
/// link to a regular file is refused (the link may come from the guest,
/// by an earlier copy-out); one to a FIFO or device, such as
/// `/dev/stdout`, is written as named.
pub enum Sink<'a> {
    /// A host file, created or truncated.
    Path(PathBuf),
    /// Any writer.
    Writer(&'a mut dyn Write),
}

macro_rules! endpoint_from_paths {
    ($($ty:ty),*) => {$(
        impl From<$ty> for Source<'_> {
            fn from(p: $ty) -> Self {
                Source::Path(PathBuf::from(p))
            }
        }
        impl From<$ty> for Sink<'_> {
            fn from(p: $ty) -> Self {
                Sink::Path(PathBuf::from(p))
            }
        }
    )*};
}
endpoint_from_paths!(&str, &String, String, &Path, PathBuf, &PathBuf);

impl<'a, R: Read> From<&'a mut R> for Source<'a> {
    fn from(r: &'a mut R) -> Self {
        Source::Reader(r)
    }
}

impl<'a, W: Write> From<&'a mut W> for Sink<'a> {
    fn from(w: &'a mut W) -> Self {
        Sink::Writer(w)
    }
}

impl Source<'_> {
    fn with<T>(self, call: &'static str, f: impl FnOnce(&mut dyn Read) -> Result<T>) -> Result<T> {
        match self {
            Source::Reader(r) => f(r),
            Source::Path(path) => {
                let mut file = File::open(&path).map_err(|source| Error::HostIo {
                    call,
                    what: format!("cannot open {}", path.display()),
                    source,
                })?;
                f(&mut file)
            }
        }
    }
}

impl Sink<'_> {
    fn with<T>(self, call: &'static str, f: impl FnOnce(&mut dyn Write) -> Result<T>) -> Result<T> {
        match self {
            Sink::Writer(w) => f(w),
            Sink::Path(path) => {
                // Not through a symlink to a regular file: see create_output.
                let file =
                    crate::transfer::create_output(&path).map_err(|source| Error::HostIo {
                        call,
                        what: format!("cannot create {}", path.display()),
                        source,
                    })?;
                let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
                let value = f(&mut out)?;
                let file = out.into_inner().map_err(|e| Error::HostIo {
                    call,
                    what: format!("writing {}", path.display()),
                    source: e.into_error(),
                })?;
                // A pipe or terminal (`/dev/stdout`) cannot be synced.
                if file.metadata().is_ok_and(|m| m.is_file()) {
                    file.sync_all().map_err(|source| Error::HostIo {
                        call,
                        what: format!("syncing {}", path.display()),
                        source,
                    })?;
                }
                Ok(value)
            }
        }
    }
}

fn arg<T>(call: &'static str, value: impl IntoArg<T>) -> Result<T> {
    value.into_arg().map_err(|e| Error::InvalidArgument {
        call,
        message: e.to_string(),
    })
}

/// One `impl Guest` method per table entry; munches the table one entry
/// at a time because the method's shape depends on the call's kind and on
/// whether it has optional arguments.
macro_rules! guest_methods {
    () => {};
    (
        $(#[doc = $doc:literal])*
        $proc:literal host $name:ident ( $($arg:ident : $aty:ty),* )
        [] -> $ret:ty [ $($flag:ident),* ] $({ $($test:tt)* })?;
        $($rest:tt)*
    ) => {
        $(#[doc = $doc])*
        ///
        /// Answered by the handle on the host (see `guest/handle.rs`).
        #[allow(non_snake_case)] // libguestfs names: mkswap_L, mkswap_U
        pub fn $name(&mut self, $($arg: impl IntoArg<$aty>),*) -> Result<$ret> {
            let args = calls::$name::Args { $($arg: arg(stringify!($name), $arg)?,)* };
            self.host_call::<calls::$name::Call>(&args)
        }
        guest_methods! { $($rest)* }
    };
    (
        $(#[doc = $doc:literal])*
        $proc:literal host $name:ident ( $($arg:ident : $aty:ty),* )
        [ $($opt:ident : $oty:ty),+ ] -> $ret:ty [ $($flag:ident),* ] $({ $($test:tt)* })?;
        $($rest:tt)*
    ) => {
        $(#[doc = $doc])*
        ///
        #[doc = concat!("Answered by the handle on the host. Optional arguments: [`calls::", stringify!($name), "::Opts`] (or anything that converts into it).")]
        #[allow(non_snake_case)] // libguestfs names: mkswap_L, mkswap_U
        pub fn $name(
            &mut self,
            $($arg: impl IntoArg<$aty>,)*
            opts: impl Into<calls::$name::Opts>,
        ) -> Result<$ret> {
            let opts = opts.into();
            let args = calls::$name::Args {
                $($arg: arg(stringify!($name), $arg)?,)*
                $($opt: opts.$opt,)+
            };
            self.host_call::<calls::$name::Call>(&args)
        }
        guest_methods! { $($rest)* }
    };
    (
        $(#[doc = $doc:literal])*
        $proc:literal call $name:ident ( $($arg:ident : $aty:ty),* )
        [] -> $ret:ty [ $($flag:ident),* ] $({ $($test:tt)* })?;
        $($rest:tt)*
    ) => {
        $(#[doc = $doc])*
        #[allow(non_snake_case)] // libguestfs names: mkswap_L, mkswap_U
        pub fn $name(&mut self, $($arg: impl IntoArg<$aty>),*) -> Result<$ret> {
            let args = calls::$name::Args { $($arg: arg(stringify!($name), $arg)?,)* };
            self.call::<calls::$name::Call>(&args, Stream::None)
        }
        guest_methods! { $($rest)* }
    };
    (
        $(#[doc = $doc:literal])*
        $proc:literal call $name:ident ( $($arg:ident : $aty:ty),* )
        [ $($opt:ident : $oty:ty),+ ] -> $ret:ty [ $($flag:ident),* ] $({ $($test:tt)* })?;
        $($rest:tt)*
    ) => {
        $(#[doc = $doc])*
        ///
        #[doc = concat!("Optional arguments: [`calls::", stringify!($name), "::Opts`].")]
        #[allow(non_snake_case)] // libguestfs names: mkswap_L, mkswap_U
        pub fn $name(
            &mut self,
            $($arg: impl IntoArg<$aty>,)*
            opts: calls::$name::Opts,
        ) -> Result<$ret> {
            let args = calls::$name::Args {
                $($arg: arg(stringify!($name), $arg)?,)*
                $($opt: opts.$opt,)+
            };
            self.call::<calls::$name::Call>(&args, Stream::None)
        }
        guest_methods! { $($rest)* }
    };
    (
        $(#[doc = $doc:literal])*
        $proc:literal file_in $name:ident ( $($arg:ident : $aty:ty),* )
        [] -> $ret:ty [ $($flag:ident),* ] $({ $($test:tt)* })?;
        $($rest:tt)*
    ) => {
        $(#[doc = $doc])*
        ///
        /// `from` is a host path or a reader.
        #[allow(non_snake_case)] // libguestfs names: mkswap_L, mkswap_U
        pub fn $name<'s>(
            &mut self,
            from: impl Into<Source<'s>>,
            $($arg: impl IntoArg<$aty>,)*
        ) -> Result<$ret> {
            let args = calls::$name::Args { $($arg: arg(stringify!($name), $arg)?,)* };
            from.into().with(calls::$name::NAME, |r| {
                self.call::<calls::$name::Call>(&args, Stream::In(r))
            })
        }
        guest_methods! { $($rest)* }
    };
    (
        $(#[doc = $doc:literal])*
        $proc:literal file_out $name:ident ( $($arg:ident : $aty:ty),* )
        [] -> $ret:ty [ $($flag:ident),* ] $({ $($test:tt)* })?;
        $($rest:tt)*
    ) => {
        $(#[doc = $doc])*
        ///
        /// `to` is a host path (created or truncated) or a writer.
        #[allow(non_snake_case)] // libguestfs names: mkswap_L, mkswap_U
        pub fn $name<'s>(
            &mut self,
            $($arg: impl IntoArg<$aty>,)*
            to: impl Into<Sink<'s>>,
        ) -> Result<$ret> {
            let args = calls::$name::Args { $($arg: arg(stringify!($name), $arg)?,)* };
            to.into().with(calls::$name::NAME, |w| {
                self.call::<calls::$name::Call>(&args, Stream::Out(w))
            })
        }
        guest_methods! { $($rest)* }
    };
    (
        $(#[doc = $doc:literal])*
        $proc:literal file_in $name:ident ( $($arg:ident : $aty:ty),* )
        [ $($opt:ident : $oty:ty),+ ] -> $ret:ty [ $($flag:ident),* ] $({ $($test:tt)* })?;
        $($rest:tt)*
    ) => {
        $(#[doc = $doc])*
        ///
        #[doc = concat!("`from` is a host path or a reader. Optional arguments: [`calls::", stringify!($name), "::Opts`].")]
        #[allow(non_snake_case)] // libguestfs names: mkswap_L, mkswap_U
        pub fn $name<'s>(
            &mut self,
            from: impl Into<Source<'s>>,
            $($arg: impl IntoArg<$aty>,)*
            opts: calls::$name::Opts,
        ) -> Result<$ret> {
            let args = calls::$name::Args {
                $($arg: arg(stringify!($name), $arg)?,)*
                $($opt: opts.$opt,)+
            };
            from.into().with(calls::$name::NAME, |r| {
                self.call::<calls::$name::Call>(&args, Stream::In(r))
            })
        }
        guest_methods! { $($rest)* }
    };
    (
        $(#[doc = $doc:literal])*
        $proc:literal file_out $name:ident ( $($arg:ident : $aty:ty),* )
        [ $($opt:ident : $oty:ty),+ ] -> $ret:ty [ $($flag:ident),* ] $({ $($test:tt)* })?;
        $($rest:tt)*
    ) => {
        $(#[doc = $doc])*
        ///
        #[doc = concat!("`to` is a host path (created or truncated) or a writer. Optional arguments: [`calls::", stringify!($name), "::Opts`].")]
        #[allow(non_snake_case)] // libguestfs names: mkswap_L, mkswap_U
        pub fn $name<'s>(
            &mut self,
            $($arg: impl IntoArg<$aty>,)*
            to: impl Into<Sink<'s>>,
            opts: calls::$name::Opts,
        ) -> Result<$ret> {
            let args = calls::$name::Args {
                $($arg: arg(stringify!($name), $arg)?,)*
                $($opt: opts.$opt,)+
            };
            to.into().with(calls::$name::NAME, |w| {
                self.call::<calls::$name::Call>(&args, Stream::Out(w))
            })
        }
        guest_methods! { $($rest)* }
    };
}

/// The API calls. Each returns the daemon's errors mapped to typed
/// [`Error`] variants; see `docs/api.md` for the full list.
impl Guest {
    protocol::for_each_call!(guest_methods);
}
