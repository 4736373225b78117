"""Two threads drive two appliances at once, which works only if the GIL
is released during calls. The scenario runs in a child process, so a
regression hangs that child (and fails here) instead of the test run."""

import subprocess
import sys
import textwrap

from conftest import REPO

SCENARIO = textwrap.dedent(r"""
    import os, sys, threading
    import libguest

    image, disk = sys.argv[1], sys.argv[2]
    read_end, write_end = os.pipe()
    payload = os.urandom(300000)
    results = {}
    uploading = threading.Event()

    def uploader():
        with libguest.Guest() as g:
            g.add_drive_opts(disk, format="raw")
            g.launch()
            g.mkfs("ext4", "/dev/sda")
            g.mount("/dev/sda", "/")
            uploading.set()
            # Blocks inside the call until the pipe is fed, which happens
            # only after the other thread has driven its own appliance to
            # the end: Python code that needs the GIL. Were the GIL held
            # during the call, nothing would run and the child would hang.
            g.upload("/dev/fd/%d" % read_end, "/piped")
            results["piped"] = g.read_file("/piped")

    def inspector():
        with libguest.Guest() as g:
            g.add_drive_ro(image)
            g.launch()
            results["roots"] = g.inspect_os()
            g.mount_ro(results["roots"][0], "/")
            results["hostname"] = g.cat("/etc/hostname")

    a = threading.Thread(target=uploader)
    b = threading.Thread(target=inspector)
    a.start()
    uploading.wait()
    b.start()
    b.join()
    # The second appliance was driven to the end while the first one was
    # in (or entering) its upload; now feed that upload.
    with os.fdopen(write_end, "wb") as w:
        w.write(payload)
    a.join()
    assert results["roots"] == ["/dev/sda1"], results
    assert results["hostname"] == "libguest-demo\n"
    assert results["piped"] == payload
    print("ok")
""")


def test_two_threads_two_appliances(debian_image, blank_disk):
    out = subprocess.run(
        [sys.executable, "-c", SCENARIO, debian_image, str(blank_disk)],
        capture_output=True, text=True, timeout=900, cwd=str(REPO),
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"
