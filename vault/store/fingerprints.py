"""The `VAULT.fp` sidecar: keyed fingerprints of the vault's token-like values.

`audit --deep` and `watch` use it to say "this value is already in your vault" while the
scanning processes hold no value: only the fingerprint key and these fingerprints.

The key is not in this file. It lives inside the encrypted vault (`fingerprint_key`), so
whoever reads the sidecar (a backup of the home folder, say) holds HMACs they cannot test
guesses against; the guard unlocks the vault to get the key (SECURITY.md, finding 10). The
sidecar names the key by an id, so a sidecar of another key is never trusted. And even with
the key, only values too random to guess are listed: JWTs, vendor-prefixed tokens and long
high-entropy strings (the guard's own detectors and entropy filter) — never domains, URLs,
or text a person made up, such as a long password or passphrase.
"""

from __future__ import annotations

import json
import os
import re
import stat
from pathlib import Path

from vault import crypto
from vault.store.fileio import atomic_write, check_permissions
from vault.store.model import VaultData
from vault.store.paths import fingerprints_path

FORMAT = 2  # 1 held the key in clear beside the fingerprints
MIN_RANDOM_LEN = 20  # a bare high-entropy string shorter than this is not listed
_TOKEN_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_+/=.~")


def token_like(value: str) -> bool:
    """Too random to guess at HMAC speed: a decodable JWT, a vendor-prefixed token, or a long
    high-entropy string in a token alphabet (people's passwords carry spaces, punctuation
    or words; those fail the guard's entropy filter or the alphabet)."""
    from vault.guard import filters
    from vault.guard.extract import PROVIDER_RE
    from vault.store.model import jwt_claims

    if value.startswith("eyJ") and jwt_claims(value) is not None:
        return True
    if PROVIDER_RE.fullmatch(value.encode("utf-8", "surrogatepass")):
        return True
    return (len(value) >= MIN_RANDOM_LEN and set(value) <= _TOKEN_CHARS and not _wordy(value)
            and filters.looks_random(value, MIN_RANDOM_LEN, 3.5, strong_key=True))


_WORD = re.compile(r"[A-Z]?[a-z]{4,}")
_SEPARATORS = re.compile(r"[-_.+/~=]+")


def _wordy(value: str) -> bool:
    """Mostly words (`Correct-Horse-Battery-9`): a passphrase, however long. In a random
    token runs of 4+ lowercase letters are rare: they cover 60% of one in 5,000 or fewer."""
    parts = [p for p in _SEPARATORS.split(value) if p]
    if len(parts) >= 3 and all(p.isalpha() or p.isdigit() for p in parts):
        return True  # `my-dog-has-fleas-2019`: words and numbers between separators
    return sum(len(w) for w in _WORD.findall(value)) * 5 >= len(value) * 3


def key_id(key: bytes) -> str:
    """A public name for the fingerprint key (never the key)."""
    return crypto.fingerprint(key, b"tokensafe fingerprint key id v1")[:16]


def compute(data: VaultData) -> list[str]:
    return sorted({
        crypto.fingerprint(data.fingerprint_key, e.value.reveal())
        for env in data.environments.values()
        for e in env.entries.values()
        if token_like(e.value.reveal())
    })


def write(vault_path: Path, data: VaultData) -> None:
    doc = {"format": FORMAT, "key_id": key_id(data.fingerprint_key), "fingerprints": compute(data)}
    raw = json.dumps(doc, indent=0).encode()
    path = fingerprints_path(vault_path)
    if _unchanged(path, raw):
        return  # most writes change no token: skip two fsyncs while the writers' lock is held
    atomic_write(path, raw)


def _unchanged(path: Path, raw: bytes) -> bool:
    if os.name != "posix":  # pragma: no cover - no uid or mode to check: always rewrite
        return False
    try:
        st = os.stat(path)
        if st.st_uid != os.getuid() or stat.S_IMODE(st.st_mode) != 0o600:
            return False
        return path.read_bytes() == raw
    except OSError:
        return False


def load_known(vault_path: Path, key: bytes) -> set[str] | None:
    """The fingerprints of the vault at `vault_path`, made with `key` (the vault's
    `fingerprint_key`, from the unlocked vault); None without a sidecar of that key.

    PolicyError if others can read or write the file, or another user owns it (as the vault).
    """
    path = fingerprints_path(Path(vault_path))
    try:
        check_permissions(path)
    except FileNotFoundError:
        return None
    try:
        doc = json.loads(path.read_bytes())
        if doc.get("format") != FORMAT or doc.get("key_id") != key_id(key):
            return None  # an old-format sidecar (its key in clear) or another vault's
        return {str(f) for f in doc["fingerprints"]}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def exists(vault_path: Path) -> bool:
    return fingerprints_path(Path(vault_path)).is_file()
