"""Writing files so that a crash, an error or ``kill -9`` never leaves a torn one (torch-free).

`atomic_open(path)` hands out a temporary file in the target's own directory (so the final
rename never crosses a file system) and, when the block ends without an exception, flushes it,
fsyncs it and `os.replace`s it over the target in one step. Until then the target is untouched:
a reader sees the old file or the new one, never half of one, and a failed write leaves the old
file as it was and no temporary file behind. The new file gets the old file's permission bits,
or the usual ``0o666 & ~umask`` when there was none (not the 0600 of `tempfile`).

`check_output_file` turns the usual mistakes (the target is a directory, its parent is missing,
the target is the input) into one-line `NerkitError`s before any work is done. Every writer in
`nerkit.data.formats` goes through this module; other layers may use it as well.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

from nerkit.errors import NerkitError

__all__ = [
    "atomic_open",
    "atomic_write_bytes",
    "atomic_write_text",
    "check_output_dir",
    "check_output_file",
    "same_file",
]


def same_file(a: Path | str, b: Path | str) -> bool:
    """Return True when both paths exist and name the same file (or directory)."""
    try:
        return os.path.samefile(a, b)
    except (OSError, ValueError):
        return False


def check_output_file(path: Path | str, sources: Iterable[Path | str] = ()) -> Path:
    """Return `path` as a Path after checking that a file can be written there.

    Raises `NerkitError` when the path is a directory, its parent directory is missing or not a
    directory, or it is one of `sources` (writing a file onto the file being read).
    """
    path = Path(path)
    if path.is_dir():
        raise NerkitError(
            f"expected an output file, found the directory {str(path)!r} "
            "(name a file inside it, e.g. out.jsonl)"
        )
    parent = path.parent
    if not parent.is_dir():
        what = "is not a directory" if parent.exists() else "does not exist"
        raise NerkitError(
            f"cannot write {str(path)!r}: its directory {str(parent)!r} {what} (create it first)"
        )
    for source in sources:
        if same_file(path, source):
            raise NerkitError(
                f"the output {str(path)!r} is the input file; write to another file "
                "(it is replaced only once the conversion has succeeded)"
            )
    return path


def check_output_dir(path: Path | str, sources: Iterable[Path | str] = ()) -> Path:
    """Return `path` after checking that it is, or can become, an output directory."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise NerkitError(
            f"expected an output directory, found the file {str(path)!r} "
            "(brat output is a directory of .txt/.ann pairs; name a new directory)"
        )
    if not path.exists() and not path.parent.is_dir():
        raise NerkitError(
            f"cannot create {str(path)!r}: its parent {str(path.parent)!r} does not exist "
            "(create it first)"
        )
    for source in sources:
        if same_file(path, source):
            raise NerkitError(
                f"the output directory {str(path)!r} is the input; write to another directory"
            )
    return path


def _mode_for(path: Path) -> int:
    try:
        return stat.S_IMODE(path.stat().st_mode)
    except OSError:
        return -1  # no old file: keep the umask-derived mode os.open gave the new one


def _create_temporary(path: Path) -> tuple[Path, int]:
    """Create an empty temporary file next to `path`; return it and its descriptor."""
    for _ in range(100):
        temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
        try:
            # 0o666 is reduced by the umask, as for a file opened with open(path, "w").
            return temporary, os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            continue
        except OSError as error:
            raise NerkitError(f"cannot write {str(path)!r}: {error.strerror}") from None
    raise NerkitError(f"cannot create a temporary file next to {str(path)!r}")


@contextlib.contextmanager
def atomic_open(
    path: Path | str,
    mode: str = "w",
    *,
    encoding: str | None = "utf-8",
    newline: str | None = None,
    durable: bool = True,
) -> Iterator[IO[Any]]:
    """Yield a file object whose content replaces `path` only if the block succeeds.

    `mode` is ``"w"`` (text, `encoding` and `newline` as for `open`) or ``"wb"``. On any
    exception (including KeyboardInterrupt) the temporary file is removed and `path` is left
    exactly as it was. The target's parent directory must exist. `durable` also fsyncs the
    file and its directory, so the new content survives a power cut (a few ms per file);
    without it the replacement is still atomic for every other process.
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_open mode must be 'w' or 'wb', got {mode!r}")
    path = Path(path)
    if path.is_dir():
        raise NerkitError(f"expected an output file, found the directory {str(path)!r}")
    if not path.parent.is_dir():
        raise NerkitError(
            f"cannot write {str(path)!r}: its directory {str(path.parent)!r} does not exist "
            "(create it first)"
        )
    old_mode = _mode_for(path)
    temporary, descriptor = _create_temporary(path)
    try:
        if mode == "wb":
            handle: IO[Any] = os.fdopen(descriptor, "wb")
        else:
            handle = os.fdopen(descriptor, "w", encoding=encoding, newline=newline)
        with handle:
            yield handle
            _finish(handle, temporary, path, old_mode, durable)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    if durable:
        _fsync_directory(path.parent)


def _finish(handle: IO[Any], temporary: Path, path: Path, old_mode: int, durable: bool) -> None:
    """Flush (and fsync) the temporary file, give it the old mode, rename it over `path`."""
    try:
        handle.flush()
        if durable:
            os.fsync(handle.fileno())
        if old_mode >= 0:
            os.chmod(temporary, old_mode)
        os.replace(temporary, path)
    except OSError as error:
        raise NerkitError(f"cannot write {str(path)!r}: {error.strerror}") from error


def _fsync_directory(directory: Path) -> None:
    # Makes the rename itself durable; not every platform lets a directory be opened.
    with contextlib.suppress(OSError):
        descriptor = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)


def atomic_write_text(
    path: Path | str,
    text: str,
    *,
    encoding: str = "utf-8",
    newline: str | None = "\n",
    durable: bool = True,
) -> None:
    """Replace `path` with `text` atomically (default: UTF-8, ``\\n`` written as is)."""
    with atomic_open(path, "w", encoding=encoding, newline=newline, durable=durable) as handle:
        handle.write(text)


def atomic_write_bytes(path: Path | str, data: bytes) -> None:
    """Replace `path` with `data` atomically."""
    with atomic_open(path, "wb") as handle:
        handle.write(data)
