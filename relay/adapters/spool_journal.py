"""An append-only, fsync'd journal file of opaque records, and how far it has been replayed.

The file format (docs/architecture.md, 'The intake spool'): each record is a header line
`<length> <crc32>\n` (decimal length, 8 hex digits of CRC-32 of the payload), the payload
bytes, and a newline. A record is durable once `append` returns (write + os.fsync of the file;
the directory is fsync'd when the file is created). A torn tail — a process killed in the
middle of a write — fails its length or checksum and ends the readable journal; nothing after
it can exist, because only the owner appends and the owner is gone.

How far the journal has been replayed is a separate small file `<journal>.done` holding a byte
offset, replaced atomically (write, fsync, rename). A record replayed but not yet marked is
replayed again after a crash: the intake path it goes through is idempotent.

The owner holds an exclusive `flock` on its journal while it lives; anyone who can take the
lock may replay (and delete) the file, so a journal whose process died is not orphaned.
"""

from __future__ import annotations

import errno
import fcntl
import os
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

SUFFIX = ".journal"
DONE_SUFFIX = ".done"


class JournalFull(Exception):
    """The spool directory is at its size bound, or the disk refused the write."""


@dataclass(frozen=True)
class Entry:
    """One record read back: its payload and the offset just after it."""

    payload: bytes
    end: int


def encode(payload: bytes) -> bytes:
    """The bytes one record takes in the file."""
    return b"%d %08x\n" % (len(payload), zlib.crc32(payload)) + payload + b"\n"


def read_entries(path: Path, start: int = 0) -> Iterator[Entry]:
    """Records from byte `start` on, stopping at the end or at a torn / corrupt tail."""
    with path.open("rb") as fh:
        fh.seek(start)
        offset = start
        while True:
            header = fh.readline(64)
            if not header.endswith(b"\n"):
                return
            try:
                length_text, crc_text = header.split()
                length, crc = int(length_text), int(crc_text, 16)
            except ValueError:
                return
            payload = fh.read(length)
            if len(payload) != length or fh.read(1) != b"\n" or zlib.crc32(payload) != crc:
                return
            offset += len(header) + length + 1
            yield Entry(payload, offset)


def done_offset(path: Path) -> int:
    """How far `path` has been replayed (0 when never)."""
    try:
        return int(path.with_name(path.name + DONE_SUFFIX).read_text().strip() or 0)
    except (FileNotFoundError, ValueError):
        return 0


def mark_done(path: Path, offset: int) -> None:
    """Record atomically that everything before `offset` has been replayed."""
    done = path.with_name(path.name + DONE_SUFFIX)
    tmp = done.with_name(done.name + ".tmp")
    with tmp.open("w") as fh:
        fh.write(str(offset))
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, done)


def remove(path: Path) -> None:
    """Delete a fully replayed journal and its marker."""
    for p in (path, path.with_name(path.name + DONE_SUFFIX)):
        try:
            p.unlink()
        except FileNotFoundError:
            pass


def directory_bytes(folder: Path) -> int:
    """Bytes held by the journals in `folder`."""
    total = 0
    try:
        with os.scandir(folder) as it:
            for item in it:
                if item.name.endswith(SUFFIX):
                    try:
                        total += item.stat().st_size
                    except FileNotFoundError:
                        continue
    except FileNotFoundError:
        return 0
    return total


def journals(folder: Path) -> list[Path]:
    """The journal files in `folder`, oldest first."""
    try:
        found = [p for p in folder.iterdir() if p.name.endswith(SUFFIX)]
    except FileNotFoundError:
        return []
    return sorted(found, key=lambda p: (p.stat().st_mtime if p.exists() else 0.0, p.name))


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class Journal:
    """The journal one process appends to, under an exclusive lock it holds until closed."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise
        self._fd = fd
        _fsync_dir(path.parent)  # the new name survives a crash too

    def append(self, payload: bytes) -> int:
        """Write one record durably; returns the file's size after it."""
        data = encode(payload)
        before = os.fstat(self._fd).st_size
        try:
            written = os.write(self._fd, data)
            if written != len(data):  # a short write: the disk is full
                raise OSError(errno.ENOSPC, "short write")
            os.fsync(self._fd)
        except OSError as exc:
            # cut a partial record off, so the records written after it stay readable
            try:
                os.ftruncate(self._fd, before)
            except OSError:
                pass
            raise JournalFull(f"the journal {self.path.name} cannot be written: {exc}") from exc
        return os.fstat(self._fd).st_size

    def close(self) -> None:
        """Release the lock (the file stays until it has been replayed)."""
        os.close(self._fd)


def try_lock(path: Path) -> int | None:
    """A descriptor holding the lock of a journal nobody owns any more, or None."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return None
    return fd
