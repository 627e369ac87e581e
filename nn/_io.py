"""Atomic file writes: a crash or an error mid-write never leaves a half-written file behind."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

# mkstemp makes files readable by their owner only; a saved file should get the usual mode.
_UMASK = os.umask(0)
os.umask(_UMASK)


def atomic_write(path: str | os.PathLike[str], write: Callable[[IO[Any]], None],
                 binary: bool = False) -> Path:
    """Call write(file) on a temp file beside `path`, then rename it onto `path` in one step."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # The temp file lives in the same directory, so os.replace is a rename on one file system:
    # readers see either the old file or the complete new one, never a partial write.
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        f = os.fdopen(fd, "wb") if binary else os.fdopen(fd, "w", encoding="utf-8")
        with f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_UMASK)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
    return path
