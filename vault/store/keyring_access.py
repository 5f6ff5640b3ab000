"""The OS keyring, through `keyring`, with a deadline: a keyring never hangs a command.

A Secret Service that is locked, missing or wedged can block a D-Bus call for a long time;
each call runs in a daemon thread and is abandoned after KEYRING_TIMEOUT_S.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from collections.abc import Callable
from typing import TypeVar

from vault.errors import LockedError

SERVICE = "tokensafe"
KEYRING_TIMEOUT_S = float(os.environ.get("TOKENSAFE_KEYRING_TIMEOUT", "5"))
T = TypeVar("T")

_HINT = (
    "unlock your keyring (on Linux: a running gnome-keyring/KeePassXC Secret Service in a "
    "D-Bus session), or unlock with a passphrase or recovery key (see `tokensafe keys list`)"
)


class KeyringUnavailable(LockedError):
    """No usable keyring backend, or it did not answer in time."""


def _backend():
    import keyring

    kr = keyring.get_keyring()
    name = f"{type(kr).__module__}.{type(kr).__name__}"
    if name.startswith(("keyring.backends.fail", "keyring.backends.null")) or (
        name == "keyring.backends.chainer.ChainerBackend" and not kr.backends  # type: ignore[attr-defined]
    ):
        raise KeyringUnavailable("no usable OS keyring on this machine", _HINT)
    return kr


def _with_deadline(what: str, fn: Callable[[], T]) -> T:
    result: dict[str, object] = {}

    def target() -> None:
        try:
            result["value"] = fn()
        except BaseException as e:  # re-raised in the caller's thread
            result["error"] = e

    t = threading.Thread(target=target, name="tokensafe-keyring", daemon=True)
    t.start()
    t.join(KEYRING_TIMEOUT_S)
    if t.is_alive():
        raise KeyringUnavailable(f"the OS keyring did not answer within {KEYRING_TIMEOUT_S:g} s ({what})", _HINT)
    if "error" in result:
        e = result["error"]
        if isinstance(e, LockedError):
            raise e
        # Keyring errors can quote the backend's text, never our secret: the value is not in it.
        raise KeyringUnavailable(f"the OS keyring failed ({what}): {type(e).__name__}", _HINT) from None
    return result["value"]  # type: ignore[return-value]


def backend_name() -> str:
    kr = _with_deadline("probe", _backend)
    return f"{type(kr).__module__}.{type(kr).__name__}"


_FALLBACK = object()


def _direct_ok() -> bool:
    """True when keyring would pick the Secret Service anyway and no one configured otherwise."""
    if sys.platform != "linux" or os.environ.get("PYTHON_KEYRING_BACKEND"):
        return False
    if not os.environ.get("DBUS_SESSION_BUS_ADDRESS"):
        return False
    cfg = os.path.join(os.environ.get("XDG_CONFIG_HOME") or os.path.expanduser("~/.config"),
                       "python_keyring", "keyringrc.cfg")
    return not os.path.exists(cfg)


def _direct_get(account: str) -> object:
    """Read the item keyring's SecretService backend writes, through secretstorage directly.

    Importing `keyring` discovers every backend (~100 ms here); reading through secretstorage
    skips that on the hot path of `tokensafe get`. Anything unusual falls back to keyring.
    """
    try:
        from contextlib import closing

        import secretstorage

        with closing(secretstorage.dbus_init()) as conn:
            coll = secretstorage.get_default_collection(conn)
            for item in coll.search_items({"username": account, "service": SERVICE}):
                if item.is_locked():
                    return _FALLBACK
                return item.get_secret().decode("utf-8")
            return None
    except Exception:
        return _FALLBACK


def get(account: str) -> str | None:
    def do() -> str | None:
        if _direct_ok():
            value = _direct_get(account)
            if value is not _FALLBACK:
                return value  # type: ignore[return-value]
        return _backend().get_password(SERVICE, account)

    return _with_deadline("read", do)


def put(account: str, secret: str) -> None:
    def do() -> None:
        kr = _backend()
        kr.set_password(SERVICE, account, secret)
        if kr.get_password(SERVICE, account) != secret:  # some backends accept and drop
            raise KeyringUnavailable("the OS keyring did not keep the key", _HINT)

    _with_deadline("write", do)


def delete(account: str) -> None:
    def do() -> None:
        import keyring.errors

        with contextlib.suppress(keyring.errors.PasswordDeleteError):
            _backend().delete_password(SERVICE, account)

    _with_deadline("delete", do)
