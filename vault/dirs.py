"""tokensafe's own data folder, without importing platformdirs where the rule is plain.

platformdirs imports typing, tempfile and more: ~17 ms, paid by every `audit` (the guard
key lives there) and ~5 ms of `get`. On Linux the two usual cases (XDG_DATA_HOME unset, or
an absolute path) are the XDG rule itself, worked out here; every other case (other
systems, an empty or relative XDG_DATA_HOME, whose reading changed between platformdirs
versions) is platformdirs' answer.
"""

from __future__ import annotations

import os
import sys

APP = "tokensafe"


def user_data_dir() -> str:
    """platformdirs.user_data_dir("tokensafe", appauthor=False)."""
    xdg = os.environ.get("XDG_DATA_HOME")
    if sys.platform == "linux" and "ANDROID_DATA" not in os.environ and (xdg is None or xdg.startswith("/")):
        home = os.path.expanduser("~")
        if xdg is not None or home.startswith("/"):
            return os.path.join(xdg or os.path.join(home, ".local", "share"), APP)
    from platformdirs import user_data_dir as platform_answer

    return platform_answer(APP, appauthor=False)
