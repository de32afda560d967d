"""Opening an input: a path or a binary file, gzip and zstd read as they stream.

Compression is told by the content's first bytes (gzip ``1f 8b``, zstd
``28 b5 2f fd``), not by the name: a ``.log`` that is gzip is read as gzip,
and a file object is sniffed too when it can be peeked or sought back (a pipe or
socket without ``peek`` is read as it is).
zstd comes from ``compression.zstd`` (Python 3.14) or the ``zstandard``
package (``stepwire[zstd]``); without either, a zstd input is an error that
says which package to install.
"""

from __future__ import annotations

import gzip
import io
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Any

__all__ = ["GZIP_MAGIC", "ZSTD_MAGIC", "open_binary", "sniff_compression"]

GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
# Decompressed bytes read at a time from a zstd stream (its own buffer; memory stays
# bounded by this and the line limit, whatever the file's size).
_ZSTD_READ = 1 << 20


def sniff_compression(head: bytes) -> str | None:
    """``"gzip"``, ``"zstd"`` or ``None`` from the first bytes of an input."""
    if head.startswith(GZIP_MAGIC):
        return "gzip"
    if head.startswith(ZSTD_MAGIC):
        return "zstd"
    return None


def _zstd_reader(raw: IO[bytes]) -> IO[bytes]:
    try:
        from compression import zstd  # type: ignore[import-not-found, unused-ignore]
    except ImportError:
        pass
    else:  # pragma: no cover - Python 3.14
        reader: IO[bytes] = zstd.ZstdFile(raw)
        return reader
    try:
        import zstandard
    except ImportError:
        raise ModuleNotFoundError(
            "reading zstd needs the zstandard package: pip install 'stepwire[zstd]'",
            name="zstandard",
        ) from None
    stream = zstandard.ZstdDecompressor().stream_reader(raw, read_size=_ZSTD_READ, closefd=False)
    # readline() comes from the buffered wrapper: the stream reader has none.
    return io.BufferedReader(stream, buffer_size=_ZSTD_READ)


def _decompressed(raw: IO[bytes], kind: str | None) -> IO[bytes]:
    if kind == "gzip":
        return gzip.GzipFile(fileobj=raw, mode="rb")  # type: ignore[return-value]
    if kind == "zstd":
        return _zstd_reader(raw)
    return raw


def _peek(file: Any) -> bytes | None:
    """The first bytes of ``file``, left unread: by ``peek``, or read and sought back."""
    try:
        peek = getattr(file, "peek", None)
        if peek is not None:
            head = peek(4)
        elif file.seekable():  # io.BytesIO, a raw file: read, then back to where it was
            where = file.tell()
            head = file.read(4)
            file.seek(where)
        else:
            return None
    except (OSError, ValueError, AttributeError):
        return None
    return head if isinstance(head, bytes) else None


@contextmanager
def open_binary(source: Any) -> Iterator[IO[bytes]]:
    """The input as a binary file of decompressed bytes.

    A path is opened here and closed on exit; a file object passed in is left
    open (a decompressing wrapper around it is closed, not the file).

    Raises
    ------
    TypeError
        If ``source`` is neither a path nor an object with ``readline``.
    OSError
        If the path cannot be opened.
    ModuleNotFoundError
        For zstd content without a zstd library.
    """
    if isinstance(source, (str, os.PathLike)):
        with open(source, "rb") as raw:
            file = _decompressed(raw, sniff_compression(raw.peek(4)))
            try:
                yield file
            finally:
                if file is not raw:
                    file.close()
        return
    if isinstance(source, (bytes, bytearray, memoryview)) or not hasattr(source, "readline"):
        raise TypeError(
            f"Expected a path or a binary file (with readline), got {type(source).__name__}"
        )
    head = _peek(source)
    kind = sniff_compression(head) if head else None
    if kind is None:
        yield source
        return
    file = _decompressed(source, kind)
    try:
        yield file
    finally:
        # The wrappers leave the file they read open (GzipFile on a fileobj, and
        # zstandard's reader with closefd=False): the caller's file stays the caller's.
        file.close()
