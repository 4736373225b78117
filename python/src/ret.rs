//! Call results as Python objects, through the results' `Serialize`:
//! structs become dicts keyed by field name, lists lists, tuples tuples,
//! `()` and `None` become `None`, byte buffers `bytes`. Written here
//! rather than taken from `pythonize` because that crate turns a
//! `Vec<u8>` into a list of ints, and libguestfs's binding returns bytes.

use std::any::Any;

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList, PyTuple};
use pyo3::IntoPyObjectExt;
use serde::ser::{self, Serialize};

/// `value` as a Python object.
pub fn to_python<T: Serialize + 'static>(py: Python<'_>, value: &T) -> PyResult<Py<PyAny>> {
    // A top-level buffer (read_file, pread): serde sees only a sequence.
    if let Some(bytes) = (value as &dyn Any).downcast_ref::<Vec<u8>>() {
        return Ok(PyBytes::new(py, bytes).into_any().unbind());
    }
    value.serialize(ToPython { py }).map_err(|e| e.0)
}

/// A Python error as serde's.
#[derive(Debug)]
pub struct RetError(PyErr);

impl std::fmt::Display for RetError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for RetError {}

impl ser::Error for RetError {
    fn custom<M: std::fmt::Display>(message: M) -> RetError {
        RetError(PyValueError::new_err(message.to_string()))
    }
}

impl From<PyErr> for RetError {
    fn from(e: PyErr) -> RetError {
        RetError(e)
    }
}

type Out = Result<Py<PyAny>, RetError>;

#[derive(Clone, Copy)]
struct ToPython<'py> {
    py: Python<'py>,
}

impl ToPython<'_> {
    fn object<T: for<'a> IntoPyObject<'a>>(self, value: T) -> Out {
        Ok(value.into_py_any(self.py)?)
    }
}

/// Items of a list, tuple or struct variant.
struct Items<'py> {
    py: Python<'py>,
    items: Vec<Py<PyAny>>,
    tuple: bool,
}

impl Items<'_> {
    fn push<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), RetError> {
        self.items.push(value.serialize(ToPython { py: self.py })?);
        Ok(())
    }

    fn finish(self) -> Out {
        Ok(if self.tuple {
            PyTuple::new(self.py, self.items)?.into_any().unbind()
        } else {
            PyList::new(self.py, self.items)?.into_any().unbind()
        })
    }
}

impl ser::SerializeSeq for Items<'_> {
    type Ok = Py<PyAny>;
    type Error = RetError;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), RetError> {
        self.push(value)
    }
    fn end(self) -> Out {
        self.finish()
    }
}

impl ser::SerializeTuple for Items<'_> {
    type Ok = Py<PyAny>;
    type Error = RetError;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), RetError> {
        self.push(value)
    }
    fn end(self) -> Out {
        self.finish()
    }
}

impl ser::SerializeTupleStruct for Items<'_> {
    type Ok = Py<PyAny>;
    type Error = RetError;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), RetError> {
        self.push(value)
    }
    fn end(self) -> Out {
        self.finish()
    }
}

impl ser::SerializeTupleVariant for Items<'_> {
    type Ok = Py<PyAny>;
    type Error = RetError;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), RetError> {
        self.push(value)
    }
    fn end(self) -> Out {
        self.finish()
    }
}

/// A dict being filled: a map or a struct.
struct Dict<'py> {
    py: Python<'py>,
    dict: Bound<'py, PyDict>,
    key: Option<Py<PyAny>>,
}

impl ser::SerializeMap for Dict<'_> {
    type Ok = Py<PyAny>;
    type Error = RetError;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), RetError> {
        self.key = Some(key.serialize(ToPython { py: self.py })?);
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), RetError> {
        let key = self
            .key
            .take()
            .ok_or_else(|| <RetError as ser::Error>::custom("a map value without its key"))?;
        self.dict
            .set_item(key, value.serialize(ToPython { py: self.py })?)?;
        Ok(())
    }
    fn end(self) -> Out {
        Ok(self.dict.into_any().unbind())
    }
}

