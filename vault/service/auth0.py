"""Auth0 machine-to-machine use cases: login, token, the locked refresh, status, rotate, revoke.

The vault holds, per environment: `auth0_domain`, `auth0_client_id`, `auth0_client_secret`
(bound to the token server's host), `auth0_audience`, optionally `auth0_scope` (the scope
asked for) and `auth0_token_url` (a non-Auth0 OAuth 2.0 server), and `auth0_token` with its
expiry in the entry's `expires`. The grant itself is generic: vault.inject.oauth.

No printing; typed results; `vault.errors` exceptions. Every network call that changes the
vault runs under its lock, after a re-read (`VaultStore.edit`).
"""

from __future__ import annotations

import time
import urllib.parse
from typing import TYPE_CHECKING, Any

from vault.errors import NotFoundError, PolicyError, TokensafeError, UsageError
from vault.record import Record
from vault.service.context import Context
from vault.service.refresh import (
    CLIENT_ID,
    CLIENT_SECRET,
    DOMAIN,
    TOKEN,
    TOKEN_URL,
    renewable,
    stale,
)

if TYPE_CHECKING:
    from vault.inject.oauth import Grant, Token
    from vault.secret import Secret
    from vault.store.model import Environment, VaultData

AUDIENCE = "auth0_audience"
SCOPE = "auth0_scope"
CREDENTIALS = (CLIENT_ID, CLIENT_SECRET)


class _Unchanged(Exception):
    """Leaves an edit without writing: another process renewed the token first."""

    def __init__(self, data: VaultData) -> None:
        self.data = data


def default_audience(domain: str) -> str:
    return f"https://{domain}/api/v2/"


def check_domain(domain: str) -> str:
    """`tenant.eu.auth0.com`, `127.0.0.1:8443` (a port is fine); a URL is cut to its host."""
    from vault.inject.hosts import normalise_host
    from vault.store.model import check_host_pattern

    host = normalise_host(domain) if domain.strip() else ""
    if not host or "*" in domain:
        raise UsageError(f"not a domain: {domain!r}", "e.g. --domain tenant.eu.auth0.com")
    return check_host_pattern(host)


def _env_for(data: VaultData, env_name: str | None) -> Environment:
    return data.env(env_name)


def _require_credentials(env: Environment) -> None:
    if not renewable(env):
        raise NotFoundError(f"environment {env.name!r} holds no Auth0 client credentials",
                            f"store them with `tokensafe auth0 login --env {env.name} --domain D --client-id ID`")


def _value(env: Environment, name: str) -> str | None:
    e = env.entries.get(name)
    return e.value.reveal() if e is not None else None


def grant_for(env: Environment, scope: str | None = None, token_url: str | None = None,
              audience: str | None = None) -> Grant:
    """The client-credentials grant the environment's entries describe (overrides win).

    The client secret goes only to a host it is bound to (PolicyError otherwise)."""
    from vault.inject.hosts import request_host
    from vault.inject.oauth import Grant, token_url_for_domain
    from vault.store.model import host_allowed

    _require_credentials(env)
    domain = _value(env, DOMAIN)
    url = token_url or _value(env, TOKEN_URL) or token_url_for_domain(domain or "")
    secret = env.entries[CLIENT_SECRET]
    grant = Grant(url, _value(env, CLIENT_ID) or "", secret.value,
                  audience or _value(env, AUDIENCE) or (default_audience(domain) if domain else None),
                  scope if scope is not None else _value(env, SCOPE))
    host = request_host(grant.token_url)
    allowed = secret.allowed_hosts or ([check_domain(domain)] if domain else [])
    if not host_allowed(host, allowed):
        raise PolicyError(f"refusing to send {CLIENT_SECRET!r} to {host!r}: allowed hosts are {', '.join(allowed)}",
                          "log in again with --token-url to bind the client secret to that server")
    return grant


