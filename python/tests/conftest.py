"""Shared fixtures: the cached Debian image (scripts/debian-image.sh builds
it once, laid out as Debian's installer would with one ext4 partition)
and blank disks made with libguest's own disk_create."""

import hashlib
import os
import pathlib
import subprocess

import pytest

import libguest

REPO = pathlib.Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def debian_image():
    out = subprocess.run(
        ["bash", str(REPO / "scripts" / "debian-image.sh")],
        check=True, capture_output=True, text=True,
    )
    path = out.stdout.strip()
    assert os.path.isfile(path), path
    return path


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


@pytest.fixture
def blank_disk(tmp_path):
    """A 64 MiB raw image, created by disk_create (no appliance)."""
    path = tmp_path / "disk.img"
    g = libguest.Guest()
    g.disk_create(str(path), "raw", 64 << 20)
    g.close()
    return path
