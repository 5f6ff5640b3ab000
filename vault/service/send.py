"""The `send` use case: pick requests of a Postman collection, build each with vault values,
and check all of them before the first is sent — a selection with one bad request sends
nothing. Front ends parse options into `SendOptions`, call `select` and `plan`, then send
`SendPlan.requests` and render.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from vault.errors import NotFoundError, UsageError

if TYPE_CHECKING:
    from vault.formats.collection import Collection, Item
    from vault.inject.http import Req
    from vault.service.context import Context
    from vault.store.model import Environment

# At most this many requests are named in one error; the rest are counted.
SHOW_AT_MOST = 5


@dataclass(frozen=True)
class SendOptions:
    collection: Path
    items: tuple[str, ...] = ()  # addresses (see vault.formats.collection); none: every request
    variables: Mapping[str, str] = field(default_factory=dict, repr=False)  # --var: beats vault and collection
    keep_path_vars: bool = False  # send `:name` literally when it has no value, as newman does
    allow_unbound: bool = False  # entries bound to no host may go anywhere (each one reported)
    files_from: tuple[Path, ...] = ()  # folders file uploads may come from, besides the collection's
    vault_path: Path | None = None  # the vault in use: its folder is never a source of uploads


@dataclass
class Selection:
    collection: Collection
    items: list[Item]  # the request items, in collection order per address

    @property
    def scripts(self) -> int:
        """Pre-request/test scripts that would run for these requests (never run here)."""
        return self.collection.scripts_in(self.items)


@dataclass(frozen=True)
class Unbound:
    """A vault entry bound to no host, sent anyway under `allow_unbound`."""

    request: str
    entry: str
    host: str


@dataclass
class SendPlan:
    requests: list[Req]
    unbound: list[Unbound]


def load_env(ctx: Context, env_name: str | None = None) -> Environment:
    """The environment to send with, its `auth0_token` renewed first if it needs it."""
    from vault.service.refresh import ensure_fresh

    return ensure_fresh(ctx, env_name).env(env_name)


def select(opts: SendOptions) -> Selection:
    """Load the collection and resolve the addresses; no vault access."""
    from vault.formats.collection import load

    col = load(opts.collection)
    chosen = [col.find(a) for a in opts.items] if opts.items else [col.root]
    items = [r for it in chosen for r in it.requests()]
    if not items:
        raise NotFoundError("nothing to send: the selection holds no request",
                            "`tokensafe send COLLECTION --list` shows every item's address")
    return Selection(col, items)


def _printable(text: str) -> str:
    return text.encode("utf-8", "replace").decode("utf-8")


def plan(opts: SendOptions, selection: Selection, env: Environment) -> SendPlan:
    """Build every selected request and check it against the host policy.

    Raises before anything could be sent: unknown `{{names}}` (NotFoundError), path variables
    without a value in any request (UsageError naming each), a host an entry may not go to
    (PolicyError), a file upload outside the collection's folder and `files_from`
    (PolicyError), text that is not valid Unicode (UsageError)."""
    from vault.inject.files import own_folders
    from vault.inject.hosts import HostPolicy, request_host
    from vault.inject.postman import MissingPathVariables, Uploads, build, path_var_hint
    from vault.inject.template import UNKNOWN_HINT, Layer, Resolver

    values = env.values()
    overrides = dict(opts.variables)
    base_dir = opts.collection.resolve().parent
    uploads = Uploads([base_dir, *opts.files_from], own_folders(opts.vault_path))
    hint = f"{UNKNOWN_HINT}; --var NAME=VALUE gives one for this run"
    reqs: list[Req] = []
    missing: list[MissingPathVariables] = []
    for item in selection.items:
        res = Resolver([Layer("--var", overrides), Layer("vault", values, secret=True),
                        Layer("collection", selection.collection.variables)],
                       dynamic=True, unknown_hint=hint)
        try:
            reqs.append(build(item, res, overrides, base_dir, keep_path_vars=opts.keep_path_vars,
                              uploads=uploads))
        except MissingPathVariables as e:
            missing.append(e)
        except UnicodeError:  # a lone surrogate (`"\ud800"` is valid JSON) cannot be sent
            raise UsageError(f"{_printable(item.path)}: holds text that is not valid Unicode",
                             "check the request's URL, headers and body in the collection") from None
    if len(missing) == 1:
        raise missing[0]
    if missing:
        names = list(dict.fromkeys(n for e in missing for n in e.names))
        shown = ", ".join(f"{e.request} ({' '.join(':' + n for n in e.names)})" for e in missing[:SHOW_AT_MOST])
        more = f" and {len(missing) - SHOW_AT_MOST} more" if len(missing) > SHOW_AT_MOST else ""
        raise UsageError(f"{len(missing)} requests have path variables without a value: {shown}{more}",
                         path_var_hint(names))
    policy = HostPolicy.for_env(env, opts.allow_unbound)
    unbound = [Unbound(req.name, name, request_host(req.url))
               for req in reqs for name in policy.check(req.url, req.used)]
    return SendPlan(reqs, unbound)
