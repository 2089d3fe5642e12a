#!/usr/bin/env python3
"""Builds a tree of bad inputs for ingest: links, empty and non-UTF-8 names, malicious and
broken archives. Usage: make_hostile_tree.py ROOT OUTSIDE_DIR"""
import gzip
import io
import os
import sys
import tarfile
import zipfile

root, outside = sys.argv[1], sys.argv[2]
os.makedirs(os.path.join(root, "sub"), exist_ok=True)
os.makedirs(outside, exist_ok=True)


def write(path, data):
    with open(os.path.join(root, path), "wb") as f:
        f.write(data)


write("good.cif", b"data_x\n_cell_length_a 4.0\n")
write("empty.txt", b"")
write(b"caf\xe9-latin1.txt".decode("utf-8", "surrogateescape"), b"non-UTF-8 name\n")
write("crlf.xyz", b"\xef\xbb\xbf1\r\ncomment\r\nH 0 0 0\r\n")
with open(os.path.join(outside, "secret.txt"), "w") as f:
    f.write("outside the root\n")
os.symlink(os.path.join(outside, "secret.txt"), os.path.join(root, "link-outside"))
os.symlink("does-not-exist", os.path.join(root, "broken-link"))
os.symlink("..", os.path.join(root, "sub", "loop"))
os.symlink("good.cif", os.path.join(root, "link-inside"))


def add(tar, name, data=b"", kind=tarfile.REGTYPE, link=""):
    info = tarfile.TarInfo(name)
    info.type = kind
    info.size = len(data) if kind == tarfile.REGTYPE else 0
    info.linkname = link
    tar.addfile(info, io.BytesIO(data) if kind == tarfile.REGTYPE else None)


with tarfile.open(os.path.join(root, "evil.tar.gz"), "w:gz") as t:
    add(t, "ok/POSCAR", b"Fe\n1.0\n")
    add(t, "../../escape.txt", b"should never be written")
    add(t, "/tmp/absolute.txt", b"absolute")
    add(t, "link-to-etc", kind=tarfile.SYMTYPE, link="/etc/passwd")
    add(t, "hard", kind=tarfile.LNKTYPE, link="ok/POSCAR")

# An archive bomb: 64 MiB of zeros compress to ~64 KiB (ratio ~1000 > 200).
with tarfile.open(os.path.join(root, "bomb.tar.gz"), "w:gz") as t:
    add(t, "zeros.bin", bytes(64 << 20))

buf = io.BytesIO()
with tarfile.open(fileobj=buf, mode="w:gz") as t:
    add(t, "big.txt", os.urandom(300000))
write("truncated.tar.gz", buf.getvalue()[: len(buf.getvalue()) // 2])
write("garbage.zip", b"PK\x03\x04 this is not really a zip file")
with zipfile.ZipFile(os.path.join(root, "fine.zip"), "w") as z:
    z.writestr("inner/data.json", '{"a": 1}')
write("truncated.json.gz", gzip.compress(b'{"x": ' + b"1" * 5000 + b"}")[:40])
