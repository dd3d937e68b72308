"""Files hiprot reads and writes: private, written atomically, read only when regular and sane.

- **Private**: movement data is personal, so directories hiprot creates are
  ``0700`` and its files ``0600`` whatever the umask (as ``ssh`` keeps keys).
- **Atomic**: an output appears under its name only once complete — written
  to a temporary file beside it, fsync'd, renamed over the name, and the
  directory fsync'd — so a killed command never leaves a truncated file that
  reads as whole (the write-rename-fsync pattern of Pillai et al., "All File
  Systems Are Not Created Equal", OSDI 2014).
- **Checked before reading**: an input must be a regular file no larger than
  what its reader can hold. ``/dev/zero`` never ends and a FIFO blocks its
  reader forever; both are refused (opened without blocking, then ``fstat``'d)
  with an :class:`OSError` whose ``strerror`` says why, so every caller's
  existing "cannot read" message covers them.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600
TEMP_PREFIX = ".hiprot-tmp-"  # temporary files of unfinished writes (a kill may leave one)
_KINDS = {
    stat.S_ISDIR: "a directory",
    stat.S_ISFIFO: "a FIFO",
    stat.S_ISCHR: "a character device",
    stat.S_ISBLK: "a block device",
    stat.S_ISSOCK: "a socket",
}


def physical_memory() -> int:
    """Bytes of RAM: a reader holding a whole file in memory cannot read a bigger one."""
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def private_dir(path: Path) -> Path:
    """Create ``path`` and any missing parents as ``0700`` directories (existing ones untouched)."""
    path = Path(path)
    missing, probe = [], path
    while not probe.is_dir():
        missing.append(probe)
        probe = probe.parent
    for directory in reversed(missing):
        try:
            directory.mkdir(PRIVATE_DIR)
        except FileExistsError:
            if directory.is_dir():
                continue
            raise NotADirectoryError(
                errno.ENOTDIR, f"not a directory: {directory}", str(directory)
            ) from None
        os.chmod(directory, PRIVATE_DIR)  # mkdir's mode is cut by the umask; this is exact
    return path


def fsync_directory(path: Path) -> None:
    """Make created or renamed directory entries durable (on filesystems that sync directories)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    except OSError as exc:
        if exc.errno != errno.EINVAL:  # EINVAL: this filesystem does not sync directories
            raise
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """A private temporary path beside ``path`` to write into; renamed to ``path`` when the
    block ends without an error (fsync'd first), removed when it fails."""
    path = Path(path)
    fd, name = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=path.suffix, dir=path.parent)
    os.close(fd)  # mkstemp creates it 0600 whatever the umask
    temp = Path(name)
    try:
        yield temp
        with open(temp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    fsync_directory(path.parent)


def atomic_write(path: Path, data: bytes | str) -> None:
    """Write ``data`` (text is UTF-8) to ``path`` atomically, mode ``0600``."""
    with atomic_path(path) as temp:
        temp.write_bytes(data.encode() if isinstance(data, str) else data)


def remove_temporaries(directory: Path) -> None:
    """Remove what killed writes left in ``directory`` (their :data:`TEMP_PREFIX` files)."""
    for leftover in Path(directory).glob(TEMP_PREFIX + "*"):
        leftover.unlink(missing_ok=True)


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file's content."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def open_regular(path: Path, max_bytes: int) -> BinaryIO:
    """Open ``path`` for reading when it is a regular file of at most ``max_bytes``.

    Symbolic links are followed. A FIFO is opened without blocking and refused,
    as are devices, sockets, directories and oversized files: an
    :class:`OSError` whose ``strerror`` names the problem.
    """
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            kind = next((k for test, k in _KINDS.items() if test(info.st_mode)), "not a file")
            raise OSError(errno.EINVAL, f"not a regular file ({kind})", str(path))
        if info.st_size > max_bytes:
            raise OSError(
                errno.EFBIG,
                f"too large ({_size(info.st_size)}; at most {_size(max_bytes)} expected)",
                str(path),
            )
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_regular(path: Path, max_bytes: int) -> bytes:
    """The content of a regular file of at most ``max_bytes`` (see :func:`open_regular`)."""
    with open_regular(path, max_bytes) as f:
        return f.read()


def _size(n: int) -> str:
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} bytes"
