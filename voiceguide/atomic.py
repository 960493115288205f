"""Files that a power cut or a full disk never leave half-written."""

from __future__ import annotations

import os
from pathlib import Path


def write_atomically(path: Path, data: bytes) -> None:
    """Replace `path` with `data`: afterwards it holds the old contents or the new, never part of
    either. Raises OSError (a full disk, a read-only folder) and leaves no partial file behind."""
    partial = path.with_name(path.name + ".partial")
    try:
        partial.write_bytes(data)
        os.replace(partial, path)
    except OSError:
        partial.unlink(missing_ok=True)
        raise
