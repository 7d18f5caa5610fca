"""Files that hold clients' data are readable by the service's user only, whatever the umask.

The SQLite database (with its ``-wal`` and ``-shm``) and the uploaded consent forms hold names,
phone numbers and signatures: folders are 0700, files 0600.

* A folder the service creates is 0700. An existing one is tightened only if it is the
  service's own: owned by its user, not shared like ``/tmp``, and holding nothing but the
  service's files (``ours``) and folders — so pointing ``BOT_STORAGE`` into the app or home
  directory never locks anyone else out; a warning says that the folder stays open.
* A file is created 0600. An existing file of another owner, or on a file system that
  refuses ``chmod`` (some network shares), is used as it is, with a warning if others can
  read it — refusing to start would stop a working service.
"""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger(__name__)
FOLDER_MODE = 0o700
FILE_MODE = 0o600
OPEN_TO_OTHERS = stat.S_IRWXG | stat.S_IRWXO


def ensure_private_folder(folder: Path, ours: Callable[[str], bool] = lambda _: False) -> None:
    """Create ``folder`` (and missing parents) as 0700, or tighten it if it is ours alone."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    try:
        folder.mkdir(mode=FOLDER_MODE)
    except FileExistsError:  # there already (perhaps another instance made it just now)
        _tighten_existing(folder, ours)
        return
    _set_mode(folder, FOLDER_MODE)  # mkdir's mode is reduced by the umask, never raised


def _tighten_existing(folder: Path, ours: Callable[[str], bool]) -> None:
    info = folder.stat()
    if not stat.S_ISDIR(info.st_mode) or not info.st_mode & OPEN_TO_OTHERS:
        return  # not a folder (the caller's next step says so), or private already
    shared = info.st_mode & (stat.S_ISVTX | stat.S_IWOTH)  # like /tmp: never ours to change
    only_ours = all(
        ours(entry.name) or entry.is_dir(follow_symlinks=False) for entry in os.scandir(folder)
    )
    if info.st_uid == os.geteuid() and not shared and only_ours:
        if _set_mode(folder, FOLDER_MODE):
            log.info("made the data folder private (0700)")
        return
    log.warning("the data folder can be read by others; the files in it are private (0600)")


def ensure_private_file(path: Path) -> None:
    """Create ``path`` empty as 0600 if missing; make an existing one of ours 0600."""
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, FILE_MODE)
    try:
        _make_descriptor_private(descriptor)
    finally:
        os.close(descriptor)


def write_private_file(path: Path, data: bytes) -> None:
    """``data`` into ``path`` (created or replaced) as a 0600 file in a 0700 folder."""
    ensure_private_folder(path.parent, ours=lambda _: True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    _make_descriptor_private(descriptor)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)


def _make_descriptor_private(descriptor: int) -> None:
    info = os.fstat(descriptor)
    if stat.S_IMODE(info.st_mode) == FILE_MODE:
        return
    if info.st_uid == os.geteuid():
        try:
            os.fchmod(descriptor, FILE_MODE)
            return
        except OSError:
            pass  # a file system without Unix modes
    if info.st_mode & OPEN_TO_OTHERS:
        log.warning("a data file can be read by others (its mode cannot be changed)")


def make_private(path: Path) -> None:
    """0600 for an existing file of ours (``-wal``, ``-shm`` of an older installation)."""
    if path.exists() and path.stat().st_uid == os.geteuid():
        _set_mode(path, FILE_MODE)


def _set_mode(path: Path, mode: int) -> bool:
    try:
        os.chmod(path, mode)
    except OSError:
        log.warning("cannot make %s private on this file system", path.name)
        return False
    return True
