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


def _timeout_from_env(default: float = 5.0) -> float:
    """TOKENSAFE_KEYRING_TIMEOUT in seconds; a value that is not a positive number is ignored."""
    try:
        value = float(os.environ.get("TOKENSAFE_KEYRING_TIMEOUT", default))
    except ValueError:
        return default
    return value if 0 < value < 3600 else default


KEYRING_TIMEOUT_S = _timeout_from_env()
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
    """Read the item keyring's SecretService backend writes, over D-Bus with jeepney.

    Importing `keyring` discovers every backend (~100 ms here) and secretstorage negotiates
    a Diffie-Hellman session per read (~25 ms); on the hot path of `tokensafe get` we ask
    the Secret Service directly with a "plain" session (see SECURITY.md: the session bus is
    private to the user, who can read the keyring anyway). Anything unusual — a locked
    item, a missing service, an unexpected reply — falls back to keyring.
    """
    try:
        from jeepney import DBusAddress, new_method_call
        from jeepney.io.blocking import open_dbus_connection

        svc = DBusAddress("/org/freedesktop/secrets", bus_name="org.freedesktop.secrets",
                          interface="org.freedesktop.Secret.Service")
        with open_dbus_connection(bus="SESSION") as conn:
            def call(addr: DBusAddress, method: str, sig: str, *args: object) -> tuple:
                reply = conn.send_and_get_reply(new_method_call(addr, method, sig, args), timeout=KEYRING_TIMEOUT_S)
                if reply.header.message_type.name != "method_return":
                    raise RuntimeError("secret service error")
                return reply.body

            unlocked, locked = call(svc, "SearchItems", "a{ss}", {"service": SERVICE, "username": account})
            if not unlocked:
                return _FALLBACK if locked else None
            _, session = call(svc, "OpenSession", "sv", "plain", ("s", ""))
            try:
                item = DBusAddress(unlocked[0], bus_name="org.freedesktop.secrets",
                                   interface="org.freedesktop.Secret.Item")
                (secret,) = call(item, "GetSecret", "o", session)
                return bytes(secret[2]).decode("utf-8")
            finally:
                close = DBusAddress(session, bus_name="org.freedesktop.secrets",
                                    interface="org.freedesktop.Secret.Session")
                conn.send(new_method_call(close, "Close"))
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
