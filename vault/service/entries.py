"""Entries and environments: get, set, list, rm, env list/create/use/rm, backup restore.

Every function takes a `Context` and typed arguments and returns a typed result (or the
plain value, for `get_value`); errors are `vault.errors` classes. No printing, no prompting:
the value to store arrives as an argument.

On the start-up path of `tokensafe get`: imports nothing heavy, records are `Record`s.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from vault.errors import UsageError
from vault.record import Record
from vault.service.context import Context
from vault.service.refresh import TOKEN

# get ------------------------------------------------------------------------------------

def get_value(ctx: Context, name: str, env: str | None = None) -> str:
    """The plaintext value of NAME in ENV (default: the current environment)."""
    if name == TOKEN:  # the one entry that may need renewing first
        from vault.service.refresh import ensure_fresh

        return ensure_fresh(ctx, env, [name]).env(env).get(name).value.reveal()
    return ctx.value(name, env)


# set ------------------------------------------------------------------------------------

class SetOptions(Record):
    """What to store, except the value: checked by `validate` before the value is asked for."""

    __slots__ = ("name", "env", "hosts", "clear_hosts")

    def __init__(self, name: str, env: str | None = None, hosts: Sequence[str] = (),
                 clear_hosts: bool = False) -> None:
        self.name = name
        self.env = env
        self.hosts = list(hosts)
        self.clear_hosts = clear_hosts

    def validate(self) -> list[str]:
        """Check the name and host patterns (UsageError); returns the normalised patterns."""
        from vault.store.model import check_host_pattern, check_name

        check_name(self.name)
        return [check_host_pattern(h) for h in self.hosts]


class SetResult(Record):
    __slots__ = ("name", "env", "kind", "length", "replaced")

    def __init__(self, name: str, env: str, kind: str, length: int, replaced: bool) -> None:
        self.name = name
        self.env = env
        self.kind = kind
        self.length = length
        self.replaced = replaced  # an entry of that name was there before


def set_entry(ctx: Context, opts: SetOptions, value: str) -> SetResult:
    """Store VALUE as opts.name; an update keeps the creation time and (unless told) the hosts."""
    from vault.inject.hosts import AUTH0_DOMAIN, bindings_for
    from vault.store.model import Entry

    patterns = opts.validate()
    if not value:
        raise UsageError("empty value; nothing was stored")
    with ctx.edit() as data:
        env = data.ensure_env(opts.env) if opts.env else data.env()
        old = env.entries.get(opts.name)
        entry = Entry.new(opts.name, value, patterns)
        # Where it may go without hosts of its own is fixed now (finding 2); an update keeps it.
        entry.bound_to = bindings_for(env, {opts.name: value})[opts.name]
        if old is not None:
            entry.created = old.created
            if not patterns and not opts.clear_hosts:
                entry.allowed_hosts = old.allowed_hosts
                if old.bound_to is not None and opts.name != AUTH0_DOMAIN:
                    entry.bound_to = old.bound_to
        env.entries[opts.name] = entry
        if opts.name == AUTH0_DOMAIN and (old is None or old.value.reveal() != value):
            _tell_stale_bindings(ctx, env)
    return SetResult(opts.name, env.name, entry.kind, len(entry.value), old is not None)


def _tell_stale_bindings(ctx: Context, env) -> None:
    from vault.service.hosts import stale_bindings

    stale = stale_bindings(env)
    for h in stale:
        where = f"stays bound to {', '.join(h.hosts)}" if h.hosts else "is bound to no host"
        ctx.warn(f"{h.name} {where}: it was stored before this auth0_domain, and a new domain "
                 "does not widen where a stored secret may go")
    if stale:
        ctx.warn("to let one go to the new domain too: tokensafe hosts add NAME HOST")


# rm -------------------------------------------------------------------------------------

class Removed(Record):
    __slots__ = ("env", "names")

    def __init__(self, env: str, names: list[str]) -> None:
        self.env = env
        self.names = names


def remove_entries(ctx: Context, names: Iterable[str], env: str | None = None) -> Removed:
    """Remove every name or none: an unknown name is NotFoundError and nothing changes."""
    unique = list(dict.fromkeys(names))  # `rm a a` removes a once
    if not unique:
        raise UsageError("no entry named", "e.g. tokensafe rm NAME")
    with ctx.edit() as data:
        e = data.env(env)
        for name in unique:
            e.get(name)
        for name in unique:
            del e.entries[name]
    return Removed(e.name, unique)


# list -----------------------------------------------------------------------------------

class EntryInfo(Record):
    """Everything about an entry except its value."""

    __slots__ = ("name", "kind", "created", "updated", "allowed_hosts", "expires", "length",
                 "hosts_source")

    def __init__(self, name: str, kind: str, created: float, updated: float,
                 allowed_hosts: list[str], expires: float | None, length: int,
                 hosts_source: str = "own") -> None:
        self.name = name
        self.kind = kind
        self.created = created
        self.updated = updated
        self.allowed_hosts = allowed_hosts  # the entry's own
        self.expires = expires
        self.length = length
        # Where it may be sent: "own" (allowed_hosts), "auth0_domain" (bound to the
        # environment's auth0_domain; not shown here, since that is a vault value: see
        # `tokensafe hosts list`), "recorded" (bound to the auth0_domain it had when stored,
        # since changed) or "none" (refused unless --allow-unbound).
        self.hosts_source = hosts_source

    def to_json(self) -> dict[str, Any]:
        return self.as_dict()


class EnvListing(Record):
    __slots__ = ("name", "entries")

    def __init__(self, name: str, entries: list[EntryInfo]) -> None:
        self.name = name
        self.entries = entries  # sorted by name


class Listing(Record):
    __slots__ = ("current", "environments")

    def __init__(self, current: str, environments: list[EnvListing]) -> None:
        self.current = current
        self.environments = environments

    def to_json(self) -> dict[str, Any]:
        return {"current": self.current,
                "environments": [{"name": e.name, "entries": [x.to_json() for x in e.entries]}
                                 for e in self.environments]}


def list_entries(ctx: Context, env: str | None = None, all_envs: bool = False) -> Listing:
    """The entries of ENV (default: current), or of every environment (in vault order)."""
    from vault.service.hosts import effective, implicit_hosts
    from vault.store.model import RESERVED_ENVS

    data = ctx.read()
    envs = ([e for e in data.environments.values() if e.name not in RESERVED_ENVS] if all_envs
            else [data.env(env)])
    listings = []
    for e in envs:
        default = implicit_hosts(e)
        infos = [EntryInfo(**x.describe(), hosts_source=effective(e, x.name, default).source)
                 for x in sorted(e.entries.values(), key=lambda x: x.name)]
        listings.append(EnvListing(e.name, infos))
    return Listing(data.current, listings)


# env ------------------------------------------------------------------------------------

class EnvInfo(Record):
    __slots__ = ("name", "entries", "current")

    def __init__(self, name: str, entries: int, current: bool) -> None:
        self.name = name
        self.entries = entries  # how many
        self.current = current


class EnvList(Record):
    __slots__ = ("current", "environments")

    def __init__(self, current: str, environments: list[EnvInfo]) -> None:
        self.current = current
        self.environments = environments  # sorted by name

    def to_json(self) -> dict[str, Any]:
        return {"current": self.current,
                "environments": [{"name": e.name, "entries": e.entries} for e in self.environments]}


def _user_env(name: str) -> str:
    from vault.store.model import RESERVED_ENVS

    if name in RESERVED_ENVS:
        raise UsageError(f"environment {name!r} is tokensafe's own (the remotes' credentials)",
                         "`tokensafe remote list` shows them; choose another name")
    return name


def list_envs(ctx: Context) -> EnvList:
    from vault.store.model import RESERVED_ENVS

    data = ctx.read()
    return EnvList(data.current, [EnvInfo(n, len(e.entries), n == data.current)
                                  for n, e in sorted(data.environments.items()) if n not in RESERVED_ENVS])


def create_env(ctx: Context, name: str, use: bool = False) -> None:
    """A new, empty environment (UsageError if it exists); `use` makes it current."""
    from vault.store.model import check_env_name

    check_env_name(_user_env(name))
    with ctx.edit() as data:
        if name in data.environments:
            raise UsageError(f"environment {name!r} already exists")
        data.ensure_env(name)
        if use:
            data.current = name


def use_env(ctx: Context, name: str) -> None:
    """Make NAME (which must exist) the current environment."""
    _user_env(name)
    with ctx.edit() as data:
        data.env(name)
        data.current = name


def remove_env(ctx: Context, name: str, force: bool = False) -> str:
    """Remove an environment (refused while it holds entries, unless force); returns the current one after."""
    from vault.store.model import RESERVED_ENVS

    _user_env(name)
    with ctx.edit() as data:
        env = data.env(name)
        if env.entries and not force:
            raise UsageError(f"environment {name!r} holds {len(env.entries)} entries",
                             "remove them first, or add --force")
        if name == data.current:
            others = sorted(n for n in data.environments if n != name and n not in RESERVED_ENVS)
            if not others:
                raise UsageError("cannot remove the only environment")
            data.current = others[0]
        del data.environments[name]
        return data.current


# backup ---------------------------------------------------------------------------------

class BackupRestored(Record):
    __slots__ = ("path", "generation", "kept")

    def __init__(self, path: Path, generation: int, kept: Path | None) -> None:
        self.path = path
        self.generation = generation  # the generation now in place
        self.kept = kept  # where the replaced file was kept, if there was one


class SlotInfo(Record):
    __slots__ = ("id", "type")

    def __init__(self, id: str, type: str) -> None:
        self.id = id
        self.type = type  # passphrase, keyring, recovery …

    def __str__(self) -> str:
        return f"{self.id} ({self.type})"


class BackupPlan(Record):
    """What `backup restore` would change, read from both headers without unlocking either."""

    __slots__ = ("path", "current", "backup", "slots_removed", "slots_back")

    def __init__(self, path: Path, current: int | str | None, backup: int | None,
                 slots_removed: list[SlotInfo], slots_back: list[SlotInfo]) -> None:
        self.path = path
        # The generation in place (None: the file is unreadable or damaged; "v2": a format-2
        # file, whose generation is encrypted and not known before unlocking).
        self.current = current
        self.backup = backup  # the generation that would come back (None: format 2, not known yet)
        self.slots_removed = slots_removed  # keyslots of the current file the backup lacks
        self.slots_back = slots_back  # keyslots of the backup the current file no longer has

    @property
    def changes_keyslots(self) -> bool:
        return bool(self.slots_removed or self.slots_back)


def backup_plan(ctx: Context) -> BackupPlan:
    """Compare the vault's header with its backup's: which generation and keyslots would change.

    Headers are not secret, so nothing is unlocked and no one is asked for anything. A
    keyslot counts as the same if its id, kind and wrapped key are the same (a changed
    passphrase re-wraps its slot: the old passphrase would open the vault again).
    """
    from vault.errors import NotFoundError, TokensafeError
    from vault.store import format as fmt

    store = ctx.store
    bak = store.backend.read_backup()
    if bak is None:
        store.document()  # NotFoundError: no vault at all
        raise NotFoundError(f"no backup of the vault at {store.backend.describe()}",
                            "a backup is kept from the second write of a vault on")
    backup = fmt.parse(bak.data).header
    try:
        current = store.header()
    except TokensafeError:  # a damaged current file: restoring is what the backup is for
        current = None

    def key(s) -> tuple[str, str, bytes]:
        return (s.id, s.type, s.wrapped)

    if current is None:  # nothing to compare with: the backup's keyslots are all there is
        return BackupPlan(ctx.path, None, backup.generation, [], [])
    now = {key(s): s for s in current.keyslots}
    then = {key(s): s for s in backup.keyslots}
    return BackupPlan(ctx.path, current.generation if current.generation is not None else "v2", backup.generation,
                      [SlotInfo(s.id, s.type) for k, s in now.items() if k not in then],
                      [SlotInfo(s.id, s.type) for k, s in then.items() if k not in now])


def restore_backup(ctx: Context) -> BackupRestored:
    """Replace the vault by its previous generation; the current file is kept beside it."""
    generation, kept = ctx.restore_backup()
    return BackupRestored(ctx.path, generation, kept)
