"""`init`: create a new, empty vault with the keyslots the machine allows.

The key goes into the OS keyring when a usable one answers; otherwise (or in addition, on
request) a passphrase protects the vault. When the keyring would be the only way in, a
recovery key is made and returned once, for the front end to show.

Asking for a new passphrase is the front end's job (prompt twice, read an fd, …): it
passes `new_passphrase`, called only when a passphrase slot is needed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from vault.errors import LockedError, UsageError
from vault.service.context import Context


@dataclass
class InitOptions:
    use_keyring: bool | None = None  # None: when one is usable; True: required; False: never
    passphrase: bool = False  # a passphrase slot even when the keyring is used
    recovery: bool = True  # a recovery key when the keyring is the only way in
    env: str = "default"  # the first environment
    recovery_shown: bool = True  # the front end has a private place to show a recovery key once


@dataclass
class InitResult:
    path: Path
    keyslots: list[str]  # slot kinds, in order
    env: str
    keyring_reason: str | None = None  # why the keyring was not used, if it was merely preferred
    recovery_key: str | None = field(default=None, repr=False)  # shown once, never stored in clear


def init_vault(ctx: Context, opts: InitOptions, new_passphrase: Callable[[], str]) -> InitResult:
    """Create the vault at ctx.path (UsageError if one exists; nothing is changed then)."""
    from vault.store import keyring_access, keyslots, keysources
    from vault.store.model import VaultData, check_env_name
    from vault.store.paths import display

    path = ctx.path
    check_env_name(opts.env)
    if path.exists():
        raise UsageError(f"a vault already exists at {display(path)}",
                         "use it, or pick another file with --vault; nothing was changed")
    keyring_reason = None
    if opts.use_keyring is not False:
        try:
            keyring_access.backend_name()
        except LockedError as e:
            keyring_reason = e.message
            if opts.use_keyring:
                raise
    with_keyring = opts.use_keyring is not False and keyring_reason is None
    passphrase = new_passphrase() if opts.passphrase or not with_keyring else None
    if passphrase is not None and (weak := keysources.passphrase_warning(passphrase)):
        ctx.warn(weak)
    recovery_text: list[str] = []

    def make_slots(vault_id: str, data_key: bytes):
        nonlocal passphrase, keyring_reason
        slots = []
        if with_keyring:
            try:
                slots.append(keysources.KEYRING.new_slot(keyslots.next_slot_id(slots), vault_id, data_key)[0])
            except LockedError as e:
                # The keyring answered the probe but would not keep a key (locked, no prompt):
                # with the keyring merely preferred, fall back to a passphrase.
                if opts.use_keyring or passphrase is not None:
                    raise
                keyring_reason = e.message
                passphrase = new_passphrase()
                if weak := keysources.passphrase_warning(passphrase):
                    ctx.warn(weak)
        if passphrase is not None:
            slots.append(keysources.PASSPHRASE_SOURCE.new_slot(keyslots.next_slot_id(slots), vault_id,
                                                               data_key, passphrase)[0])
        if passphrase is None and opts.recovery:
            if not opts.recovery_shown:  # known only now: a locked keyring falls back to a passphrase
                from vault.service.keys import recovery_not_shown

                for made in slots:  # nothing was written: take back the keyring item just made
                    keysources.get(made.type).forget(made)
                raise recovery_not_shown("--recovery-key-file PATH, or --no-recovery")
            slot, text = keysources.RECOVERY.new_slot(keyslots.next_slot_id(slots), vault_id, data_key)
            slots.append(slot)
            recovery_text.append(text)
        return slots

    data = VaultData(current=opts.env)
    data.ensure_env(opts.env)
    kinds = ctx.create(make_slots, data)
    return InitResult(path, kinds, opts.env,
                      keyring_reason if not opts.use_keyring else None,
                      recovery_text[0] if recovery_text else None)
