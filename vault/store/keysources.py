"""The key sources that can open a vault, as one registry: keyring, passphrase, recovery key.

A source is a small object with a stable `kind` (the keyslot `type` in the file: ids are
forever, like detector ids). It says whether it can run here and why not, makes a new
keyslot, turns a slot plus the user's secret into a slot key, checks its slot's fields, and
describes a slot for `keys list`. A new kind (an unlock agent, say) is one more class here
and a `register` call; the unlocker, the format check and `tokensafe keys` only iterate.

Sources never prompt: they name the secret they need (`unlock_secret`, `new_secret`) and
the unlocker gets it from the injected prompter (vault/prompting.py).
"""

from __future__ import annotations

import abc
import base64
import binascii
import re
from typing import Any, ClassVar

from vault import crypto
from vault.errors import LockedError, UsageError
from vault.prompting import NEW_PASSPHRASE, PASSPHRASE, RECOVERY_KEY, Ask
from vault.store import keyring_access
from vault.store.format import Keyslot
from vault.store.keyslots import wrap


class KeySource(abc.ABC):
    """Base class of a key source; subclasses set `kind` and override what they need."""

    kind: ClassVar[str]
    label: ClassVar[str]
    # What the unlocker must get from the prompter to use a slot (None: nothing, e.g. keyring).
    unlock_secret: ClassVar[Ask | None] = None
    # What `keys add` must get for a new slot (None: nothing, e.g. a generated recovery key).
    new_secret: ClassVar[Ask | None] = None
    # Given up front, this source is tried before the others that need a secret: someone
    # who sets TOKENSAFE_RECOVERY_KEY asked for exactly that.
    explicit_first: ClassVar[bool] = False
    wrong_key_hint: ClassVar[str] = "check the key and try again"
    # The kind's own header fields: all of `fields`, and any of `optional` (SECURITY.md, Keyslots).
    fields: ClassVar[frozenset[str]] = frozenset()
    optional: ClassVar[frozenset[str]] = frozenset()

    def unavailable(self) -> str | None:
        """Why this source cannot run on this machine now, or None if it can."""
        return None

    @abc.abstractmethod
    def new_slot(self, slot_id: str, vault_id: str, data_key: bytes,
                 secret: str | None = None) -> tuple[Keyslot, str | None]:
        """A new keyslot wrapping `data_key`, and what to show the user once (or None)."""

    @abc.abstractmethod
    def slot_key(self, slot: Keyslot, secret: str | None) -> bytes | None:
        """The slot key from `secret` (or the source's own store); None if there is none.

        May raise LockedError when the source itself fails (a keyring that does not answer).
        """

    def fields_ok(self, slot: Keyslot) -> bool:
        """The kind's own header fields are exactly those listed, and sane (else the file is rejected)."""
        extra = set(slot.extra) - {"commit"}
        return self.fields <= extra <= self.fields | self.optional and self.values_ok(slot)

    def values_ok(self, slot: Keyslot) -> bool:
        return True

    def describe(self, slot: Keyslot) -> str:
        """One line for `keys list`; never secret."""
        return ""

    def forget(self, slot: Keyslot) -> bool:
        """Delete what the slot keeps outside the vault (`keys rm --purge`); False if nothing."""
        return False  # most kinds keep nothing outside the vault

    def keeps_outside(self) -> bool:
        """Whether this kind keeps a secret outside the vault (which `--purge` would delete)."""
        return False


REGISTRY: dict[str, KeySource] = {}


def register(source: KeySource) -> KeySource:
    REGISTRY[source.kind] = source
    return source


def kinds() -> tuple[str, ...]:
    return tuple(REGISTRY)


def get(kind: str) -> KeySource:
    try:
        return REGISTRY[kind]
    except KeyError:
        raise UsageError(f"unknown keyslot kind {kind!r}", f"kinds: {', '.join(REGISTRY)}") from None


def _b64(s: Any) -> bytes:
    if not isinstance(s, str):
        raise ValueError("not base64 text")
    return base64.b64decode(s, validate=True)


def _int_in(x: Any, lo: int, hi: int) -> bool:
    return type(x) is int and lo <= x <= hi


# keyring ------------------------------------------------------------------------------

_ACCOUNT_RE = re.compile(r"[A-Za-z0-9._:/-]{1,100}")


def keyring_account(vault_id: str = "", slot_id: str = "") -> str:
    """A fresh random keyring handle, never reused: copies of a vault share their keyring slots,
    so a handle derived from the vault (as before: `<vault_id>/<slot id>`) would let one copy's
    new slot overwrite, or its `keys rm` delete, another copy's key."""
    return "tokensafe-" + crypto.new_id()