def store_token(env: Environment, token: Token) -> None:
    """Put the new token in place of the old one (keeping its creation time and hosts)."""
    from vault.inject.hosts import bindings_for
    from vault.store.model import Entry

    old = env.entries.get(TOKEN)
    value = token.access_token.reveal()
    entry = Entry.new(TOKEN, value, old.allowed_hosts if old else [])
    entry.expires = token.expires_at
    # Bound, as `set` binds, to the tenant it came from; a renewal keeps the first binding.
    entry.bound_to = (old.bound_to if old is not None and old.bound_to is not None
                      else bindings_for(env, {TOKEN: value})[TOKEN])
    if old is not None:
        entry.created = old.created
    env.entries[TOKEN] = entry


# login ----------------------------------------------------------------------------------

class LoginResult(Record):
    __slots__ = ("env", "domain", "client_id", "audience", "token_url", "dropped_token")

    def __init__(self, env: str, domain: str, client_id: str, audience: str, token_url: str,
                 dropped_token: bool) -> None:
        self.env = env
        self.domain = domain
        self.client_id = client_id
        self.audience = audience
        self.token_url = token_url
        self.dropped_token = dropped_token  # a token of another client or tenant was removed


def check_client_id(client_id: str) -> str:
    cid = client_id.strip()
    if not cid or len(cid) > 200 or not all(c.isalnum() or c in "-_.@" for c in cid):
        raise UsageError(f"not a client id: {client_id!r}",
                         "copy it from the application's settings (letters and digits)")
    return cid


def login(ctx: Context, domain: str, client_id: str, client_secret: str, env_name: str | None = None,
          audience: str | None = None, token_url: str | None = None) -> LoginResult:
    """Store the client credentials of a machine-to-machine application in ENV."""
    from vault.inject.hosts import bindings_for, request_host
    from vault.inject.oauth import check_token_url, token_url_for_domain
    from vault.store.model import Entry

    host = check_domain(domain)
    cid = check_client_id(client_id)
    if not client_secret.strip():
        raise UsageError("empty client secret; nothing was stored")
    url = check_token_url(token_url) if token_url else token_url_for_domain(host)
    aud = audience or default_audience(host)
    with ctx.edit() as data:
        env = data.ensure_env(env_name) if env_name else data.env()
        same_client = _value(env, DOMAIN) == host and _value(env, CLIENT_ID) == cid
        dropped = TOKEN in env.entries and not same_client
        if dropped:
            del env.entries[TOKEN]  # it belongs to another client: never renewed with these
        values = {DOMAIN: (host, []), CLIENT_ID: (cid, []),
                  CLIENT_SECRET: (client_secret.strip(), [request_host(url)]), AUDIENCE: (aud, [])}
        # A new domain never widens where entries already stored may go (as with `set`).
        bound = bindings_for(env, {name: value for name, (value, _) in values.items()})
        for name, (value, hosts) in values.items():
            old = env.entries.get(name)
            entry = Entry.new(name, value, hosts)
            entry.bound_to = bound[name]
            if old is not None:
                entry.created = old.created
            env.entries[name] = entry
        if token_url:
            env.entries[TOKEN_URL] = Entry.new(TOKEN_URL, url)
        else:
            env.entries.pop(TOKEN_URL, None)
    return LoginResult(env.name, host, cid, aud, url, dropped)


# token and the refresh ------------------------------------------------------------------

class TokenResult(Record):
    __slots__ = ("env", "expires", "scope", "kind", "token_url")

    def __init__(self, env: str, expires: float | None, scope: str | None, kind: str, token_url: str) -> None:
        self.env = env
        self.expires = expires
        self.scope = scope  # as granted
        self.kind = kind
        self.token_url = token_url


def fetch_and_store(ctx: Context, env_name: str | None = None, scope: str | None = None,
                    token_url: str | None = None) -> TokenResult:
    """Fetch a token with the stored client credentials now, and store it (`auth0 token`).

    A `scope` given is remembered for renewals; so is a `token_url`."""
    from vault.inject.oauth import check_token_url, fetch_token
    from vault.store.model import Entry

    if token_url:
        check_token_url(token_url)
    with ctx.edit() as data:
        env = _env_for(data, env_name)
        grant = grant_for(env, scope=scope, token_url=token_url)
        token = fetch_token(grant)
        store_token(env, token)
        if scope:
            env.entries[SCOPE] = Entry.new(SCOPE, scope)
        if token_url:
            env.entries[TOKEN_URL] = Entry.new(TOKEN_URL, token_url)
    return TokenResult(env.name, token.expires_at, token.scope, env.entries[TOKEN].kind, grant.token_url)


