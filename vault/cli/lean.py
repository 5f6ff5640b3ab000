"""The parts of the CLI that the click-free fast paths use before anything else is imported.

Stdlib `os` and `sys` only: `tokensafe get` through the unlock agent runs no more than this,
`vault.agent.client` and the answer (see getvalue.fast_get).
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import IO, Any

# Set by a fast path that finished with nothing to close or clean up (no vault lock, no
# temporary file, no child, no thread; its output flushed): the entry point may then end
# the process without the interpreter's teardown (`os._exit`).
nothing_to_finalize = False


def path_click_refuses(path: str) -> bool:
    """What click.Path(dir_okay=False) would reject: a directory, or a file we cannot read.

    The click-free fast paths hand such a --vault to click, so both say the same thing.
    """
    import stat

    try:
        st = os.stat(path)
    except OSError:
        return False  # need not exist
    return stat.S_ISDIR(st.st_mode) or not os.access(path, os.R_OK)


def parse_plain_options(args: list[str], table: dict[str, tuple[str, bool]],
                        repeatable: tuple[str, ...] = ()) -> tuple[dict, list[str]] | None:
    """Parse the plain forms a click-free fast path accepts: (keyword args, positionals).

    `table` maps an option to (key, takes a value). None means "not plain": --help, unknown
    options, `-eprod`, a flag given `=x`, an empty or dash-led value, a non-numeric fd, or a
    --vault that click would refuse — the full parser then decides and explains.
    """
    kw: dict = {"vault_path": os.environ.get("TOKENSAFE_VAULT") or None}
    lists: dict[str, list[str]] = {k: [] for k in repeatable}
    rest: list[str] = []
    it = iter(args)
    for a in it:
        opt, eq, inline = a.partition("=") if a.startswith("--") else (a, "", "")
        if opt in table:
            key, takes = table[opt]
            if not takes:
                if eq:
                    return None
                kw[key] = True
                continue
            value = inline if eq else next(it, None)
            if value is None or value == "" or (not eq and value.startswith("-")):
                return None
            if key in lists:
                lists[key].append(value)
            else:
                kw[key] = value
        elif a.startswith("-") or a == "":
            return None
        else:
            rest.append(a)
    kw.update({k: v for k, v in lists.items() if v})
    if "passphrase_fd" in kw:
        fd = kw["passphrase_fd"]
        if not (fd.isascii() and fd.isdigit()):
            return None
        kw["passphrase_fd"] = int(fd)
    if kw["vault_path"] and path_click_refuses(kw["vault_path"]):
        return None
    return kw, rest


def warn(text: str) -> None:
    """A `tokensafe: warning: …` line on stderr (the Context's warning sink for the CLI)."""
    sys.stderr.write(f"tokensafe: warning: {text}\n")
    sys.stderr.flush()


def is_tty(stream: IO[Any] | None = None) -> bool:
    stream = stream or sys.stdout
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def write_out(text: str | bytes) -> None:
    """Write to stdout as bytes, without an encoding surprise."""
    data = text.encode("utf-8") if isinstance(text, str) else text
    out = getattr(sys.stdout, "buffer", None)
    if out is None:
        sys.stdout.write(data.decode("utf-8", "replace"))
    else:
        out.write(data)
    sys.stdout.flush()
