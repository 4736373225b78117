"""One method per call of libguest's API table, made at import time from
``libguest._native.calls()``: a call added to the table appears here
with no hand-written glue. Used by both ``libguest.Guest`` and the
compatibility layer ``libguest.guestfs.GuestFS``.

Streaming calls take the host file where libguestfs puts it: first for
upload-like calls (``upload(filename, remotefilename)``), last for
download-like ones (``download(remotefilename, filename)``). It may be a
path or a file object (``read(n)`` / ``write(b)``).
"""

import inspect

from . import _native

_P = inspect.Parameter


def _signature(info):
    params = [_P("self", _P.POSITIONAL_OR_KEYWORD)]
    required = [_P(n, _P.POSITIONAL_OR_KEYWORD) for n, _ in info["args"]]
    host = _P("hostfile", _P.POSITIONAL_OR_KEYWORD)
    if info["kind"] == "file_in":
        params.append(host)
    params += required
    if info["kind"] == "file_out":
        params.append(host)
    params += [_P(n, _P.POSITIONAL_OR_KEYWORD, default=None) for n, _ in info["opts"]]
    return inspect.Signature(params)


def _docstring(info):
    args = ", ".join(
        "%s: %s" % (n, t) for n, t in info["args"] + info["opts"]
    )
    return "%s\n\nArguments: %s\nReturns: %s\n" % (
        info["doc"], args or "none", info["ret"]
    )


def make_method(info, convert=None, handle="_native_handle"):
    """The method for call ``info``. ``convert(info, result)``, when
    given, shapes its result; ``handle`` names the attribute holding the
    ``_native.Guest`` it runs on (``None``: the object itself is one)."""
    name = info["name"]
    kind = info["kind"]
    nargs = len(info["args"])

    if handle is None:
        def native(self):
            return self
    else:
        def native(self):
            return getattr(self, handle)

    if kind == "file_in":
        def call(self, args, kwargs):
            if args:
                host, args = args[0], args[1:]
            else:
                host = kwargs.pop("hostfile", None)
            return native(self)._call(name, host, args, kwargs)
    elif kind == "file_out":
        def call(self, args, kwargs):
            if len(args) > nargs:
                host, args = args[nargs], args[:nargs] + args[nargs + 1:]
            else:
                host = kwargs.pop("hostfile", None)
            return native(self)._call(name, host, args, kwargs)
    else:
        call = None

    # The common case, a plain call with nothing to convert, is one
    # Python frame over the native call.
    if call is None and convert is None and handle is None:
        def method(self, *args, **kwargs):
            return self._call(name, None, args, kwargs)
    elif call is None and convert is None:
        def method(self, *args, **kwargs):
            return getattr(self, handle)._call(name, None, args, kwargs)
    elif call is None:
        def method(self, *args, **kwargs):
            return convert(self, native(self)._call(name, None, args, kwargs))
    elif convert is None:
        def method(self, *args, **kwargs):
            return call(self, args, kwargs)
    else:
        def method(self, *args, **kwargs):
            return convert(self, call(self, args, kwargs))

    method.__name__ = name
    method.__doc__ = _docstring(info)
    method.__signature__ = _signature(info)
    return method


def add_methods(cls, converter, handle):
    """Adds one method per call to ``cls``, except those ``cls`` defines
    itself. ``converter(info)`` gives the call's result converter, or
    ``None`` when its result is returned as it is."""
    for info in _native.calls():
        name = info["name"]
        if name in cls.__dict__:
            continue
        method = make_method(info, converter(info), handle)
        method.__qualname__ = "%s.%s" % (cls.__name__, name)
        setattr(cls, name, method)
