//! The Python binding: `libguest._native`, the Rust half of the `libguest`
//! Python package. It exposes one generic entry point per handle
//! (`Guest._call(name, …)`) and the call list from the API table
//! (`calls()`); `libguest/__init__.py` turns that list into one method per
//! call, so a call added to the table appears in Python with no glue.
//!
//! Arguments and results cross as plain Python values: arguments through
//! [`protocol::Value`] and the table types' [`protocol::FromValue`],
//! results through a serde serializer into Python objects (`ret.rs`).
//! The GIL is released for the whole of every call (`guest.rs`).

mod args;
mod dispatch;
mod errors;
mod guest;
mod ret;
mod stream;

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

/// Every call of the API table that Python exposes (not the internal
/// ones): name, kind, arguments, optional arguments, result type, docs.
#[pyfunction]
fn calls(py: Python<'_>) -> PyResult<Bound<'_, PyList>> {
    let list = PyList::empty(py);
    for call in protocol::CALLS.iter().filter(|c| !c.internal) {
        let entry = PyDict::new(py);
        entry.set_item("name", call.name)?;
        entry.set_item("kind", dispatch::kind_name(call.kind))?;
        let names = |args: &[protocol::ArgInfo]| -> Vec<(&str, String)> {
            args.iter()
                .map(|a| (a.name, protocol::tidy_type(a.ty)))
                .collect()
        };
        entry.set_item("args", names(call.args))?;
        entry.set_item("opts", names(call.opts))?;
        entry.set_item("ret", protocol::tidy_type(call.ret))?;
        entry.set_item("doc", call.doc.trim())?;
        list.append(entry)?;
    }
    Ok(list)
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_class::<guest::Guest>()?;
    m.add_function(wrap_pyfunction!(calls, m)?)?;
    errors::register(m)?;
    Ok(())
}
