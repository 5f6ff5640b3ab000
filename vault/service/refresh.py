"""Auto-refresh: the one call every use case that hands out values makes before it does.

`ensure_fresh(ctx, env)` returns the vault's data, with `auth0_token` renewed first when it
has expired or expires within the margin (TOKENSAFE_REFRESH_MARGIN seconds, default 300)
and the environment holds client credentials (`tokensafe auth0 login`).

On the start-up path of `get` and `run`: deciding is metadata only (the entry's `expires`),
so this module imports nothing beyond the standard library; the grant, and httpx with it,
load only when a token is actually fetched (vault.service.auth0).

Single flight across processes: the fetch happens under the vault's lock after a re-read,
so N processes with the same expired token cause one request; the others wait on the lock,
re-read, find the new token and go on.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from vault.service.context import Context
    from vault.store.model import Environment, VaultData

TOKEN = "auth0_token"
DOMAIN = "auth0_domain"
CLIENT_ID = "auth0_client_id"
CLIENT_SECRET = "auth0_client_secret"
TOKEN_URL = "auth0_token_url"  # only when not the Auth0 preset (https://DOMAIN/oauth/token)
MARGIN_S = 300.0
MARGIN_ENV = "TOKENSAFE_REFRESH_MARGIN"


def margin() -> float:
    """Renew this many seconds before expiry: TOKENSAFE_REFRESH_MARGIN, else 5 minutes."""
    try:
        value = float(os.environ.get(MARGIN_ENV, MARGIN_S))
    except ValueError:
        return MARGIN_S
    return value if value >= 0 else MARGIN_S


def renewable(env: Environment) -> bool:
    """The environment holds what a client-credentials grant needs."""
    e = env.entries
    return CLIENT_ID in e and CLIENT_SECRET in e and (DOMAIN in e or TOKEN_URL in e)


def stale(env: Environment, now: float | None = None, within: float | None = None) -> bool:
    """No token yet, or it expires within the margin (a token without expiry never is)."""
    tok = env.entries.get(TOKEN)
    if tok is None:
        return True
    if tok.expires is None:
        return False
    now = time.time() if now is None else now
    return tok.expires - now <= (margin() if within is None else within)


def ensure_fresh(ctx: Context, env_name: str | None = None, names: Iterable[str] | None = None) -> VaultData:
    """The vault's data, `auth0_token` of ENV renewed first if it needs it (see the module doc).

    `names`: the entries the caller will use (None: all of them); `auth0_token` not among
    them means nothing is fetched. A failed renewal of a token that has not expired yet is
    a warning and the old token is used; of an expired one, the error (exit 3 or 8).
    """
    data = ctx.read()  # through the agent when one runs
    if getattr(ctx, "remote", None):
        return data  # --remote reads a team vault read-only: a renewed token has nowhere to go
    env = data.env(env_name)
    if names is not None and TOKEN not in names:
        return data
    if not renewable(env) or not stale(env):
        return data
    from vault.service.auth0 import refresh_locked

    return refresh_locked(ctx, data, env.name)
