//! libguest's errors as Python exceptions: `libguest.Error`, a
//! `RuntimeError` (what libguestfs's binding raises, so its scripts'
//! `except RuntimeError` still works), with one subclass per
//! [`libguest::Error`] variant. The message is the error's text
//! (`call: what went wrong, and what to do`); `errno` is set where the
//! guest's system call failed (`guestfs_last_errno`), else `None`.

use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;

pyo3::create_exception!(
    libguest,
    Error,
    PyRuntimeError,
    "A libguest call failed; the message says why and what to do."
);
pyo3::create_exception!(
    libguest,
    ClosedHandle,
    PyValueError,
    "The handle was closed."
);

/// One Python class per variant: `(class, its variants)`.
macro_rules! variants {
    ($($class:ident: $doc:literal => $($variant:ident)|+;)*) => {
        $(pyo3::create_exception!(libguest, $class, Error, $doc);)*

        fn exception_for(py: Python<'_>, e: &libguest::Error, message: String) -> PyErr {
            match e {
                $($(libguest::Error::$variant { .. })|+ => $class::new_err(message),)*
                _ => { let _ = py; Error::new_err(message) }
            }
        }

        /// Adds the exception classes to the module.
        pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
            let py = m.py();
            m.add("Error", py.get_type::<Error>())?;
            m.add("ClosedHandle", py.get_type::<ClosedHandle>())?;
            $(m.add(stringify!($class), py.get_type::<$class>())?;)*
            Ok(())
        }
    };
}

variants! {
    ApplianceError: "The appliance (kernel, initramfs, tools layer, cache) cannot be had." => Appliance | Tools | Vmm | BackendVar | Qemu | QemuIo;
    DecryptError: "No key opened an encrypted device." => Decrypt;
    ApplianceDied: "The appliance panicked, stopped or was killed." => KernelPanic | GuestDied | Killed;
    Timeout: "The appliance did not become ready, answer or power off in time." => LaunchTimeout | ShutdownTimeout | CallTimeout;
    StateError: "The call does not fit the handle's state (before or after launch)." => State;
    DriveError: "A disk image cannot be added or opened." => Drive;
    NotFound: "No such file or directory in the guest (ENOENT)." => NotFound;
    PermissionDenied: "Permission denied in the guest (EACCES)." => PermissionDenied;
    ReadOnly: "The drive or mount is read-only (EROFS)." => ReadOnly;
    AlreadyExists: "The file exists (EEXIST)." => AlreadyExists;
    NotADirectory: "Not a directory (ENOTDIR)." => NotADirectory;
    IsADirectory: "Is a directory (EISDIR)." => IsADirectory;
    DirectoryNotEmpty: "Directory not empty (ENOTEMPTY)." => DirectoryNotEmpty;
    NoSpace: "The guest filesystem is full (ENOSPC)." => NoSpace;
    InvalidArgument: "An argument is not valid for the call (EINVAL)." => InvalidArgument;
    NotMounted: "The call needs a filesystem mounted on /." => NotMounted;
    Cancelled: "The call was cancelled (user_cancel)." => Cancelled;
    TooLarge: "A result or argument is larger than the protocol carries." => TooLarge;
    CommandFailed: "A guest command or tool failed." => CommandFailed;
    GuestError: "Any other failure reported by the appliance." => Guest;
    HostIoError: "Reading or writing a file on this machine failed." => HostIo | Transfer;
    ProtocolError: "The appliance's reply broke the protocol." => Protocol;
}

/// `e` as the Python exception of its variant, with `errno` set.
pub fn to_py(py: Python<'_>, e: libguest::Error) -> PyErr {
    let err = exception_for(py, &e, e.to_string());
    // Setting an attribute on a fresh exception instance cannot fail in
    // a way worth more than the error being reported.
    let _ = err.value(py).setattr("errno", e.errno());
    err
}

/// An argument of the right type but a wrong value.
pub fn invalid_argument(message: String) -> PyErr {
    InvalidArgument::new_err(message)
}

/// A call on a closed handle.
pub fn closed(call: &str) -> PyErr {
    ClosedHandle::new_err(format!("{call}: method called on closed handle"))
}
