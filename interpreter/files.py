"""Every access nablisp makes to the file system goes through here, so that one place can
restrict it."""

from __future__ import annotations

from pathlib import Path


def is_file(path) -> bool:
    return Path(path).is_file()


def read_text(path) -> str:
    """The UTF-8 text of a file; OSError or UnicodeDecodeError when it cannot be read."""
    return Path(path).read_text(encoding="utf-8")
