"""`tokensafe auth0 login|token|rotate-secret|revoke-token` and `tokensafe status`: parse → service → render.

Nothing here prints a token or a secret: summaries name entries, hosts, scopes and times.
"""

from __future__ import annotations

import json
import sys
import time

import click

from vault.cli.common import env_option, is_tty, make_context, passphrase_fd_option, vault_option
from vault.errors import ExitStatus, UsageError

# `audit` shows this under a live Auth0 token: what the vault can do about a leak.
LEAKED_HINT = ("a live Auth0 token: once imported, `tokensafe auth0 revoke-token --entry NAME` puts it on the "
               "tenant's deny list, and `tokensafe auth0 rotate-secret` replaces the client secret behind it "
               "(both need `tokensafe auth0 login`)")


def _in(seconds: float) -> str:
    """`in 23h 59m`, `in 4m 10s`, `2m ago`."""
    s = int(abs(seconds))
    h, m, sec = s // 3600, s % 3600 // 60, s % 60
    text = f"{h}h {m:02d}m" if h else f"{m}m {sec:02d}s" if m else f"{sec}s"
    return f"in {text}" if seconds >= 0 else f"{text} ago"


def _expiry(expires: float | None, now: float | None = None) -> str:
    if expires is None:
        return "no expiry given"
    left = expires - (time.time() if now is None else now)
    return f"expires {_in(left)}" if left > 0 else f"EXPIRED {_in(left)}"


def read_secret() -> str:
    """The client secret: a hidden prompt on a terminal, else all of stdin (never argv)."""
    if is_tty(sys.stdin):
        from vault.store.unlock import prompt_hidden

        value = prompt_hidden("Client secret (hidden): ")
    else:
        try:
            value = sys.stdin.buffer.read().decode("utf-8").rstrip("\r\n")
        except UnicodeDecodeError:
            raise UsageError("the client secret on stdin is not UTF-8 text") from None
    if not value.strip():
        raise UsageError("empty client secret; nothing was stored",
                         "pipe it in, e.g. `pbpaste | tokensafe auth0 login …`, or type it at the prompt")
    return value


@click.group("auth0", epilog="""\b
Example:
  pbpaste | tokensafe auth0 login --domain tenant.eu.auth0.com --client-id Xy12…
  tokensafe auth0 token
  tokensafe send auth0-management.json 'Users/Get users'   # renews the token when it expires""")
def auth0_group() -> None:
    """Auth0 machine-to-machine credentials: tokens that renew themselves.

    With the client id and secret of an application in the vault, `get`, `run`,
    `inject`, `export`, `request` and `send` fetch a new `auth0_token` when the stored
    one has expired or expires within 5 minutes (TOKENSAFE_REFRESH_MARGIN=SECONDS).
    """


@auth0_group.command("login", epilog="""\b
Examples:
  pbpaste | tokensafe auth0 login --domain tenant.eu.auth0.com --client-id Xy12ab
  tokensafe auth0 login --env prod --domain login.example.com --client-id Xy12ab \\
      --audience https://api.example.com/""")
@vault_option
@env_option
@passphrase_fd_option
@click.option("--domain", required=True, metavar="D", help="Tenant domain, e.g. tenant.eu.auth0.com (a port is fine).")
@click.option("--client-id", required=True, metavar="ID", help="The application's client id.")
@click.option("--audience", default=None, metavar="A", help="API the tokens are for (default: https://D/api/v2/).")
@click.option("--token-url", default=None, metavar="URL",
              help="Another OAuth 2.0 server's token endpoint (default: https://D/oauth/token).")
@click.argument("secret", nargs=-1, required=False, metavar="")
def login_cmd(vault_path, env_name, passphrase_fd, domain, client_id, audience, token_url, secret):
    """Store a machine-to-machine application's client credentials (secret from stdin or a prompt).

    Stores auth0_domain, auth0_client_id, auth0_client_secret (sent only to the token
    server's host) and auth0_audience. Fetch a token with `tokensafe auth0 token`.
    """
    from vault.errors import PolicyError
    from vault.service.auth0 import login

    if secret:
        raise PolicyError("refusing a client secret on the command line: every user of this machine can read argv",
                          "pipe it in (`pbpaste | tokensafe auth0 login …`) or type it at the prompt")
    ctx = make_context(vault_path, passphrase_fd)
    out = login(ctx, domain, client_id, read_secret(), env_name, audience, token_url)
    click.echo(f"Stored the client credentials of {out.client_id} for {out.domain} in {out.env} "
               f"(audience {out.audience}).", err=True)
    if out.dropped_token:
        click.echo("Removed the stored auth0_token: it belonged to another client or tenant.", err=True)
    flag = f" --env {out.env}" if env_name else ""
    click.echo(f"Next: tokensafe auth0 token{flag}", err=True)


@auth0_group.command("token", epilog="""\b
Examples:
  tokensafe auth0 token
  tokensafe auth0 token --env prod --scope 'read:users update:users'
  tokensafe auth0 token --token-url https://keycloak.example.com/realms/x/protocol/openid-connect/token""")
