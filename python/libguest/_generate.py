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


def make_method(info, convert, native):
    """The method for call ``info``; ``convert(info, result)`` shapes its
    result; ``native(self)`` is the ``_native.Guest`` it runs on."""
    name = info["name"]
    kind = info["kind"]
    nargs = len(info["args"])

    if kind == "file_in":
        def method(self, *args, **kwargs):
            if args:
                host, args = args[0], args[1:]
            else:
                host = kwargs.pop("hostfile", None)
            return convert(info, native(self)._call(name, host, args, kwargs))
    elif kind == "file_out":
        def method(self, *args, **kwargs):
            if len(args) > nargs:
                host, args = args[nargs], args[:nargs] + args[nargs + 1:]
            else:
                host = kwargs.pop("hostfile", None)
            return convert(info, native(self)._call(name, host, args, kwargs))
    else:
        def method(self, *args, **kwargs):
            return convert(info, native(self)._call(name, None, args, kwargs))

    method.__name__ = name
    method.__doc__ = _docstring(info)
    method.__signature__ = _signature(info)
    return method


def add_methods(cls, convert, native, skip=()):
    """Adds one method per call to ``cls``, except those in ``skip`` and
    those ``cls`` defines itself."""
    for info in _native.calls():
        name = info["name"]
        if name in skip or name in cls.__dict__:
            continue
        method = make_method(info, convert, native)
        method.__qualname__ = "%s.%s" % (cls.__name__, name)
        setattr(cls, name, method)