def refresh_locked(ctx: Context, read: VaultData, env_name: str) -> VaultData:
    """Renew ENV's token under the vault's lock unless another process just did (see refresh.py).

    `read`: the data the caller read (unlocked) before; the edit re-reads under the lock.
    """
    from vault.inject.oauth import fetch_token

    try:
        with ctx.edit() as latest:
            env = latest.env(env_name)
            if not renewable(env) or not stale(env):
                raise _Unchanged(latest)
            store_token(env, fetch_token(grant_for(env)))
        return latest
    except _Unchanged as done:
        return done.data
    except TokensafeError as e:
        old = read.env(env_name).entries.get(TOKEN)
        if old is not None and old.expires is not None and old.expires > time.time():
            left = int(old.expires - time.time())
            ctx.warn(f"could not renew {TOKEN!r} ({e.message}); using the stored one, valid for {left} s more")
            return read
        e.message = f"{TOKEN!r} has expired and could not be renewed: {e.message}"
        raise


# status ---------------------------------------------------------------------------------

class TokenInfo(Record):
    __slots__ = ("env", "name", "kind", "issuer", "audience", "scopes", "expires", "renewable")

    def __init__(self, env: str, name: str, kind: str, issuer: str | None, audience: str | None,
                 scopes: list[str], expires: float | None, renewable: bool) -> None:
        self.env = env
        self.name = name
        self.kind = kind
        self.issuer = issuer
        self.audience = audience
        self.scopes = scopes
        self.expires = expires  # epoch seconds, None: unknown / never
        self.renewable = renewable

    def expired(self, now: float) -> bool:
        return self.expires is not None and self.expires <= now

    def to_json(self, now: float) -> dict[str, Any]:
        d = self.as_dict()
        d["expires_in"] = None if self.expires is None else int(self.expires - now)
        d["expired"] = self.expired(now)
        return d


class Status(Record):
    __slots__ = ("tokens", "now")

    def __init__(self, tokens: list[TokenInfo], now: float) -> None:
        self.tokens = tokens
        self.now = now

    @property
    def dead(self) -> list[TokenInfo]:
        """Expired tokens that tokensafe cannot renew (status exits 1 when there are any)."""
        return [t for t in self.tokens if t.expired(self.now) and not t.renewable]

    def to_json(self) -> dict[str, Any]:
        return {"tokens": [t.to_json(self.now) for t in self.tokens],
                "expired_not_renewable": len(self.dead)}


def _aud(claims: dict[str, Any]) -> str | None:
    aud = claims.get("aud")
    if isinstance(aud, list):
        return " ".join(str(a) for a in aud)
    return str(aud) if aud is not None else None


def status(ctx: Context, env_name: str | None = None, now: float | None = None) -> Status:
    """Every token (JWT or opaque) in the vault, or in ENV: who issued it, for what, until when."""
    from vault.store.model import jwt_claims

    now = time.time() if now is None else now
    data = ctx.read()
    envs = [data.env(env_name)] if env_name else [data.environments[n] for n in sorted(data.environments)]
    found: list[TokenInfo] = []
    for env in envs:
        can_renew = renewable(env)
        for name in sorted(env.entries):
            entry = env.entries[name]
            if name in CREDENTIALS or entry.kind not in ("jwt", "token") and name != TOKEN:
                continue
            claims = jwt_claims(entry.value.reveal()) or {}
            issuer = claims.get("iss")
            audience = _aud(claims)
            scope = claims.get("scope")
            if name == TOKEN and can_renew:
                issuer = issuer or (f"https://{_value(env, DOMAIN)}/" if _value(env, DOMAIN) else None)
                audience = audience or _value(env, AUDIENCE)
            found.append(TokenInfo(env.name, name, entry.kind, str(issuer) if issuer else None, audience,
                                   scope.split() if isinstance(scope, str) else [],
                                   entry.expires, name == TOKEN and can_renew))
    return Status(found, now)


# rotate-secret and revoke-token ---------------------------------------------------------