@vault_option
@env_option
@passphrase_fd_option
@click.option("--scope", "scopes", multiple=True, metavar="SCOPE",
              help="Scopes to ask for (repeat, or space-separated; remembered for renewals).")
@click.option("--token-url", default=None, metavar="URL",
              help="Token endpoint of another OAuth 2.0 server (remembered; the secret must be bound to its host).")
def token_cmd(vault_path, env_name, passphrase_fd, scopes, token_url):
    """Fetch a token with the stored client credentials and store it as auth0_token.

    Prints when it expires and its scopes, never the token.
    """
    from vault.service.auth0 import fetch_and_store

    scope = " ".join(s for group in scopes for s in group.split()) or None
    out = fetch_and_store(make_context(vault_path, passphrase_fd), env_name, scope, token_url)
    click.echo(f"Stored auth0_token in {out.env} ({out.kind}, {_expiry(out.expires)}); "
               f"scopes: {out.scope or 'none listed'}", err=True)


@auth0_group.command("rotate-secret", epilog="Example: tokensafe auth0 rotate-secret --env prod")
@vault_option
@env_option
@passphrase_fd_option
def rotate_cmd(vault_path, env_name, passphrase_fd):
    """Have Auth0 issue a new client secret (the old one stops working), store it, fetch a token.

    Uses a Management API token with the update:client_keys scope: the stored one if it
    is for https://D/api/v2/, else one fetched with the client credentials.
    """
    from vault.service.auth0 import rotate_secret

    out = rotate_secret(make_context(vault_path, passphrase_fd), env_name)
    click.echo(f"Rotated the client secret of {out.client_id} on {out.domain}; the new one is stored in {out.env}.",
               err=True)
    if out.token_error is None:
        click.echo(f"Fetched a new auth0_token with it ({_expiry(out.expires)}).", err=True)
    else:
        click.echo(f"tokensafe: warning: fetching a token with the new secret failed: {out.token_error.message}",
                   err=True)
    click.echo("The old secret no longer works: update every other place that holds it (CI secrets, "
               "deployed services, other vaults) — `tokensafe get auth0_client_secret | …` pipes the new one.",
               err=True)
    return ExitStatus.OK if out.token_error is None else out.token_error.exit_code


@auth0_group.command("revoke-token", epilog="""\b
Examples:
  tokensafe auth0 revoke-token --jti 3f9c…
  tokensafe auth0 revoke-token --entry leaked_token --env prod""")
@vault_option
@env_option
@passphrase_fd_option
@click.option("--jti", default=None, metavar="J", help="The token's id (its jti claim).")
@click.option("--entry", "entry_name", default=None, metavar="NAME", help="Revoke the JWT stored as NAME.")
@click.option("--aud", default=None, metavar="AUD", help="The token's aud claim (default: from --entry).")
def revoke_cmd(vault_path, env_name, passphrase_fd, jti, entry_name, aud):
    """Put a token on the tenant's deny list (POST /api/v2/blacklists/tokens)."""
    from vault.service.auth0 import jti_of, revoke_token

    if bool(jti) == bool(entry_name):
        raise UsageError("give exactly one of --jti and --entry", "e.g. tokensafe auth0 revoke-token --jti J")
    ctx = make_context(vault_path, passphrase_fd)
    if entry_name:
        jti, claim_aud = jti_of(ctx, entry_name, env_name)
        aud = aud or claim_aud
    out = revoke_token(ctx, jti, env_name, aud)
    click.echo(f"Revoked the token with jti {out.jti} on {out.domain}.", err=True)


@click.command("status", epilog="""\b
Examples:
  tokensafe status
  tokensafe status --env prod --json
Exit status 1 when a token that tokensafe cannot renew has expired.""")
@vault_option
@env_option
@passphrase_fd_option
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def status_cmd(vault_path, env_name, passphrase_fd, as_json):
    """Every token in the vault: kind, issuer, audience, scopes, expiry, whether it renews itself.

    Exits 1 when a token that cannot be renewed has expired (renew or replace it).
    """
    from vault.service.auth0 import status

    out = status(make_context(vault_path, passphrase_fd), env_name)
    if as_json:
        click.echo(json.dumps(out.to_json(), indent=2))
    elif not out.tokens:
        click.echo("No tokens in the vault." if not env_name else f"No tokens in {env_name}.")
    else:
        for t in out.tokens:
            renew = "renews itself" if t.renewable else "not renewable"
            click.echo(f"{t.env}/{t.name}  {t.kind}  {_expiry(t.expires, out.now)}  {renew}")
            if t.issuer or t.audience:
                click.echo(f"    issuer {t.issuer or '?'}  audience {t.audience or '?'}")
            if t.scopes:
                click.echo(f"    scopes {' '.join(t.scopes)}")
    if out.dead:
        names = ", ".join(f"{t.env}/{t.name}" for t in out.dead)
        click.echo(f"tokensafe: {len(out.dead)} expired token(s) that tokensafe cannot renew: {names}", err=True)
        click.echo("tokensafe: hint: store a fresh one with `tokensafe set NAME`, or let tokensafe renew "
                   "auth0_token with `tokensafe auth0 login`", err=True)
        return ExitStatus.FINDINGS
    return ExitStatus.OK
