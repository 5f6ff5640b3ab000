"""Which local files a collection may upload (`formdata` file fields, `file` bodies).

A collection is untrusted input: its `src` paths must not pick any readable file of the
user's (an SSH key, the vault's fingerprint key) and send it. A source is uploaded only if,
with every symlink resolved, it lies inside an allowed folder — the collection's own folder,
or one the user names with `--files-from DIR` — and outside tokensafe's own data and
configuration folders (even when an allowed folder contains them). It is opened with
`O_NOFOLLOW` and checked again through the opened descriptor, so a symlink swapped in
between the check and the upload is refused too.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from pathlib import Path
from typing import IO

from vault.errors import FileSystemError, PolicyError, os_error_message

ROOTS_SEP = os.pathsep  # FilePart.root holds the allowed folders joined by this


def own_folders(vault_path: Path | None = None) -> list[Path]:
    """tokensafe's data and configuration folders, and the vault's own folder."""
    from platformdirs import user_config_dir

    from vault.dirs import user_data_dir

    out = [Path(user_data_dir()), Path(user_config_dir("tokensafe", appauthor=False))]
    if vault_path is not None:
        out.append(Path(vault_path).parent)
    guard_key = os.environ.get("TOKENSAFE_GUARD_KEY")
    if guard_key:
        out.append(Path(guard_key).expanduser().parent)
    return [p.resolve() for p in out]


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def check_source(path: Path, roots: Iterable[Path], forbidden: Iterable[Path], what: str) -> Path:
    """The resolved path of an upload source, or PolicyError (the path is the collection's,
    not a secret: it is named)."""
    roots = [r.resolve() for r in roots]
    real = path.resolve()
    if not any(_inside(real, r) for r in roots):
        raise PolicyError(
            f"{what}: refusing to upload {str(path)!r}: it is outside the collection's folder"
            + (" (through a symlink)" if path.absolute() != real and any(_inside(path.absolute(), r) for r in roots)
               else ""),
            "keep files to upload beside the collection, or name their folder with --files-from DIR")
    if any(_inside(real, f) for f in forbidden):
        raise PolicyError(f"{what}: refusing to upload {str(path)!r}: it is in tokensafe's own data folder",
                          "tokensafe's keys and vault are never uploaded")
    return real


def open_inside(path: str, roots: str | None) -> IO[bytes]:
    """Open an upload source read-only without following a final symlink; with `roots`
    (folders joined by os.pathsep), refuse a file whose opened descriptor is not inside one."""
    # O_NONBLOCK: opening a FIFO must not wait for a writer; cleared once it is a regular file.
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except OSError as e:
        if e.errno == getattr(__import__("errno"), "ELOOP", -1):
            raise PolicyError(f"refusing to upload {path!r}: it became a symlink",
                              "upload regular files only") from None
        raise os_error_message(e, f"read {path} to upload") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise FileSystemError(f"cannot upload {path!r}: not a regular file")
        os.set_blocking(fd, True)
        if roots:
            fd_path = f"/proc/self/fd/{fd}"
            real = Path(os.readlink(fd_path)) if os.path.exists(fd_path) else Path(path).resolve()
            if not any(_inside(real, Path(r)) for r in roots.split(ROOTS_SEP) if r):
                raise PolicyError(f"refusing to upload {path!r}: it moved outside the allowed folders",
                                  "keep files to upload beside the collection, or use --files-from DIR")
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise
