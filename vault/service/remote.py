"""Team vaults: remotes on OpenBao / HashiCorp Vault, push/pull with check-and-set, `--remote` reads.

A remote is kept in the local vault, in the reserved environment `_remotes` (encrypted and
authenticated like everything else there): `NAME.remote` holds its settings (addresses,
mount, path, auth method, and per environment the version last pulled or pushed with a
digest of what it held), `NAME.token` / `NAME.role_id` / `NAME.secret_id` its credentials,
bound to the remote's hosts. BAO_TOKEN / VAULT_TOKEN, when set, are used instead.

An environment ENV lives at `MOUNT/data/PATH/ENV` (see vault.remote.envdoc). `push` and
`pull` compare the server's version with the one this vault last synced: a change by
someone else since then is refused with a name-level diff, never overwritten; --force
replaces it and says what it replaced. `RemoteContext` is the one hook that makes every
reading use case (get, list, run, inject, export, request, send) read from the server.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from vault.errors import LockedError, NotFoundError, PolicyError, UsageError
from vault.record import Record
from vault.service.context import Context

if TYPE_CHECKING:
    from vault.remote.envdoc import Diff
    from vault.remote.kv import KVClient
    from vault.store.model import Environment, VaultData

REMOTES_ENV = "_remotes"
TOKEN_VARS = ("BAO_TOKEN", "VAULT_TOKEN")
AUTH_METHODS = ("token", "approle", "env")


class RemoteConfig(Record):
    __slots__ = ("name", "urls", "mount", "path", "namespace", "auth", "timeout", "synced", "cacert")

    def __init__(self, name: str, urls: list[str], mount: str = "secret", path: str = "tokensafe",
                 namespace: str | None = None, auth: str = "token", timeout: float = 10.0,
                 synced: dict[str, dict[str, Any]] | None = None, cacert: str | None = None) -> None:
        self.name = name
        self.urls = urls
        self.mount = mount
        self.path = path
        self.namespace = namespace
        self.auth = auth
        self.timeout = timeout
        self.synced = synced or {}  # env -> {"version": N, "digest": sha256 of what it held}
        self.cacert = cacert  # absolute path of a PEM file of CAs trusted for this remote only

    def to_json(self) -> dict[str, Any]:
        return self.as_dict()

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> RemoteConfig:
        return cls(**{k: d[k] for k in cls.__slots__ if k in d})

    def key(self, env: str) -> str:
        return f"{self.path}/{env}"

    def hosts(self) -> list[str]:
        from vault.remote.kv import host_of

        return sorted({host_of(u) for u in self.urls})


def _check_remote_name(name: str) -> str:
    from vault.store.model import ENV_RE

    if not ENV_RE.fullmatch(name) or "." in name:
        raise UsageError(f"invalid remote name {name!r}", "use letters, digits, _ and - (e.g. team)")
    return name


def _check_kv_path(path: str, what: str) -> str:
    p = path.strip("/")
    if not p or any(s in ("", ".", "..") for s in p.split("/")) or any(c.isspace() for c in p):
        raise UsageError(f"invalid {what} {path!r}", "e.g. --mount secret --path teams/auth0")
    return p


def _config_of(data: VaultData, name: str) -> RemoteConfig:
    env = data.environments.get(REMOTES_ENV)
    entry = env.entries.get(f"{name}.remote") if env else None
    if entry is None:
        raise NotFoundError(f"no remote {name!r}", "`tokensafe remote list` shows them; "
                            "`tokensafe remote add NAME --url URL` adds one")
    return RemoteConfig.from_json(json.loads(entry.value.reveal()))


def _store_config(data: VaultData, cfg: RemoteConfig) -> None:
    from vault.store.model import Entry

    env = data.ensure_env(REMOTES_ENV)
    old = env.entries.get(f"{cfg.name}.remote")
    entry = Entry.new(f"{cfg.name}.remote", json.dumps(cfg.to_json(), sort_keys=True), cfg.hosts())
    entry.kind = "remote"
    if old is not None:
        entry.created = old.created
    env.entries[entry.name] = entry


# add / list / rm --------------------------------------------------------------------------

def _check_cacert(path: str) -> str:
    import ssl

    full = os.path.abspath(os.path.expanduser(path))
    try:
        ssl.create_default_context(cafile=full)
    except (OSError, ssl.SSLError, ValueError) as e:
        raise UsageError(f"cannot use {path} as --cacert: {getattr(e, 'strerror', None) or e}",
                         "give a PEM file of CA certificates (bao's -dev-tls writes vault-ca.pem)") from None
    return full


def check_remote(name: str, urls: list[str], mount: str = "secret", path: str | None = None,
                 namespace: str | None = None, auth: str = "token", timeout: float = 10.0,
                 cacert: str | None = None) -> RemoteConfig:
    """The RemoteConfig of `remote add`'s options, checked before any credential is asked for."""
    from vault.remote.kv import check_url

    _check_remote_name(name)
    if not urls:
        raise UsageError("a remote needs a server address", "add --url https://bao.example.com:8200")
    if auth not in AUTH_METHODS:
        raise UsageError(f"unknown auth method {auth!r}", f"use one of {', '.join(AUTH_METHODS)}")
    if not 0 < timeout <= 600:
        raise UsageError("--timeout must be between 0 and 600 seconds")
    return RemoteConfig(name, list(dict.fromkeys(check_url(u) for u in urls)), _check_kv_path(mount, "mount"),
                        _check_kv_path(path or f"tokensafe/{name}", "path"), namespace or None, auth,
                        float(timeout), cacert=_check_cacert(cacert) if cacert else None)


class RemoteInfo(Record):
    __slots__ = ("name", "urls", "mount", "path", "namespace", "auth", "credentials", "synced", "cacert")

    def __init__(self, name: str, urls: list[str], mount: str, path: str, namespace: str | None,
                 auth: str, credentials: list[str], synced: dict[str, int], cacert: str | None = None) -> None:
        self.name = name
        self.urls = urls
        self.mount = mount
        self.path = path
        self.namespace = namespace
        self.auth = auth
        self.credentials = credentials  # what is stored: token, role_id, secret_id (never values)
        self.synced = synced  # env -> version last pulled or pushed
        self.cacert = cacert

    def to_json(self) -> dict[str, Any]:
        return self.as_dict()


def add_remote(ctx: Context, cfg: RemoteConfig, credentials: dict[str, str]) -> RemoteInfo:
    """Add or replace remote cfg.name (from `check_remote`) with its credentials (token, or
    role_id + secret_id)."""
    from vault.store.model import Entry

    wanted = {"token": ["token"], "approle": ["role_id", "secret_id"], "env": []}[cfg.auth]
    for k in wanted:
        if not credentials.get(k):
            raise UsageError(f"no {k.replace('_', ' ')} given; nothing was stored")
    with ctx.edit() as data:
        env = data.ensure_env(REMOTES_ENV)
        if f"{cfg.name}.remote" in env.entries:
            old = _config_of(data, cfg.name)
            if (old.mount, old.path, old.namespace) == (cfg.mount, cfg.path, cfg.namespace):
                cfg.synced = old.synced  # new addresses or credentials: same data, same sync state
        for k in [k for k in env.entries if k.startswith(f"{cfg.name}.")]:
            del env.entries[k]
        _store_config(data, cfg)
        for k in wanted:  # bound to the remote's hosts: `request` will not send it anywhere else
            e = Entry.new(f"{cfg.name}.{k}", credentials[k], cfg.hosts())
            env.entries[e.name] = e
    return _info(cfg, wanted)


def _info(cfg: RemoteConfig, credentials: list[str]) -> RemoteInfo:
    return RemoteInfo(cfg.name, cfg.urls, cfg.mount, cfg.path, cfg.namespace, cfg.auth, credentials,
                      {k: int(v.get("version", 0)) for k, v in sorted(cfg.synced.items())}, cfg.cacert)


def list_remotes(ctx: Context) -> list[RemoteInfo]:
    data = ctx.read()
    env = data.environments.get(REMOTES_ENV)
    if env is None:
        return []
    out = []
    for n in sorted(k[:-len(".remote")] for k in env.entries if k.endswith(".remote")):
        creds = [k for k in ("token", "role_id", "secret_id") if f"{n}.{k}" in env.entries]
        out.append(_info(_config_of(data, n), creds))
    return out


def remove_remote(ctx: Context, name: str) -> None:
    with ctx.edit() as data:
        _config_of(data, name)
        env = data.environments[REMOTES_ENV]
        for k in [k for k in env.entries if k.startswith(f"{name}.")]:
            del env.entries[k]
        if not env.entries and len(data.environments) > 1:
            del data.environments[REMOTES_ENV]


# connecting -------------------------------------------------------------------------------

def connect(data: VaultData, name: str) -> tuple[RemoteConfig, KVClient]:
    """The remote's settings and a logged-in client (BAO_TOKEN/VAULT_TOKEN win over stored credentials)."""
    from vault.remote.kv import KVClient
    from vault.store.model import host_allowed

    cfg = _config_of(data, name)
    env = data.environments[REMOTES_ENV]
    timeout = cfg.timeout
    if os.environ.get("TOKENSAFE_REMOTE_TIMEOUT"):
        try:
            timeout = max(0.1, float(os.environ["TOKENSAFE_REMOTE_TIMEOUT"]))
        except ValueError:
            raise UsageError("TOKENSAFE_REMOTE_TIMEOUT is not a number of seconds") from None
    kv = KVClient(cfg.urls, None, cfg.mount, cfg.namespace, timeout, verify=cfg.cacert or True)

    def stored(k: str) -> str | None:
        e = env.entries.get(f"{name}.{k}")
        if e is None:
            return None
        # The binding is the point: a credential goes only to the hosts it was stored for.
        bad = [h for h in cfg.hosts() if not host_allowed(h, e.allowed_hosts)]
        if bad:
            raise PolicyError(f"the {k.replace('_', ' ')} of remote {name!r} is not allowed to go to {bad[0]}",
                              f"add the remote again: `tokensafe remote add {name} --url …`")
        return e.value.reveal()

    from_env = next((os.environ[v] for v in TOKEN_VARS if os.environ.get(v)), None)
    if from_env:
        from vault.secret import Secret

        Secret(from_env)  # recorded, so that error output masks it too
        kv.set_token(from_env)
    elif cfg.auth == "approle" and stored("role_id") and stored("secret_id"):
        kv.login_approle(stored("role_id") or "", stored("secret_id") or "")
    elif stored("token"):
        kv.set_token(stored("token") or "")
    else:
        raise LockedError(f"no credentials for remote {name!r}",
                          "set BAO_TOKEN (or VAULT_TOKEN), or store a token: "
                          f"`tokensafe remote add {name} --url … --auth token`")
    return cfg, kv


# --remote: reading use cases --------------------------------------------------------------

class RemoteContext(Context):
    """A Context whose `read()` is the remote's environments; the local vault holds only the remote's settings."""

    __slots__ = ("remote", "_remote_data")

    def __init__(self, remote: str, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.remote = remote
        self._remote_data: VaultData | None = None

    def __repr__(self) -> str:
        return f"RemoteContext({self.remote!r}, vault_path={self.vault_path!r})"

    def local(self) -> VaultData:
        return super().read()

    def read(self) -> VaultData:
        if self._remote_data is None:
            local = self.local()
            cfg, kv = connect(local, self.remote)
            self._remote_data = _remote_vault_data(local.current, cfg, kv)
        return self._remote_data

    @contextmanager
    def edit(self) -> Iterator[VaultData]:
        raise UsageError("--remote reads only; change the local environment and `tokensafe push` it")
        yield  # pragma: no cover  (a generator, for @contextmanager)


def _remote_vault_data(current: str, cfg: RemoteConfig, kv: KVClient) -> VaultData:
    from vault.remote.envdoc import from_kv
    from vault.store.model import VaultData

    class RemoteVaultData(VaultData):
        """Environments fetched from the server when first asked for."""

        def __init__(self) -> None:
            self._cache: dict[str, Environment] = {}
            self._listed = False
            super().__init__(current=current)

        @property  # type: ignore[override]
        def environments(self) -> dict[str, Environment]:
            if not self._listed:  # `list --all`: every environment under the path
                for name in kv.list(cfg.path + "/"):
                    if not name.endswith("/") and name not in self._cache:
                        self._fetch(name)
                self._listed = True
            return self._cache

        @environments.setter
        def environments(self, value: dict[str, Environment]) -> None:
            self._cache = dict(value)

        def _fetch(self, name: str) -> Environment | None:
            found = kv.read(cfg.key(name))
            if found is not None:
                self._cache[name] = from_kv(name, found[0])
            return self._cache.get(name)

        def env(self, name: str | None = None) -> Environment:
            name = name or self.current
            env = self._cache.get(name) or self._fetch(name)
            if env is None:
                raise NotFoundError(f"no environment {name!r} on remote {cfg.name!r} ({cfg.mount}/{cfg.key(name)})",
                                    f"`tokensafe push {name} --remote {cfg.name}` puts it there; "
                                    "`--env` picks another environment")
            return env

        def __repr__(self) -> str:
            return f"RemoteVaultData(remote={cfg.name!r})"

    return RemoteVaultData()


# push / pull / history --------------------------------------------------------------------

def _who() -> str:
    import getpass
    import socket

    try:
        return f"{getpass.getuser()}@{socket.gethostname()}"
    except (OSError, KeyError):
        return "unknown"


class SyncResult(Record):
    __slots__ = ("env", "remote", "where", "version", "changes", "replaced", "replaced_changes")

    def __init__(self, env: str, remote: str, where: str, version: int, changes: Diff,
                 replaced: int | None = None, replaced_changes: Diff | None = None) -> None:
        self.env = env
        self.remote = remote
        self.where = where
        self.version = version  # the version now in sync
        self.changes = changes  # what this push/pull changed, by name
        self.replaced = replaced  # --force: the version (push) or local state (pull, 0) it replaced
        self.replaced_changes = replaced_changes  # what someone else had changed there, by name

    def to_json(self) -> dict[str, Any]:
        return {"env": self.env, "remote": self.remote, "where": self.where, "version": self.version,
                "changes": self.changes.to_json(), "replaced": self.replaced,
                "replaced_changes": self.replaced_changes.to_json() if self.replaced_changes else None}


def _record_sync(ctx: Context, cfg_name: str, env: str, version: int, digest: str,
                 also: Callable[[VaultData], None] | None = None) -> None:
    with ctx.edit() as data:
        if also is not None:
            also(data)
        cfg = _config_of(data, cfg_name)
        cfg.synced[env] = {"version": version, "digest": digest}
        _store_config(data, cfg)


def _version_env(kv: KVClient, cfg: RemoteConfig, env: str, version: int | None) -> Environment | None:
    from vault.remote.envdoc import from_kv

    if not version:
        return None
    found = kv.read(cfg.key(env), version)
    return from_kv(env, found[0]) if found is not None else None


def push(ctx: Context, env_name: str, remote: str, force: bool = False) -> SyncResult:
    """Send local ENV to the remote by check-and-set on the version this vault last synced."""
    from vault.remote.envdoc import diff, digest, from_kv, pushed_by, to_kv
    from vault.store.backend import ConflictError

    data = ctx.read()
    local = data.env(env_name)
    if local.name == REMOTES_ENV:
        raise PolicyError(f"refusing to push {REMOTES_ENV}: it holds the remotes' own credentials")
    cfg, kv = connect(data, remote)
    key = cfg.key(local.name)
    found = kv.read(key)
    current = from_kv(local.name, found[0]) if found else None
    version = found[1] if found else 0
    base = cfg.synced.get(local.name, {}).get("version")
    changes = diff(current, local)
    where = f"{cfg.mount}/{key}"
    if found is not None and not changes:
        _record_sync(ctx, remote, local.name, version, digest(local))
        return SyncResult(local.name, remote, where, version, changes)
    replaced = replaced_changes = None
    if found is not None and base != version:
        theirs = diff(_version_env(kv, cfg, local.name, base), current)
        by = pushed_by(found[0])
        if not force:
            moved = (f"moved from version {base} (your last pull or push) to version {version}" if base
                     else f"is at version {version}, which you never pulled")
            raise ConflictError(
                f"{where} {moved}{f' (pushed by {by})' if by else ''}: "
                f"someone else {theirs.describe()}; your push would {changes.describe(future=True)}",
                f"pull first (`tokensafe pull {local.name} --remote {remote}`), or replace version "
                f"{version} with `tokensafe push {local.name} --remote {remote} --force`")
        replaced, replaced_changes = version, theirs
    try:
        new = kv.write(key, to_kv(local, _who()), version)
    except ConflictError:
        raise ConflictError(f"{where} changed on the server while this push ran; nothing was replaced",
                            f"pull it (`tokensafe pull {local.name} --remote {remote}`) and push again") from None
    _record_sync(ctx, remote, local.name, new, digest(local))
    return SyncResult(local.name, remote, where, new, changes, replaced, replaced_changes)


def pull(ctx: Context, env_name: str, remote: str, force: bool = False) -> SyncResult:
    """Make local ENV what the remote holds; local changes not pushed are refused unless force."""
    from vault.remote.envdoc import diff, digest, from_kv
    from vault.store.backend import ConflictError
    from vault.store.model import check_env_name

    check_env_name(env_name)
    if env_name == REMOTES_ENV:
        raise PolicyError(f"refusing to pull into {REMOTES_ENV}: it holds the remotes' own credentials")
    data = ctx.read()
    cfg, kv = connect(data, remote)
    key = cfg.key(env_name)
    where = f"{cfg.mount}/{key}"
    found = kv.read(key)
    if found is None:
        raise NotFoundError(f"no environment {env_name!r} on remote {remote!r} ({where})",
                            f"`tokensafe remote history {env_name} --remote {remote}` shows its versions; "
                            f"`tokensafe push {env_name} --remote {remote}` creates it")
    theirs = from_kv(env_name, found[0])
    local = data.environments.get(env_name)
    changes = diff(local, theirs)
    synced = cfg.synced.get(env_name)
    replaced = replaced_changes = None
    if changes and local is not None and local.entries and (
            synced is None or digest(local) != synced.get("digest")):
        mine = diff(_version_env(kv, cfg, env_name, synced.get("version") if synced else None), local)
        if not force:
            raise_what = (f"your local {env_name} has changes that are not on {remote}: {mine.describe()}"
                          if synced else f"your local {env_name} was never pulled from or pushed to {remote}")
            raise ConflictError(
                f"{raise_what}; pulling version {found[1]} would {changes.describe(future=True)}",
                f"push them first (`tokensafe push {env_name} --remote {remote}`), or replace "
                f"them with `tokensafe pull {env_name} --remote {remote} --force`")
        replaced, replaced_changes = 0, mine

    def apply(d: VaultData) -> None:
        d.ensure_env(env_name).entries = dict(theirs.entries)

    _record_sync(ctx, remote, env_name, found[1], digest(theirs), apply)
    return SyncResult(env_name, remote, where, found[1], changes, replaced, replaced_changes)


class VersionInfo(Record):
    __slots__ = ("version", "created", "deleted", "destroyed", "by", "current")

    def __init__(self, version: int, created: str, deleted: str, destroyed: bool, by: str, current: bool) -> None:
        self.version = version
        self.created = created
        self.deleted = deleted
        self.destroyed = destroyed
        self.by = by
        self.current = current

    def to_json(self) -> dict[str, Any]:
        return self.as_dict()


def history(ctx: Context, env_name: str, remote: str, limit: int = 10) -> list[VersionInfo]:
    """The versions of ENV on the remote, newest first (who and when, never values)."""
    from vault.remote.envdoc import pushed_by

    data = ctx.read()
    cfg, kv = connect(data, remote)
    key = cfg.key(env_name)
    meta = kv.metadata(key)
    if meta is None:
        raise NotFoundError(f"no environment {env_name!r} on remote {remote!r} ({cfg.mount}/{key})")
    current = int(meta.get("current_version", 0))
    out = []
    for v, info in sorted(((int(k), i) for k, i in (meta.get("versions") or {}).items()), reverse=True)[:limit]:
        by = ""
        if not info.get("destroyed") and not info.get("deletion_time"):
            found = kv.read(key, v)  # only the `.tokensafe` field is kept
            by = pushed_by(found[0]) if found else ""
        out.append(VersionInfo(v, str(info.get("created_time", "")), str(info.get("deletion_time") or ""),
                               bool(info.get("destroyed")), by, v == current))
    return out
