"""Files written under a temporary name beside their final one, then renamed.

``tempfile.mkstemp`` makes a file only its owner can read (0600), and ``os.replace``
keeps that mode: the file gets the mode ``open(path, "w")`` would have given it
instead (0666 less the umask), so that a finished output looks like any other.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

__all__ = ["temporary_beside"]


def temporary_beside(directory: Path, prefix: str, suffix: str) -> tuple[int, Path]:
    """A new, unique file in ``directory``: its open descriptor and its path."""
    fd, path = tempfile.mkstemp(dir=directory, prefix=prefix, suffix=suffix)
    try:
        mask = os.umask(0)
        os.umask(mask)
        os.chmod(path, 0o666 & ~mask)
    except BaseException:
        os.close(fd)
        os.unlink(path)
        raise
    return fd, Path(path)
