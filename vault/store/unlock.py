"""Finding a key that opens a vault: keyring first, then passphrase, then recovery key.

Passphrase sources, in order: `--passphrase-fd N`, TOKENSAFE_PASSPHRASE, a hidden prompt on
the controlling terminal. With none of them, unlocking fails at once (exit 3) instead of
waiting for input that will never come.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from vault.errors import LockedError
from vault.store import keyslots
from vault.store.format import Header
from vault.store.keyring_access import KeyringUnavailable

WRONG_KEY = "wrong passphrase or key"


def _read_fd(fd: int) -> str:
    chunks = []
    try:
        while True:
            b = os.read(fd, 4096)
            if not b:
                break
            chunks.append(b)
            if b"\n" in b:
                break
    except OSError as e:
        raise LockedError(f"cannot read the passphrase from file descriptor {fd} ({e.strerror})",
                          "pass an open descriptor, e.g. --passphrase-fd 3 3<passfile") from None
    try:
        return b"".join(chunks).split(b"\n", 1)[0].rstrip(b"\r").decode("utf-8")
    except UnicodeDecodeError:
        raise LockedError(f"the passphrase on file descriptor {fd} is not UTF-8 text") from None


def has_terminal() -> bool:
    try:
        fd = os.open("/dev/tty", os.O_RDWR | os.O_NOCTTY)
    except OSError:
        return False
    os.close(fd)
    return True


def prompt_hidden(prompt: str) -> str:
    import getpass

    return getpass.getpass(prompt)  # reads /dev/tty, without echo


@dataclass
class Unlocker:
    """Supplies keys; remembers the passphrase once asked so a command asks only once."""

    passphrase_fd: int | None = None
    use_keyring: bool = True
    _passphrase: str | None = field(default=None, repr=False)
    _recovery_text: str | None = field(default=None, repr=False)
    keyring_error: LockedError | None = field(default=None, repr=False)

    def passphrase(self, prompt: str = "Vault passphrase: ") -> str | None:
        if self._passphrase is None:
            if self.passphrase_fd is not None:
                self._passphrase = _read_fd(self.passphrase_fd)
            elif os.environ.get("TOKENSAFE_PASSPHRASE"):
                self._passphrase = os.environ["TOKENSAFE_PASSPHRASE"]
            elif has_terminal():
                self._passphrase = prompt_hidden(prompt)
        return self._passphrase

    def recovery_key(self) -> str | None:
        if self._recovery_text is None:
            if os.environ.get("TOKENSAFE_RECOVERY_KEY"):
                self._recovery_text = os.environ["TOKENSAFE_RECOVERY_KEY"]
            elif has_terminal():
                self._recovery_text = prompt_hidden("Recovery key (TSR1-…): ")
        return self._recovery_text

    def unlock(self, header: Header) -> tuple[bytes, str]:
        """Return (data key, id of the slot that opened it) or raise LockedError."""
        vid = header.vault_id
        by_type = {t: [s for s in header.keyslots if s.type == t]
                   for t in ("keyring", "passphrase", "recovery")}
        if self.use_keyring:
            for slot in by_type["keyring"]:
                try:
                    key = keyslots.keyring_slot_key(slot)
                except KeyringUnavailable as e:
                    self.keyring_error = e
                    break
                if key is not None and (dk := keyslots.unwrap(slot, vid, key)) is not None:
                    return dk, slot.id
        if by_type["recovery"] and os.environ.get("TOKENSAFE_RECOVERY_KEY"):
            # Asked for explicitly: try it before any passphrase source.
            return self._recovery(by_type["recovery"], vid)
        if by_type["passphrase"]:
            pw = self.passphrase()
            if pw is not None:
                for slot in by_type["passphrase"]:
                    dk = keyslots.unwrap(slot, vid, keyslots.passphrase_slot_key(slot, pw))
                    if dk is not None:
                        return dk, slot.id
                raise LockedError(WRONG_KEY, "check the passphrase (TOKENSAFE_PASSPHRASE, "
                                  "--passphrase-fd or the prompt) and try again")
        if by_type["recovery"] and self.recovery_key() is not None:
            return self._recovery(by_type["recovery"], vid)
        raise self._nothing_to_try(by_type)

    def _recovery(self, slots: list, vault_id: str) -> tuple[bytes, str]:
        key = keyslots.recovery_slot_key(self.recovery_key() or "")
        for slot in slots:
            if (dk := keyslots.unwrap(slot, vault_id, key)) is not None:
                return dk, slot.id
        raise LockedError(WRONG_KEY, "check the recovery key and try again")

    def _nothing_to_try(self, by_type: dict) -> LockedError:
        if self.keyring_error is not None and not by_type["passphrase"] and not by_type["recovery"]:
            return self.keyring_error
        kinds = ", ".join(t for t, s in by_type.items() if s)
        hints = []
        if by_type["passphrase"]:
            hints.append("set TOKENSAFE_PASSPHRASE, pass --passphrase-fd N, or run it in a terminal")
        if by_type["recovery"]:
            hints.append("set TOKENSAFE_RECOVERY_KEY to your recovery key")
        if self.keyring_error is not None:
            hints.insert(0, f"the keyring failed: {self.keyring_error.message}")
        elif by_type["keyring"]:
            hints.insert(0, "the keyring holds no key for this vault")
        return LockedError(f"cannot unlock the vault (keyslots: {kinds})", "; ".join(hints) or None)
