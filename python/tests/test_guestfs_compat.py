"""The libguestfs compatibility layer: libguestfs's own example, run
unchanged, and its conventions (hashtables, structs, buffers, errors,
close) checked against the same reads through libguest's API."""

import os
import subprocess
import sys

import pytest

import libguest
import libguest.guestfs as guestfs
from conftest import REPO, sha256


def test_inspect_vm_example_runs_unchanged(debian_image):
    before = sha256(debian_image), os.stat(debian_image).st_mtime_ns
    out = subprocess.run(
        [sys.executable, str(REPO / "python" / "tests" / "inspect_vm.py"), debian_image],
        capture_output=True, text=True, timeout=600,
    )
    assert out.returncode == 0, out.stderr
    # What the example prints comes from the same calls made directly.
    with libguest.Guest() as g:
        g.add_drive_ro(debian_image)
        g.launch()
        (root,) = g.inspect_os()
        product = g.inspect_get_product_name(root)
        major = g.inspect_get_major_version(root)
        minor = g.inspect_get_minor_version(root)
        g.mount_ro(root, "/")
        issue = g.head_n(3, "/etc/issue.net")
    expected = [
        "Root device: %s" % root,
        "  Product name: %s" % product,
        "  Version:      %d.%d" % (major, minor),
        "  Type:         linux",
        "  Distro:       debian",
        "--- /etc/issue.net ---",
    ] + issue
    assert out.stdout.splitlines() == expected
    assert root == "/dev/sda1" and major == 12
    assert issue == ["Debian GNU/Linux 12"]
    # readonly=1: not one byte or mtime of the image changed.
    assert (sha256(debian_image), os.stat(debian_image).st_mtime_ns) == before


def test_conventions(debian_image):
    g = guestfs.GuestFS(python_return_dict=True)
    lists = guestfs.GuestFS()  # libguestfs's default: hashtables as lists
    for h in (g, lists):
        h.add_drive_opts(debian_image, format="raw", readonly=1)
        h.launch()
    (root,) = g.inspect_os()
    assert lists.inspect_os() == [root]

    # Hashtables: dicts, or lists of (key, value) tuples.
    assert g.inspect_get_mountpoints(root) == {"/": "/dev/sda1"}
    assert lists.inspect_get_mountpoints(root) == [("/", "/dev/sda1")]
    assert g.list_filesystems() == {"/dev/sda1": "ext4"}
    assert lists.list_filesystems() == [("/dev/sda1", "ext4")]
    blkid = g.blkid("/dev/sda1")
    assert blkid["TYPE"] == "ext4" and blkid["LABEL"] == "debroot"

    g.mount_ro("/dev/sda1", "/")
    # Structs are dicts with libguestfs's field names; buffers are bytes.
    st = g.statns("/etc/hostname")
    assert st["st_size"] == len(g.read_file("/etc/hostname"))
    assert isinstance(g.read_file("/etc/hostname"), bytes)
    assert g.read_file("/etc/hostname") == b"libguest-demo\n"
    assert g.cat("/etc/hostname") == "libguest-demo\n"
    assert "hostname" in g.ls("/etc")
    apps = g.inspect_list_applications2(root)
    assert any(a["app2_name"] == "dpkg" for a in apps)
    assert apps[0]["app2_spare1"] == ""  # libguestfs's struct, field for field
    # Optional arguments by keyword, bools given as ints; and bools
    # returned as the ints libguestfs's binding returns.
    assert g.is_dir("/bin", followsymlinks=1) == 1
    assert repr(g.is_dir("/etc")) == "1" and repr(g.is_file("/etc")) == "0"

    # Errors: RuntimeError with "call: message"; TypeError for types.
    with pytest.raises(RuntimeError) as e:
        g.cat("/no/such/file")
    assert str(e.value).startswith("cat: ") and "/no/such/file" in str(e.value)
    with pytest.raises(RuntimeError) as e:
        g.write("/etc/hostname", b"x")
    assert str(e.value).startswith("write: ")
    with pytest.raises(TypeError):
        g.head_n("3", "/etc/hostname")
    with pytest.raises(TypeError):
        g.cat()
    with pytest.raises(TypeError):
        g.cat("/etc/hostname", nosuchoption=1)
    with pytest.raises(RuntimeError) as e:
        g.add_drive_opts(debian_image, protocol="nbd")
    assert "protocol" in str(e.value)

    for h in (g, lists):
        h.close()
        h.close()  # closing twice is harmless
    with pytest.raises(guestfs.ClosedHandle):
        g.cat("/etc/hostname")
    assert issubclass(guestfs.ClosedHandle, ValueError)


def test_readme_one_liner(debian_image):
    """The README's `python3 -c "import libguest.guestfs …"` line, run as
    written, on the Debian image."""
    readme = (REPO / "README.md").read_text()
    (line,) = [l for l in readme.splitlines() if l.startswith('python3 -c "import libguest.guestfs')]
    code = line[len('python3 -c "'):line.rindex('"')]
    code = code.replace("'debian.img'", repr(debian_image))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().endswith("{'/': '/dev/sda1'}"), out.stdout
