"""libguestfs's Python binding on libguest: a script written for
``import guestfs`` runs after ``import libguest.guestfs as guestfs``.

As in libguestfs:

- ``GuestFS(python_return_dict=False, environment=True,
  close_on_exit=True)``; hashtables are lists of ``(key, value)`` tuples
  unless ``python_return_dict=True``, then dicts;
- optional arguments are keyword arguments (or positional, after the
  required ones); structs are dicts, lists are lists, buffers are bytes,
  booleans are the ints 1 and 0;
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

# Struct fields libguestfs's binding returns that libguest's table has no
# data for: the application2 struct's translated path (empty in
# libguestfs too outside a few Windows cases) and its reserved fields.
_STRUCT_EXTRA = {
    "inspect_list_applications2": {
        "app2_trans_path": "", "app2_spare1": "", "app2_spare2": "",
        "app2_spare3": "", "app2_spare4": "",
    },
}

# add_drive_opts arguments libguestfs has and libguest's table has not,
# and the values with the same meaning here.
_DRIVE_HINTS = {
    # libguest always writes back and flushes before shutdown() returns:
    # what "writeback" promises, and more than "unsafe" needs.
    "cachemode": ("writeback", "unsafe"),
    "protocol": ("file",),
}
_DRIVE_IGNORED = ("iface", "name")


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

    def add_drive_opts(self, filename, readonly=None, format=None, iface=None,
                       name=None, label=None, protocol=None, server=None,
                       username=None, secret=None, cachemode=None,
                       discard=None, copyonread=None, blocksize=None):
        """Adds a disk image (libguestfs's add_drive_opts)."""
        given = {"cachemode": cachemode, "protocol": protocol}
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
                "discard": discard, "copyonread": copyonread,
                "blocksize": blocksize}
        opts = {k: v for k, v in opts.items() if v is not None}
        return self._g._call("add_drive_opts", None, (filename,), opts)

    def add_drive(self, filename, **kwargs):
        """libguestfs's add_drive: add_drive_opts's optional arguments."""
        return self.add_drive_opts(filename, **kwargs)

    def copy_in(self, localpath, remotedir):
        """Copies a host file or directory into the guest directory."""
        return self._g.copy_in(localpath, remotedir)

    def copy_out(self, remotepath, localdir):
        """Copies a guest file or directory into the host directory."""
        return self._g.copy_out(remotepath, localdir)


def _converter(info):
    """How call ``info``'s result becomes what libguestfs's binding
    returns; ``None`` when it already is."""
    name = info["name"]
    if info["ret"] == "bool":
        # libguestfs's binding returns its RBool results as ints.
        return lambda _self, result: int(result)
    if name in _STRUCT_EXTRA:
        extra = _STRUCT_EXTRA[name]
        return lambda _self, result: [dict(extra, **entry) for entry in result]
    if name in _HASHTABLE_STRUCTS:
        key, value = _HASHTABLE_STRUCTS[name]

        def pairs(self, result):
            result = [(e[key], e[value]) for e in result]
            return dict(result) if self._python_return_dict else result
        return pairs
    if info["ret"] == _HASHTABLE:
        return lambda self, result: dict(result) if self._python_return_dict else result
    return None


_generate.add_methods(GuestFS, _converter, "_g")
