"""The Pythonic module: a context manager that shuts down on exit (so the
writes are in the image), streams to and from paths and file objects,
copy_in/copy_out, and typed errors."""

import errno
import io
import os

import pytest

import libguest


def test_context_manager_streams_and_copies(blank_disk, tmp_path):
    payload = bytes(range(256)) * 4096 + b"\xff\x00 tail"  # 1 MiB and more
    src = tmp_path / "payload.bin"
    src.write_bytes(payload)
    tree = tmp_path / "tree"
    (tree / "sub").mkdir(parents=True)
    (tree / "sub" / "a.txt").write_text("alpha\n")
    os.symlink("sub/a.txt", tree / "link")

    with libguest.Guest() as g:
        g.add_drive_opts(str(blank_disk), format="raw")
        g.launch()
        g.mkfs("ext4", "/dev/sda")
        g.mount("/dev/sda", "/")
        g.upload(str(src), "/from-path.bin")          # host path first
        g.upload(io.BytesIO(payload), "/from-object.bin")
        g.write("/small", b"\x00\x01binary\xff")
        g.copy_in(str(tree), "/")
        out = io.BytesIO()
        g.download("/from-object.bin", out)            # host file last
        assert out.getvalue() == payload
        g.download("/from-path.bin", str(tmp_path / "back.bin"))
        assert (tmp_path / "back.bin").read_bytes() == payload
        (tmp_path / "outdir").mkdir()
        g.copy_out("/tree", str(tmp_path / "outdir"))
        assert g.checksum("sha256", "/from-path.bin") == g.checksum("sha256", "/from-object.bin")
    assert g.closed
    with pytest.raises(libguest.ClosedHandle):
        g.ls("/")

    assert (tmp_path / "outdir" / "tree" / "sub" / "a.txt").read_text() == "alpha\n"
    assert os.readlink(tmp_path / "outdir" / "tree" / "link") == "sub/a.txt"

    # Leaving the with block shut the appliance down: every write is in
    # the image, as a second appliance sees.
    with libguest.Guest() as g2:
        g2.add_drive_opts(str(blank_disk), format="raw", readonly=True)
        g2.launch()
        g2.mount_ro("/dev/sda", "/")
        assert g2.read_file("/small") == b"\x00\x01binary\xff"
        assert g2.filesize("/from-path.bin") == len(payload)
        assert g2.cat("/tree/sub/a.txt") == "alpha\n"
        assert g2.readlink("/tree/link") == "sub/a.txt"
        assert g2.list_disk_labels() == {}  # hashtables are dicts here


def test_errors_by_type_and_message(debian_image, tmp_path):
    g = libguest.Guest()
    # Before launch: the handle's state.
    with pytest.raises(libguest.StateError) as e:
        g.ls("/")
    assert str(e.value) == "ls: the appliance is not running; call launch() first"
    # A missing image: the error names it.
    missing = str(tmp_path / "missing.img")
    with pytest.raises(libguest.DriveError) as e:
        g.add_drive_opts(missing, format="raw")
    assert missing in str(e.value)
    # Arguments checked before anything is sent.
    with pytest.raises(libguest.InvalidArgument) as e:
        g.ls("relative")
    assert str(e.value).startswith("ls: directory:") and "absolute" in str(e.value)
    with pytest.raises(TypeError) as e:
        g.ls(1)
    assert "expected a str, got an int" in str(e.value)
    with pytest.raises(AttributeError):
        g.no_such_call()

    g.add_drive_ro(debian_image)
    g.launch()
    with pytest.raises(libguest.NotMounted) as e:
        g.cat("/etc/hostname")
    assert str(e.value).startswith("cat: ")
    g.mount_ro("/dev/sda1", "/")
    with pytest.raises(libguest.NotFound) as e:
        g.cat("/etc/no-such-file")
    assert e.value.errno == errno.ENOENT
    assert str(e.value).startswith("cat: ") and "/etc/no-such-file" in str(e.value)
    with pytest.raises(libguest.ReadOnly) as e:
        g.touch("/new-file")
    assert e.value.errno == errno.EROFS
    with pytest.raises(libguest.IsADirectory):
        g.cat("/etc")
    # Every kind is a libguest.Error, and that is a RuntimeError.
    assert issubclass(libguest.NotFound, libguest.Error)
    assert issubclass(libguest.Error, RuntimeError)
    # The handle still works after errors.
    assert g.cat("/etc/hostname") == "libguest-demo\n"
    g.close()
