"""Files that hold clients' data are readable by the service's user only, whatever the umask.

The SQLite database (with its ``-wal`` and ``-shm``) and the uploaded consent forms hold names,
phone numbers and signatures: folders are 0700, files 0600. A folder the service did not create
and does not own (``/tmp``, a shared mount) is left as it is — the files in it are still 0600.
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

log = logging.getLogger(__name__)
FOLDER_MODE = 0o700
FILE_MODE = 0o600


def ensure_private_folder(folder: Path) -> None:
    """Create ``folder`` (and missing parents) as 0700, or tighten a folder of ours to 0700."""
    if not folder.exists():
        folder.mkdir(parents=True, mode=FOLDER_MODE)
        os.chmod(folder, FOLDER_MODE)  # mkdir's mode is reduced by the umask, not raised
        return
    info = folder.stat()
    shared = info.st_mode & (stat.S_ISVTX | stat.S_IWOTH)  # like /tmp: never ours to change
    if info.st_uid == os.getuid() and not shared and stat.S_IMODE(info.st_mode) != FOLDER_MODE:
        os.chmod(folder, FOLDER_MODE)
        log.info("made the data folder private (0700)")


def ensure_private_file(path: Path) -> None:
    """Create ``path`` empty as 0600 if missing; make an existing one 0600."""
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, FILE_MODE)
    try:
        os.fchmod(descriptor, FILE_MODE)
    finally:
        os.close(descriptor)
