//! The handle as a Python class. Calls on one handle from several
//! threads take turns (a mutex, waited for without the GIL); calls on
//! different handles run at once.

use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard};

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};

use crate::dispatch::{self, PyCall};
use crate::errors;

/// A libguest handle: `libguest.Guest` adds one method per API call.
#[pyclass(subclass, module = "libguest._native")]
pub struct Guest {
    inner: Mutex<Option<libguest::Guest>>,
}

impl Guest {
    fn lock(&self) -> MutexGuard<'_, Option<libguest::Guest>> {
        // A call that panicked poisons nothing worth refusing the handle for.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Runs `f` on the handle with the GIL released. The outer error is
    /// a closed handle; the inner one the call's.
    pub fn run<T: Send>(
        &self,
        py: Python<'_>,
        call: &str,
        f: impl FnOnce(&mut libguest::Guest) -> libguest::Result<T> + Send,
    ) -> PyResult<libguest::Result<T>> {
        py.detach(|| self.lock().as_mut().map(f))
            .ok_or_else(|| errors::closed(call))
    }

    fn run_py<T: Send>(
        &self,
        py: Python<'_>,
        call: &str,
        f: impl FnOnce(&mut libguest::Guest) -> libguest::Result<T> + Send,
    ) -> PyResult<T> {
        self.run(py, call, f)?.map_err(|e| errors::to_py(py, e))
    }
}

#[pymethods]
impl Guest {
    /// A new handle, with no drives; `LIBGUEST_*` variables are read as
    /// `Guest::new` reads them.
    #[new]
    fn new(py: Python<'_>) -> PyResult<Guest> {
        let g = py
            .detach(libguest::Guest::new)
            .map_err(|e| errors::to_py(py, e))?;
        Ok(Guest {
            inner: Mutex::new(Some(g)),
        })
    }

    /// Runs the API call `name`: the generated methods call this.
    #[pyo3(signature = (name, stream, args, kwargs=None))]
    fn _call(
        &self,
        py: Python<'_>,
        name: &str,
        stream: Option<Bound<'_, PyAny>>,
        args: Bound<'_, PyTuple>,
        kwargs: Option<Bound<'_, PyDict>>,
    ) -> PyResult<Py<PyAny>> {
        let f = dispatch::find(name)?;
        f(
            self,
            py,
            PyCall {
                stream: stream.as_ref(),
                args: &args,
                kwargs: kwargs.as_ref(),
            },
        )
    }

    /// Copies a host file or directory (recursively) into the guest
    /// directory `remotedir`, as libguestfs's copy_in.
    fn copy_in(&self, py: Python<'_>, localpath: PathBuf, remotedir: String) -> PyResult<()> {
        self.run_py(py, "copy_in", |g| g.copy_in(&localpath, &remotedir))
    }

    /// Copies a guest file or directory (recursively) into the host
    /// directory `localdir`, as libguestfs's copy_out; nothing is written
    /// outside `localdir`.
    fn copy_out(&self, py: Python<'_>, remotepath: String, localdir: PathBuf) -> PyResult<()> {
        self.run_py(py, "copy_out", |g| g.copy_out(&remotepath, &localdir))
    }

    /// Shuts the appliance down (every write reaches the images) and
    /// closes the handle; later calls raise ClosedHandle. Closing twice
    /// does nothing.
    fn close(&self, py: Python<'_>) -> PyResult<()> {
        let taken = py.detach(|| self.lock().take());
        let Some(mut g) = taken else {
            return Ok(());
        };
        let result = py.detach(move || {
            let result = g.shutdown();
            drop(g);
            result
        });
        result.map_err(|e| errors::to_py(py, e))
    }

    /// Whether close() was called.
    #[getter]
    fn closed(&self, py: Python<'_>) -> bool {
        py.detach(|| self.lock().is_none())
    }
}