impl ser::SerializeStruct for Dict<'_> {
    type Ok = Py<PyAny>;
    type Error = RetError;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), RetError> {
        self.dict
            .set_item(key, value.serialize(ToPython { py: self.py })?)?;
        Ok(())
    }
    fn end(self) -> Out {
        Ok(self.dict.into_any().unbind())
    }
}

impl ser::SerializeStructVariant for Dict<'_> {
    type Ok = Py<PyAny>;
    type Error = RetError;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), RetError> {
        ser::SerializeStruct::serialize_field(self, key, value)
    }
    fn end(self) -> Out {
        Ok(self.dict.into_any().unbind())
    }
}

impl<'py> ser::Serializer for ToPython<'py> {
    type Ok = Py<PyAny>;
    type Error = RetError;
    type SerializeSeq = Items<'py>;
    type SerializeTuple = Items<'py>;
    type SerializeTupleStruct = Items<'py>;
    type SerializeTupleVariant = Items<'py>;
    type SerializeMap = Dict<'py>;
    type SerializeStruct = Dict<'py>;
    type SerializeStructVariant = Dict<'py>;

    fn serialize_bool(self, v: bool) -> Out {
        self.object(v)
    }
    fn serialize_i8(self, v: i8) -> Out {
        self.object(v)
    }
    fn serialize_i16(self, v: i16) -> Out {
        self.object(v)
    }
    fn serialize_i32(self, v: i32) -> Out {
        self.object(v)
    }
    fn serialize_i64(self, v: i64) -> Out {
        self.object(v)
    }
    fn serialize_u8(self, v: u8) -> Out {
        self.object(v)
    }
    fn serialize_u16(self, v: u16) -> Out {
        self.object(v)
    }
    fn serialize_u32(self, v: u32) -> Out {
        self.object(v)
    }
    fn serialize_u64(self, v: u64) -> Out {
        self.object(v)
    }
    fn serialize_f32(self, v: f32) -> Out {
        self.object(v)
    }
    fn serialize_f64(self, v: f64) -> Out {
        self.object(v)
    }
    fn serialize_char(self, v: char) -> Out {
        self.object(v)
    }
    fn serialize_str(self, v: &str) -> Out {
        self.object(v)
    }
    fn serialize_bytes(self, v: &[u8]) -> Out {
        Ok(PyBytes::new(self.py, v).into_any().unbind())
    }
    fn serialize_none(self) -> Out {
        Ok(self.py.None())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Out {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Out {
        Ok(self.py.None())
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Out {
        Ok(self.py.None())
    }
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Out {
        self.object(variant)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Out {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Out {
        let dict = PyDict::new(self.py);
        dict.set_item(variant, value.serialize(self)?)?;
        Ok(dict.into_any().unbind())
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<Items<'py>, RetError> {
        Ok(Items {
            py: self.py,
            items: Vec::with_capacity(len.unwrap_or(0).min(1 << 16)),
            tuple: false,
        })
    }
    fn serialize_tuple(self, len: usize) -> Result<Items<'py>, RetError> {
        Ok(Items {
            py: self.py,
            items: Vec::with_capacity(len),
            tuple: true,
        })
    }
    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        len: usize,
    ) -> Result<Items<'py>, RetError> {
        self.serialize_tuple(len)
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        len: usize,
    ) -> Result<Items<'py>, RetError> {
        self.serialize_tuple(len)
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<Dict<'py>, RetError> {
        Ok(Dict {
            py: self.py,
            dict: PyDict::new(self.py),
            key: None,
        })
    }
    fn serialize_struct(self, _name: &'static str, _len: usize) -> Result<Dict<'py>, RetError> {
        self.serialize_map(None)
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Dict<'py>, RetError> {
        self.serialize_map(None)
    }
}