class KeyringSource(KeySource):
    """32 random bytes kept in the OS keyring; HKDF turns them into the slot key."""

    kind = "keyring"
    label = "the OS keyring"
    fields = frozenset({"service", "account"})

    def unavailable(self) -> str | None:
        try:
            keyring_access.backend_name()
        except keyring_access.KeyringUnavailable as e:
            return e.message
        return None

    def new_slot(self, slot_id: str, vault_id: str, data_key: bytes,
                 secret: str | None = None) -> tuple[Keyslot, str | None]:
        ikm = crypto.new_key()
        account = keyring_account()
        if keyring_access.get(account) is not None:  # 128 random bits: never, but never overwrite
            raise LockedError("the keyring already holds an item under a fresh random handle", "try again")
        keyring_access.put(account, base64.b64encode(ikm).decode())
        key = crypto.hkdf(ikm, crypto.HKDF_KEYRING_INFO)
        return wrap(slot_id, self.kind, vault_id, key, data_key,
                    {"service": keyring_access.SERVICE, "account": account}), None

    def slot_key(self, slot: Keyslot, secret: str | None = None) -> bytes | None:
        stored = keyring_access.get(str(slot.extra.get("account")))
        if stored is None:
            return None
        try:
            ikm = base64.b64decode(stored, validate=True)
        except ValueError:
            return None
        return crypto.hkdf(ikm, crypto.HKDF_KEYRING_INFO)

    def values_ok(self, slot: Keyslot) -> bool:
        account = slot.extra.get("account")
        return (slot.extra.get("service") == keyring_access.SERVICE and isinstance(account, str)
                and _ACCOUNT_RE.fullmatch(account) is not None)

    def describe(self, slot: Keyslot) -> str:
        return f"service={slot.extra.get('service')} account={slot.extra.get('account')}"

    def forget(self, slot: Keyslot) -> bool:
        keyring_access.delete(str(slot.extra.get("account")))
        return True

    def keeps_outside(self) -> bool:
        return True


# passphrase ---------------------------------------------------------------------------

KDF_MAX_ITERATIONS = 16
KDF_MAX_LANES = 16
KDF_MAX_MEMORY_KIB = 1 << 20  # 1 GiB
SHORT_PASSPHRASE = 12


def passphrase_warning(passphrase: str) -> str | None:
    """A warning for a weak new passphrase (accepted all the same), or None."""
    if len(crypto.normalize_passphrase(passphrase)) < SHORT_PASSPHRASE:
        return (f"the new passphrase has fewer than {SHORT_PASSPHRASE} characters: anyone with a copy "
                "of the vault can try guesses offline; a few random words are stronger")
    return None


class PassphraseSource(KeySource):
    """Argon2id of a passphrase, with the parameters stored in the slot."""

    kind = "passphrase"
    label = "a passphrase"
    unlock_secret = Ask(PASSPHRASE, "Vault passphrase: ")
    new_secret = Ask(NEW_PASSPHRASE, "New passphrase: ", confirm=True)
    wrong_key_hint = "check the passphrase (TOKENSAFE_PASSPHRASE, --passphrase-fd or the prompt) and try again"
    fields = frozenset({"kdf", "salt", "iterations", "lanes", "memory_kib"})
    optional = frozenset({"normalize"})

    def new_slot(self, slot_id: str, vault_id: str, data_key: bytes, secret: str | None = None,
                 params: crypto.KdfParams | None = None) -> tuple[Keyslot, str | None]:
        if not secret:
            raise UsageError("an empty passphrase is not allowed")
        params = params or crypto.default_kdf_params()
        salt = crypto.new_salt()
        key = crypto.derive_passphrase_key(secret, salt, params, normalize=True)
        extra = {"kdf": "argon2id", "salt": base64.b64encode(salt).decode(), "normalize": "nfc",
                 "iterations": params.iterations, "lanes": params.lanes, "memory_kib": params.memory_kib}
        return wrap(slot_id, self.kind, vault_id, key, data_key, extra), None

    def slot_key(self, slot: Keyslot, secret: str | None) -> bytes | None:
        if secret is None:
            return None
        x = slot.extra
        params = crypto.KdfParams(int(x["iterations"]), int(x["lanes"]), int(x["memory_kib"]))
        return crypto.derive_passphrase_key(secret, base64.b64decode(x["salt"]), params,
                                            normalize=x.get("normalize") == "nfc")

    def values_ok(self, slot: Keyslot) -> bool:
        # The documented range (SECURITY.md, KDF range): a file must not make Argon2id
        # allocate more than 1 GiB or spin for minutes, nor crash it.
        x = slot.extra
        try:
            salt = _b64(x.get("salt"))
        except (ValueError, binascii.Error):
            return False
        return (x.get("kdf") == "argon2id" and len(salt) == crypto.SALT_LEN
                and x.get("normalize", "nfc") == "nfc"
                and _int_in(x.get("iterations"), 1, KDF_MAX_ITERATIONS)
                and _int_in(x.get("lanes"), 1, KDF_MAX_LANES)
                and _int_in(x.get("memory_kib"), 8 * x["lanes"], KDF_MAX_MEMORY_KIB))

    def describe(self, slot: Keyslot) -> str:
        x = slot.extra
        return f"argon2id t={x.get('iterations')} p={x.get('lanes')} m={x.get('memory_kib')}KiB"


