//! Python arguments to table arguments: each object becomes a
//! [`Value`] by its Python type alone, then the table type takes it with
//! [`protocol::FromValue`] (`readonly=1` is a bool there, as in
//! libguestfs's binding). Positional arguments fill the required ones in
//! table order, then the optional ones; keywords name either. `None` for an
//! optional argument leaves it unset.

use std::collections::VecDeque;

use protocol::{ArgSource, ArgType, Value, ValueError};
use pyo3::exceptions::{PyOverflowError, PyTypeError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyByteArray, PyBytes, PyDict, PyInt, PyList, PyString, PyTuple};

use crate::errors;

/// Deepest list nesting taken from Python (the table has none past one).
const MAX_DEPTH: usize = 4;

/// A Python object as a [`Value`], by its type: `None`, `bool`, `int`,
/// `str`, `bytes`/`bytearray`, `list`/`tuple`, or an `os.PathLike`.
pub fn value(obj: &Bound<'_, PyAny>) -> PyResult<Value> {
    value_at(obj, 0)
}

fn value_at(obj: &Bound<'_, PyAny>, depth: usize) -> PyResult<Value> {
    if depth > MAX_DEPTH {
        return Err(PyTypeError::new_err("lists nested too deeply"));
    }
    if obj.is_none() {
        Ok(Value::Null)
    } else if obj.is_instance_of::<PyBool>() {
        Ok(Value::Bool(obj.is_truthy()?))
    } else if obj.is_instance_of::<PyInt>() {
        obj.extract::<i64>()
            .map(Value::Int)
            .map_err(|_| PyOverflowError::new_err("integer out of range for a 64-bit argument"))
    } else if obj.is_instance_of::<PyString>() {
        Ok(Value::Str(obj.extract::<String>()?))
    } else if let Ok(bytes) = obj.cast::<PyBytes>() {
        Ok(Value::Bytes(bytes.as_bytes().to_vec()))
    } else if let Ok(array) = obj.cast::<PyByteArray>() {
        Ok(Value::Bytes(array.to_vec()))
    } else if obj.is_instance_of::<PyList>() || obj.is_instance_of::<PyTuple>() {
        obj.try_iter()?
            .map(|item| value_at(&item?, depth + 1))
            .collect::<PyResult<_>>()
            .map(Value::List)
    } else if obj.hasattr("__fspath__")? {
        value_at(&obj.call_method0("__fspath__")?, depth + 1)
    } else {
        let ty = obj.get_type().name()?;
        Err(PyTypeError::new_err(format!(
            "unsupported argument type {ty} (use str, bytes, int, bool, a list or None)"
        )))
    }
}

/// Why the arguments do not fit the call.
pub enum ArgProblem {
    /// Missing, extra or of the wrong type: Python's `TypeError`.
    Type(String),
    /// The right type but not a valid value: libguest's `InvalidArgument`.
    Invalid(String),
}

impl From<ArgProblem> for PyErr {
    fn from(problem: ArgProblem) -> PyErr {
        match problem {
            ArgProblem::Type(message) => PyTypeError::new_err(message),
            ArgProblem::Invalid(message) => errors::invalid_argument(message),
        }
    }
}

/// A call's Python arguments, taken by [`protocol::Call::read_args`].
pub struct PyArgs {
    call: &'static str,
    positional: VecDeque<Value>,
    given: usize,
    named: Vec<(String, Value)>,
}

impl PyArgs {
    /// The arguments of one call of `call`.
    pub fn new(
        call: &'static str,
        args: &Bound<'_, PyTuple>,
        kwargs: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<PyArgs> {
        let positional: VecDeque<Value> =
            args.iter().map(|a| value(&a)).collect::<PyResult<_>>()?;
        let mut named = Vec::new();
        for (key, item) in kwargs.into_iter().flat_map(|k| k.iter()) {
            named.push((key.extract::<String>()?, value(&item)?));
        }
        Ok(PyArgs {
            call,
            given: positional.len(),
            positional,
            named,
        })
    }

    /// Refuses what no argument took; `most` is how many a call takes.
    pub fn finish(self, most: usize) -> Result<(), ArgProblem> {
        let call = self.call;
        if !self.positional.is_empty() {
            return Err(ArgProblem::Type(format!(
                "{call}() takes at most {most} positional argument{} but {} were given",
                if most == 1 { "" } else { "s" },
                self.given
            )));
        }
        if let Some((name, _)) = self.named.first() {
            return Err(ArgProblem::Type(format!(
                "{call}() got an unexpected keyword argument '{name}'"
            )));
        }
        Ok(())
    }

    fn take_named(&mut self, name: &str) -> Option<Value> {
        let at = self.named.iter().position(|(n, _)| n == name)?;
        Some(self.named.remove(at).1)
    }

    fn convert<T: ArgType>(&self, name: &str, value: Value) -> Result<T, ArgProblem> {
        T::from_value(value).map_err(|e: ValueError| {
            let message = format!("{}() argument '{name}': {e}", self.call);
            if e.is_wrong_kind() {
                ArgProblem::Type(message)
            } else {
                ArgProblem::Invalid(format!("{}: {name}: {e}", self.call))
            }
        })
    }
}

impl ArgSource for PyArgs {
    type Error = ArgProblem;

    fn required<T: ArgType>(&mut self, name: &'static str) -> Result<T, ArgProblem> {
        let value = match self.positional.pop_front() {
            Some(value) => value,
            None => self.take_named(name).ok_or_else(|| {
                ArgProblem::Type(format!(
                    "{}() missing required argument '{name}'",
                    self.call
                ))
            })?,
        };
        self.convert(name, value)
    }

    /// Positional arguments past the required ones fill the optional ones
    /// in table order, as libguestfs's binding allows.
    fn optional<T: ArgType>(&mut self, name: &'static str) -> Result<Option<T>, ArgProblem> {
        let value = match self.positional.pop_front() {
            Some(value) => Some(value),
            None => self.take_named(name),
        };
        match value {
            None | Some(Value::Null) => Ok(None),
            Some(value) => self.convert(name, value).map(Some),
        }
    }
}
