//! Calls by name: one generic function, [`call`], instantiated for every
//! call of the table, and the name-to-function map Python uses.

use std::collections::HashMap;
use std::sync::LazyLock;

use libguest::Stream;
use protocol::{calls, Call, CallKind};
use pyo3::exceptions::{PyAttributeError, PyTypeError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};

use crate::args::PyArgs;
use crate::guest::Guest;
use crate::stream::{Input, Output};
use crate::{errors, ret};

/// One call's arguments from Python: the host file of a streaming call
/// (`stream`), the positional and the keyword arguments.
pub struct PyCall<'a, 'py> {
    pub stream: Option<&'a Bound<'py, PyAny>>,
    pub args: &'a Bound<'py, PyTuple>,
    pub kwargs: Option<&'a Bound<'py, PyDict>>,
}

type CallFn = for<'a, 'py> fn(&Guest, Python<'py>, PyCall<'a, 'py>) -> PyResult<Py<PyAny>>;

/// The kind's name in `calls()`.
pub fn kind_name(kind: CallKind) -> &'static str {
    match kind {
        CallKind::Plain => "call",
        CallKind::FileIn => "file_in",
        CallKind::FileOut => "file_out",
        CallKind::Host => "host",
    }
}

/// Runs call `C` on `guest`, without the GIL while it runs.
fn call<C: Call>(guest: &Guest, py: Python<'_>, given: PyCall<'_, '_>) -> PyResult<Py<PyAny>>
where
    C::Args: Send + Sync,
    C::Ret: Send + 'static,
{
    let name = C::META.name;
    let mut source = PyArgs::new(name, given.args, given.kwargs)?;
    let args = C::read_args(&mut source)?;
    source.finish(C::INFO.args.len() + C::INFO.opts.len())?;
    let streamed = matches!(C::INFO.kind, CallKind::FileIn | CallKind::FileOut);
    let host_file = match (streamed, given.stream) {
        (true, Some(obj)) => Some(obj),
        (true, None) => {
            return Err(PyTypeError::new_err(format!(
                "{name}() needs the host file (a path or a file object)"
            )))
        }
        (false, Some(_)) => {
            return Err(PyTypeError::new_err(format!(
                "{name}() does not stream a host file"
            )))
        }
        (false, None) => None,
    };
    let result = match (C::INFO.kind, host_file) {
        (CallKind::FileIn, Some(obj)) => match Input::open(name, obj)? {
            Ok(mut input) => guest.run(py, name, |g| g.call::<C>(&args, Stream::In(&mut input)))?,
            Err(e) => Err(e),
        },
        (CallKind::FileOut, Some(obj)) => match Output::open(name, obj)? {
            Ok(mut output) => guest.run(py, name, |g| {
                let ret = g.call::<C>(&args, Stream::Out(&mut output))?;
                std::io::Write::flush(&mut output).map_err(|source| libguest::Error::HostIo {
                    call: name,
                    what: "writing the host file".into(),
                    source,
                })?;
                Ok(ret)
            })?,
            Err(e) => Err(e),
        },
        _ => guest.run(py, name, |g| g.call::<C>(&args, Stream::None))?,
    };
    match result {
        Ok(value) => ret::to_python(py, &value),
        Err(e) => Err(errors::to_py(py, e)),
    }
}

macro_rules! by_name {
    ($($name:ident)*) => {
        /// Every call that Python exposes (not the internal ones), by name.
        static BY_NAME: LazyLock<HashMap<&'static str, CallFn>> = LazyLock::new(|| {
            [$((&calls::$name::INFO, call::<calls::$name::Call> as CallFn)),*]
                .into_iter()
                .filter(|(info, _)| !info.internal)
                .map(|(info, f)| (info.name, f))
                .collect()
        });
    };
}
protocol::for_each_call_name!(by_name);

/// The function for call `name`.
pub fn find(name: &str) -> PyResult<CallFn> {
    BY_NAME.get(name).copied().ok_or_else(|| {
        PyAttributeError::new_err(format!(
            "libguest has no call named {name:?} (see libguest.calls())"
        ))
    })
}