# recovery -----------------------------------------------------------------------------

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_RFC4648 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
_TO_CROCKFORD = str.maketrans(_RFC4648, _CROCKFORD)
_FROM_CROCKFORD = str.maketrans(_CROCKFORD, _RFC4648)
RECOVERY_PREFIX = "TSR1-"


def format_recovery_key(raw: bytes) -> str:
    b32 = base64.b32encode(raw).decode().rstrip("=").translate(_TO_CROCKFORD)
    return RECOVERY_PREFIX + "-".join(b32[i : i + 4] for i in range(0, len(b32), 4))


def parse_recovery_key(text: str) -> bytes:
    s = "".join(c for c in text.upper() if c not in "- \t\r\n")
    if len(s) == 52 + len(RECOVERY_PREFIX) - 1 and s.startswith(RECOVERY_PREFIX[:-1]):
        s = s[len(RECOVERY_PREFIX) - 1:]  # "TSR1-", "TSR1 " or "tsr1" typed before the key
    s = s.replace("O", "0").replace("I", "1").replace("L", "1")
    if any(c not in _CROCKFORD for c in s) or len(s) != 52:
        raise UsageError("that is not a tokensafe recovery key",
                         "a recovery key is TSR1- then 52 letters and digits in groups of four, e.g. TSR1-7K2M-…")
    if _CROCKFORD.index(s[-1]) & 0xF:
        # 52 characters carry 260 bits: the last 4 must be zero, so each key has one spelling.
        raise UsageError("that is not a tokensafe recovery key (its last character is wrong)",
                         "check the last group against the key you stored")
    b32 = s.translate(_FROM_CROCKFORD)
    return base64.b32decode(b32 + "=" * (-len(b32) % 8))


class RecoverySource(KeySource):
    """A random 256-bit key shown once (TSR1-…); HKDF turns it into the slot key."""

    kind = "recovery"
    label = "a recovery key"
    unlock_secret = Ask(RECOVERY_KEY, "Recovery key (TSR1-…): ")
    explicit_first = True
    wrong_key_hint = "check the recovery key and try again"

    def new_slot(self, slot_id: str, vault_id: str, data_key: bytes,
                 secret: str | None = None) -> tuple[Keyslot, str | None]:
        raw = crypto.new_key()
        key = crypto.hkdf(raw, crypto.HKDF_RECOVERY_INFO)
        return wrap(slot_id, self.kind, vault_id, key, data_key, {}), format_recovery_key(raw)

    def slot_key(self, slot: Keyslot, secret: str | None) -> bytes | None:
        if secret is None:
            return None
        return crypto.hkdf(parse_recovery_key(secret), crypto.HKDF_RECOVERY_INFO)


KEYRING = register(KeyringSource())
PASSPHRASE_SOURCE = register(PassphraseSource())
RECOVERY = register(RecoverySource())


# The per-kind helpers by their old names (vault_cmds, tests and vectors call them).

def new_passphrase_slot(slot_id: str, vault_id: str, data_key: bytes, passphrase: str,
                        params: crypto.KdfParams | None = None) -> Keyslot:
    return PASSPHRASE_SOURCE.new_slot(slot_id, vault_id, data_key, passphrase, params)[0]


def passphrase_slot_key(slot: Keyslot, passphrase: str) -> bytes:
    key = PASSPHRASE_SOURCE.slot_key(slot, passphrase)
    assert key is not None
    return key


def new_keyring_slot(slot_id: str, vault_id: str, data_key: bytes) -> Keyslot:
    return KEYRING.new_slot(slot_id, vault_id, data_key)[0]


def keyring_slot_key(slot: Keyslot) -> bytes | None:
    return KEYRING.slot_key(slot)


def new_recovery_slot(slot_id: str, vault_id: str, data_key: bytes) -> tuple[Keyslot, str]:
    slot, shown = RECOVERY.new_slot(slot_id, vault_id, data_key)
    assert shown is not None
    return slot, shown


def recovery_slot_key(text: str) -> bytes:
    key = RECOVERY.slot_key(Keyslot("", RECOVERY.kind, b"", b"", 0, {}), text)
    assert key is not None
    return key
