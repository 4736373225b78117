"""libguest: create, inspect and edit virtual-machine disk images.

``Guest`` is a libguest handle with one method per call of the API table
(libguestfs's names, arguments and semantics; ``calls()`` lists them)::

    import libguest
    with libguest.Guest() as g:           # shut down (writes synced) on exit
        g.add_drive_opts("disk.img", readonly=True)
        g.launch()
        root = g.inspect_os()[0]
        g.mount_ro(root, "/")
        print(g.cat("/etc/hostname"))
        with open("syslog", "wb") as f:
            g.download("/var/log/syslog", f)  # a path or a file object

Results are plain Python values: structs are dicts, hashtables are dicts,
buffers are bytes. Errors are ``libguest.Error`` (a ``RuntimeError``),
with one subclass per kind (``NotFound``, ``ReadOnly``, ``Timeout``…) and
``errno`` where the guest's system call failed. The GIL is released for
the whole of every call, so threads can drive several handles at once.

For scripts written for libguestfs's binding, ``import libguest.guestfs
as guestfs`` gives its ``GuestFS`` class.
"""

from . import _native
from ._native import (  # noqa: F401  (the exception classes)
    AlreadyExists,
    ApplianceDied,
    ApplianceError,
    Cancelled,
    ClosedHandle,
    CommandFailed,
    DecryptError,
    DirectoryNotEmpty,
    DriveError,
    Error,
    GuestError,
    HostIoError,
    InvalidArgument,
    IsADirectory,
    NoSpace,
    NotADirectory,
    NotFound,
    NotMounted,
    PermissionDenied,
    ProtocolError,
    ReadOnly,
    StateError,
    Timeout,
    TooLarge,
)
from . import _generate

__version__ = _native.__version__

_HASHTABLE = "Vec<(String, String)>"


def calls():
    """Every call: a dict with its name, kind, args, opts, ret and doc."""
    return _native.calls()


def _converter(info):
    if info["ret"] == _HASHTABLE:
        return lambda _self, result: dict(result)
    return None


class Guest(_native.Guest):
    """A libguest handle: add drives, ``launch()``, call, ``shutdown()``.

    As a context manager it closes on exit (shutting the appliance down,
    so every write is in the images), also when the block raised.
    """

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        self.close()
        return False


_generate.add_methods(Guest, _converter, None)