def _management_token(env: Environment) -> Secret:
    """A Management API token: the stored one if it is for that API and fresh, else a new one
    fetched with the client credentials (not stored: it may carry other scopes)."""
    from vault.inject.oauth import fetch_token

    domain = _value(env, DOMAIN)
    if not domain:
        raise NotFoundError(f"environment {env.name!r} holds no {DOMAIN!r}",
                            f"`tokensafe auth0 login --env {env.name} --domain D --client-id ID`")
    api = default_audience(domain)
    tok = env.entries.get(TOKEN)
    if tok is not None and _value(env, AUDIENCE) == api and not stale(env):
        return tok.value
    return fetch_token(grant_for(env, audience=api, scope="")).access_token


class Rotated(Record):
    __slots__ = ("env", "domain", "client_id", "expires", "token_error")

    def __init__(self, env: str, domain: str, client_id: str, expires: float | None,
                 token_error: TokensafeError | None) -> None:
        self.env = env
        self.domain = domain
        self.client_id = client_id
        self.expires = expires  # of the fresh token
        self.token_error = token_error  # fetching a token with the new secret failed (it is stored)


def rotate_secret(ctx: Context, env_name: str | None = None) -> Rotated:
    """Have Auth0 issue a new client secret, store it, and fetch a token with it.

    The old secret stops working at once, so the new one is written even if the token fetch
    after it fails (reported in `token_error`)."""
    from vault.inject.oauth import call_api, fetch_token
    from vault.store.model import Entry

    with ctx.edit() as data:
        env = _env_for(data, env_name)
        _require_credentials(env)
        mgmt = _management_token(env)
        domain = _value(env, DOMAIN) or ""
        cid = _value(env, CLIENT_ID) or ""
        url = f"https://{domain}/api/v2/clients/{urllib.parse.quote(cid, safe='')}/rotate-secret"
        doc = call_api("POST", url, mgmt)
        new = doc.get("client_secret") if isinstance(doc, dict) else None
        if not isinstance(new, str) or not new:
            raise TokensafeError(f"{domain} rotated the secret but its answer holds no client_secret",
                                 "get the new secret from the Auth0 dashboard and run `tokensafe auth0 login`")
        old = env.entries[CLIENT_SECRET]
        entry = Entry.new(CLIENT_SECRET, new, old.allowed_hosts)
        entry.bound_to = old.bound_to
        entry.created = old.created
        env.entries[CLIENT_SECRET] = entry
        token_error: TokensafeError | None = None
        expires = None
        try:
            token = fetch_token(grant_for(env))
            store_token(env, token)
            expires = token.expires_at
        except TokensafeError as e:
            token_error = e
    return Rotated(env.name, domain, cid, expires, token_error)


class Revoked(Record):
    __slots__ = ("env", "domain", "jti")

    def __init__(self, env: str, domain: str, jti: str) -> None:
        self.env = env
        self.domain = domain
        self.jti = jti


def jti_of(ctx: Context, name: str, env_name: str | None = None) -> tuple[str, str | None]:
    """(jti, aud) of a JWT stored as NAME, for `revoke-token --entry`."""
    from vault.store.model import jwt_claims

    claims = jwt_claims(ctx.read().env(env_name).get(name).value.reveal()) or {}
    jti = claims.get("jti")
    if not isinstance(jti, str) or not jti:
        raise UsageError(f"{name!r} is not a JWT with a jti claim", "give the token's id with --jti")
    return jti, _aud(claims)


def revoke_token(ctx: Context, jti: str, env_name: str | None = None, aud: str | None = None) -> Revoked:
    """Add a token id to the tenant's deny list (POST /api/v2/blacklists/tokens)."""
    from vault.inject.oauth import call_api

    jti = jti.strip()
    if not jti or len(jti) > 256 or not jti.isprintable():
        raise UsageError(f"not a token id: {jti!r}", "the jti claim of the token, e.g. from `tokensafe status`")
    env = ctx.read().env(env_name)
    _require_credentials(env)
    mgmt = _management_token(env)
    domain = _value(env, DOMAIN) or ""
    body: dict[str, Any] = {"jti": jti}
    if aud:
        body["aud"] = aud
    call_api("POST", f"https://{domain}/api/v2/blacklists/tokens", mgmt, body)
    return Revoked(env.name, domain, jti)
