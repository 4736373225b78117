"""libguestfs's Python binding on libguest: a script written for
``import guestfs`` runs after ``import libguest.guestfs as guestfs``.

As in libguestfs:

- ``GuestFS(python_return_dict=False, environment=True,
  close_on_exit=True)``; hashtables are lists of ``(key, value)`` tuples
  unless ``python_return_dict=True``, then dicts;
- optional arguments are keyword arguments (or positional, after the
  required ones); structs are dicts, lists are lists, buffers are bytes;
- errors are ``RuntimeError`` with libguestfs-style messages
  (``call: message``); ``ClosedHandle`` (a ``ValueError``) after
  ``close()``; wrong argument types are ``TypeError``;
- ``add_drive`` takes the optional arguments of ``add_drive_opts``.

Differences: ``environment=False`` changes nothing, because libguest reads
its own ``LIBGUEST_*`` variables, never ``LIBGUESTFS_*``; only local
files can be added (``protocol="file"``), on libguest's virtio-scsi
(``iface`` is accepted and ignored, as libguestfs ignores it on its own
direct backend's default). Event callbacks are not available.
"""

import atexit
import weakref

from . import _generate, _native
from ._native import ClosedHandle  # noqa: F401

# Calls whose libguestfs result is a hashtable but whose table result is
# a list of two-field structs: (key field, value field).
_HASHTABLE_STRUCTS = {
    "inspect_get_mountpoints": ("mountpoint", "device"),
    "mountpoints": ("device", "mountpoint"),
    "list_filesystems": ("device", "fstype"),
}
_HASHTABLE = "Vec<(String, String)>"

# add_drive_opts arguments libguestfs has and libguest's table has not,
# and the values with the same meaning here.
_DRIVE_HINTS = {
    # libguest always writes back and flushes before shutdown() returns:
    # what "writeback" promises, and more than "unsafe" needs.
    "cachemode": ("writeback", "unsafe"),
    # Discard requests are passed to the image where it can punch holes;
    # "disable" and "besteffort" both hold for that.
    "discard": ("disable", "besteffort", "enable"),
    "protocol": ("file",),
}
_DRIVE_IGNORED = ("iface", "name", "copyonread")


class GuestFS(object):
    """A libguestfs-style handle over a libguest one."""

    def __init__(self, python_return_dict=False, environment=True, close_on_exit=True):
        self._python_return_dict = bool(python_return_dict)
        self._g = _native.Guest()
        if close_on_exit:
            ref = weakref.ref(self)
            atexit.register(lambda: ref() is not None and ref().close())

    def __del__(self):
        g = self.__dict__.get("_g")
        if g is not None:
            g.close()

    def close(self):
        """Closes the handle: shuts the appliance down, syncing writes."""
        self._g.close()

    def _native(self):
        if self._g.closed:
            raise ClosedHandle("GuestFS: method called on closed handle")
        return self._g

    def add_drive_opts(self, filename, readonly=None, format=None, iface=None,
                       name=None, label=None, protocol=None, server=None,
                       username=None, secret=None, cachemode=None,
                       discard=None, copyonread=None, blocksize=None):
        """Adds a disk image (libguestfs's add_drive_opts)."""
        given = {"cachemode": cachemode, "discard": discard, "protocol": protocol}
        for arg, value in given.items():
            if value is not None and value not in _DRIVE_HINTS[arg]:
                raise RuntimeError(
                    "add_drive_opts: %s=%r is not available in libguest (use one of %s)"
                    % (arg, value, ", ".join(_DRIVE_HINTS[arg])))
        if server or username or secret:
            raise RuntimeError(
                "add_drive_opts: network drives (server, username, secret) are not "
                "available in libguest: copy the image to a local file")
        opts = {"readonly": readonly, "format": format, "label": label,
                "blocksize": blocksize}
        opts = {k: v for k, v in opts.items() if v is not None}
        return self._native()._call("add_drive_opts", None, (filename,), opts)

    def add_drive(self, filename, **kwargs):
        """libguestfs's add_drive: add_drive_opts's optional arguments."""
        return self.add_drive_opts(filename, **kwargs)

    def copy_in(self, localpath, remotedir):
        """Copies a host file or directory into the guest directory."""
        return self._native().copy_in(localpath, remotedir)

    def copy_out(self, remotepath, localdir):
        """Copies a guest file or directory into the host directory."""
        return self._native().copy_out(remotepath, localdir)


def _convert_for(handle, info, result):
    name = info["name"]
    if name in _HASHTABLE_STRUCTS:
        key, value = _HASHTABLE_STRUCTS[name]
        result = [(e[key], e[value]) for e in result]
    elif info["ret"] != _HASHTABLE:
        return result
    return dict(result) if handle._python_return_dict else result


def _make(info, _convert_unused=None):
    plain = _generate.make_method(info, lambda _info, r: r, GuestFS._native)

    def method(self, *args, **kwargs):
        return _convert_for(self, info, plain(self, *args, **kwargs))

    method.__name__ = plain.__name__
    method.__doc__ = plain.__doc__
    method.__signature__ = plain.__signature__
    method.__qualname__ = "GuestFS." + info["name"]
    return method


for _info in _native.calls():
    if _info["name"] not in GuestFS.__dict__:
        setattr(GuestFS, _info["name"], _make(_info))
del _info
