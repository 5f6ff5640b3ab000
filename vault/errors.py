"""One flat error hierarchy. Messages never contain secret values.

Each error carries the exit code the CLI maps it to and an optional hint that tells the
user what to do next.
"""

from __future__ import annotations


class TokensafeError(Exception):
    """Base class; the CLI prints `tokensafe: error: MESSAGE` and `tokensafe: hint: HINT`."""

    exit_code = 1

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class UsageError(TokensafeError):
    """The command line or its input is wrong (exit 2)."""

    exit_code = 2


class LockedError(TokensafeError):
    """The vault cannot be unlocked: wrong key, no passphrase source, no keyring (exit 3)."""

    exit_code = 3


class NotFoundError(TokensafeError):
    """A vault, entry, environment or keyslot does not exist (exit 4)."""

    exit_code = 4


class IntegrityError(TokensafeError):
    """The vault file is tampered with or corrupt; it is left untouched (exit 5)."""

    exit_code = 5


class PolicyError(TokensafeError):
    """An action is refused for safety: unsafe permissions, host not allowed, terminal output (exit 2)."""

    exit_code = 2
