"""A string wrapper that keeps a secret out of repr, str, logs and tracebacks, and the
process-local record of the secret values this process has held (for masking errors)."""

from __future__ import annotations

# Every value a `Secret` has held in this process (vault values decrypted or typed in,
# passphrases): the CLI's last-resort error output masks them, whatever path the text took.
_SEEN: set[str] = set()


def forget() -> None:
    """Start a new command with an empty record (tests run many in one process)."""
    _SEEN.clear()


def remembered() -> frozenset[str]:
    """The secret values this process has held since the last `forget`."""
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
        if value:  # every vault value passes here, decrypted or typed in: errors mask them
            _SEEN.add(value)

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
