//! The host side of streaming calls: a host path, or a Python file
//! object. Upload-like calls (`file_in`) take a path or anything with
//! `read(n)`; download-like calls (`file_out`) a path or anything with
//! `write(b)`. A path to write is created without following a symlink
//! (the name may come from the guest), as the CLI does.
//!
//! The call runs without the GIL; a file object's method takes it back
//! for each chunk only.

use std::io::{self, Read, Write};
use std::path::PathBuf;

use protocol::FromValue;
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::args;

/// Where a `file_in` call's data comes from.
pub enum Input {
    File(std::fs::File),
    Object(Py<PyAny>),
}

/// Where a `file_out` call's data goes.
pub enum Output {
    File(io::BufWriter<std::fs::File>),
    Object(Py<PyAny>),
}

fn path(call: &str, obj: &Bound<'_, PyAny>) -> PyResult<PathBuf> {
    PathBuf::from_value(args::value(obj)?).map_err(|e| {
        pyo3::exceptions::PyTypeError::new_err(format!(
            "{call}(): the host file must be a path or a file object: {e}"
        ))
    })
}

fn host_io(call: &'static str, what: String, source: io::Error) -> libguest::Error {
    libguest::Error::HostIo { call, what, source }
}

impl Input {
    /// The data source `obj` names.
    pub fn open(
        call: &'static str,
        obj: &Bound<'_, PyAny>,
    ) -> PyResult<Result<Input, libguest::Error>> {
        if obj.hasattr("read")? {
            return Ok(Ok(Input::Object(obj.clone().unbind())));
        }
        let path = path(call, obj)?;
        Ok(std::fs::File::open(&path)
            .map(Input::File)
            .map_err(|e| host_io(call, format!("cannot open {}", path.display()), e)))
    }
}

impl Output {
    /// The data sink `obj` names.
    pub fn open(
        call: &'static str,
        obj: &Bound<'_, PyAny>,
    ) -> PyResult<Result<Output, libguest::Error>> {
        if obj.hasattr("write")? {
            return Ok(Ok(Output::Object(obj.clone().unbind())));
        }
        let path = path(call, obj)?;
        Ok(libguest::transfer::create_output(&path)
            .map(|f| Output::File(io::BufWriter::with_capacity(1 << 20, f)))
            .map_err(|e| host_io(call, format!("cannot create {}", path.display()), e)))
    }
}

fn python_io(e: PyErr) -> io::Error {
    io::Error::other(format!("the Python file object failed: {e}"))
}

impl Read for Input {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Input::File(f) => f.read(buf),
            Input::Object(obj) => Python::attach(|py| {
                let chunk = obj
                    .call_method1(py, "read", (buf.len(),))
                    .map_err(python_io)?;
                let chunk = chunk.bind(py);
                let data: Vec<u8> = match chunk.cast::<PyBytes>() {
                    Ok(bytes) => bytes.as_bytes().to_vec(),
                    Err(_) => chunk.extract::<Vec<u8>>().map_err(|_| {
                        io::Error::other("the file object's read() must return bytes")
                    })?,
                };
                if data.len() > buf.len() {
                    return Err(io::Error::other(
                        "the file object's read(n) returned more than n bytes",
                    ));
                }
                buf[..data.len()].copy_from_slice(&data);
                Ok(data.len())
            }),
        }
    }
}

impl Write for Output {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Output::File(f) => f.write(buf),
            Output::Object(obj) => Python::attach(|py| {
                obj.call_method1(py, "write", (PyBytes::new(py, buf),))
                    .map_err(python_io)?;
                Ok(buf.len())
            }),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Output::File(f) => f.flush(),
            Output::Object(obj) => Python::attach(|py| {
                if obj.bind(py).hasattr("flush").map_err(python_io)? {
                    obj.call_method0(py, "flush").map_err(python_io)?;
                }
                Ok(())
            }),
        }
    }
}
