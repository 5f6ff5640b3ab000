"""A string wrapper that keeps a secret out of repr, str, logs and tracebacks, and the
process-local record of the vault values this process has decrypted."""

from __future__ import annotations

from collections.abc import Iterable

# Every vault value decrypted in this process (see `remember`): the CLI's last-resort
# error output masks them, whatever code path the text came from.
_SEEN: set[str] = set()


def remember(values: Iterable[str]) -> None:
    """Record decrypted vault values, so that error output can mask them."""
    _SEEN.update(v for v in values if v)


def forget() -> None:
    """Start a new command with an empty record (tests run many in one process)."""
    _SEEN.clear()


def remembered() -> frozenset[str]:
    """The vault values decrypted so far in this process."""
    return frozenset(_SEEN)


class Secret:
    """Holds a secret value; only `reveal()` returns it.

    Python cannot wipe memory reliably (strings are immutable and may be copied by the
    interpreter), so this guards against accidental display, not against memory dumps.
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        if isinstance(value, Secret):
            value = value.reveal()
        if not isinstance(value, str):
            raise TypeError("Secret holds a str")
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __len__(self) -> int:
        return len(self._value)

    def __bool__(self) -> bool:
        return bool(self._value)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Secret):
            import hmac

            return hmac.compare_digest(self._value.encode(), other._value.encode())
        return NotImplemented

    def __hash__(self) -> int:
        return hash(("Secret", self._value))

    def __repr__(self) -> str:
        return "Secret(<redacted>)"

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return repr(self)

    def __reduce__(self):  # keep secrets out of pickles
        raise TypeError("Secret values cannot be pickled")


def preview(value: str, keep: int = 4) -> str:
    """A redacted preview: a few leading characters and the length, e.g. `eyJh…(812)`."""
    if len(value) <= keep * 3:
        return f"…({len(value)})"
    return f"{value[:keep]}…({len(value)})"
