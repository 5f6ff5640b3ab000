"""The OS keyring, through `keyring`, with a deadline: a keyring never hangs a command.

A Secret Service that is locked, missing or wedged can block a D-Bus call for a long time;
each call runs in a daemon thread and is abandoned after KEYRING_TIMEOUT_S.
"""

from __future__ import annotations

import contextlib
import os
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


def get(account: str) -> str | None:
    return _with_deadline("read", lambda: _backend().get_password(SERVICE, account))


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
