"""One round of the Python bench (benches/benches/python.rs): the same
calls through a libguestfs-style module, timed. Run as

    calls.py MODULE IMAGE CALLS

MODULE is ``guestfs`` (libguestfs's binding) or ``libguest.guestfs``.
Prints one JSON object: milliseconds per phase, and per call for the
small calls, with what the calls returned (the bench checks both agree)."""

import importlib
import json
import sys
import time

module, image, calls = sys.argv[1], sys.argv[2], int(sys.argv[3])
guestfs = importlib.import_module(module)
times = {}


def timed(name, f, per=1):
    start = time.perf_counter()
    value = f()
    times[name] = (time.perf_counter() - start) * 1000.0 / per
    return value


def launch():
    g = guestfs.GuestFS(python_return_dict=True)
    g.add_drive_opts(image, format="raw", readonly=1)
    g.launch()
    return g


g = timed("launch", launch)
root = timed("inspect_os", lambda: g.inspect_os()[0])
g.mount_ro(root, "/")
apps = timed("inspect_list_applications2", lambda: g.inspect_list_applications2(root))
timed("is_file (per call)", lambda: [g.is_file("/etc/hostname") for _ in range(calls)], calls)
timed("statns (per call)", lambda: [g.statns("/etc/passwd") for _ in range(calls)], calls)
data = timed("read_file /usr/bin/dpkg", lambda: g.read_file("/usr/bin/dpkg"))
# Answered by the handle, no appliance: the binding's own cost per call,
# the same on real hardware.
timed("get_memsize (per call, host only)", lambda: [g.get_memsize() for _ in range(calls * 50)], calls * 50)
names = timed("find /usr/share", lambda: g.find("/usr/share"))
timed("close", g.close)
print(json.dumps({
    "times": times,
    "apps": len(apps),
    "read": len(data),
    "names": len(names),
}))
