"""Finding a key that opens a vault, by trying the registered key sources in turn.

Order: sources that need nothing from the user (the keyring); then secrets given up front
(a descriptor, a variable), a recovery key before a passphrase since setting one is an
explicit request; then a person at a terminal, in registry order. A wrong secret fails at
once (exit 3). With nothing to try, unlocking fails at once with a hint instead of waiting
for input that will never come. Secrets come from the injected prompter, asked once per
command: a second unlock (the vault changed while we waited for the lock) asks no one.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from vault import prompting
from vault.errors import IntegrityError, LockedError
from vault.prompting import Ask, Prompter
from vault.store import keysources
from vault.store.format import Header, Keyslot, data_key_ok
from vault.store.keyslots import unwrap

WRONG_KEY = "wrong passphrase or key"


# Kept for callers written before the prompter existed (they call these by name).
def has_terminal() -> bool:
    return prompting.has_terminal()


def prompt_hidden(prompt: str) -> str:
    return prompting.prompt_hidden(prompt)


def _read_fd(fd: int) -> str:
    return prompting.read_fd(fd)


@dataclass
class Unlocker:
    """Supplies keys; remembers each secret once given so that a command asks only once.

    Pass `prompter` (front ends build it: vault.prompting.standard(...)). Without one, the
    CLI's usual sources are used (`passphrase_fd`, then the environment, then the
    terminal) — a bridge for callers that predate the prompter.
    """

    passphrase_fd: int | None = None
    use_keyring: bool = True
    _passphrase: str | None = field(default=None, repr=False)
    prompter: Prompter | None = field(default=None, repr=False)
    exclude: frozenset[str] = frozenset()  # kinds not to try
    keyring_error: LockedError | None = field(default=None, repr=False)
    _answers: dict[str, str] = field(default_factory=dict, repr=False)
    # (vault id, slot id) -> the slot key that opened it: a write re-wraps a version-1 slot with it.
    slot_keys: dict[tuple[str, str], bytes] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if self.prompter is None:
            self.prompter = prompting.standard(self.passphrase_fd)
        if self._passphrase is not None:
            self._answers[prompting.PASSPHRASE] = self._passphrase
        if not self.use_keyring:
            self.exclude = self.exclude | {keysources.KEYRING.kind}

    # secrets ------------------------------------------------------------------------

    def supplied(self, what: str) -> str | None:
        if what not in self._answers:
            assert self.prompter is not None
            value = self.prompter.supplied(what)
            if value is not None:
                self._answers[what] = value
        return self._answers.get(what)

    def ask(self, request: Ask) -> str | None:
        if request.what not in self._answers:
            assert self.prompter is not None
            value = self.prompter.ask(request)
            if value is not None:
                self._answers[request.what] = value
        return self._answers.get(request.what)

    def passphrase(self, prompt: str = "Vault passphrase: ") -> str | None:
        """The vault passphrase from any source (asked at most once)."""
        return self.ask(Ask(prompting.PASSPHRASE, prompt))

    # unlocking ----------------------------------------------------------------------

    def unlock(self, header: Header) -> tuple[bytes, str]:
        """Return (data key, id of the slot that opened it) or raise LockedError."""
        groups = [(src, [s for s in header.keyslots if s.type == kind])
                  for kind, src in keysources.REGISTRY.items() if kind not in self.exclude]
        groups = [(src, slots) for src, slots in groups if slots]
        for src, slots in groups:  # 1. nothing to ask: the keyring
            if src.unlock_secret is None and (got := self._try_own(src, slots, header)):
                return got
        given = sorted((g for g in groups if g[0].unlock_secret is not None),
                       key=lambda g: not g[0].explicit_first)
        for src, slots in given:  # 2. secrets given up front
            assert src.unlock_secret is not None
            secret = self.supplied(src.unlock_secret.what)
            if secret is not None:
                return self._try_secret(src, slots, header, secret)
        for src, slots in groups:  # 3. a person at a terminal
            if src.unlock_secret is not None:
                secret = self.ask(src.unlock_secret)
                if secret is not None:
                    return self._try_secret(src, slots, header, secret)
        raise self._nothing_to_try(groups)

    def _accept(self, header: Header, slot: Keyslot, key: bytes) -> bytes | None:
        """The data key `slot` gives with `key` if it matches the header's commitment, else None.

        A mismatch after a slot whose own commitment matched is tampering (exit 5); after a
        slot without one it is "not this key's" — else a crafted slot that opens under many
        keys would tell an attacker which one the user has (SECURITY.md, version 2, step 8).
        """
        dk = unwrap(slot, header.vault_id, key)
        if dk is None:
            return None
        if not data_key_ok(header, dk):
            if "commit" in slot.extra:
                raise IntegrityError(
                    "vault integrity check failed: the header's data-key commitment does not match",
                    "the key is right but the file was changed; it has not been touched; "
                    "`tokensafe backup restore` brings back the previous generation")
            return None
        self.slot_keys[(header.vault_id, slot.id)] = key
        return dk

    def _try_own(self, src: keysources.KeySource, slots: list[Keyslot], header: Header) -> tuple[bytes, str] | None:
        for slot in slots:
            try:
                key = src.slot_key(slot, None)
            except LockedError as e:  # the source itself failed (no keyring, no answer)
                self.keyring_error = e
                return None
            if key is not None and (dk := self._accept(header, slot, key)) is not None:
                return dk, slot.id
        return None

    def _try_secret(self, src: keysources.KeySource, slots: list[Keyslot], header: Header,
                    secret: str) -> tuple[bytes, str]:
        for slot in slots:
            key = src.slot_key(slot, secret)
            if key is not None and (dk := self._accept(header, slot, key)) is not None:
                return dk, slot.id
        raise LockedError(WRONG_KEY, src.wrong_key_hint)

    def _nothing_to_try(self, groups: list[tuple[keysources.KeySource, list[Keyslot]]]) -> LockedError:
        needing = [src for src, _ in groups if src.unlock_secret is not None]
        if self.keyring_error is not None and not needing:
            return self.keyring_error
        kinds = ", ".join(src.kind for src, _ in groups)
        assert self.prompter is not None
        hints = [prompting.hint(self.prompter, src.unlock_secret.what) for src in needing
                 if src.unlock_secret is not None]
        if self.keyring_error is not None:
            hints.insert(0, f"the keyring failed: {self.keyring_error.message}")
        else:
            hints[:0] = [f"{src.label} holds no key for this vault" for src, _ in groups
                         if src.unlock_secret is None]
        return LockedError(f"cannot unlock the vault (keyslots: {kinds})", "; ".join(hints) or None)
