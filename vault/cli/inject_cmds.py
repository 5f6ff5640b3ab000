"""run, inject, export, request: secrets leave the vault only at the moment of use.

Thin commands: parse → call `vault.inject` → render. Everything shown to the user goes
through the masker of the environment in use.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from vault.cli.common import (
    env_option,
    is_tty,
    passphrase_fd_option,
    refuse_tty,
    vault_option,
    write_out,
)
from vault.errors import ExitStatus, TokensafeError, UsageError


def _env(vault_path: str | None, env_name: str | None, passphrase_fd: int | None = None):
    from vault.cli import common

    data = common.open_data(vault_path, passphrase_fd)
    return data.env(env_name)


def _warn(text: str) -> None:
    click.echo(f"tokensafe: warning: {text}", err=True)


def _error_masker(env):
    """Masks error text: every value but hosts, which an error about hosts must name."""
    from vault.inject.hosts import AUTH0_DOMAIN
    from vault.inject.mask import Masker

    return Masker({n: e.value.reveal() for n, e in env.entries.items()
                   if n != AUTH0_DOMAIN and e.kind not in ("domain", "url")})


def _masked_errors(masker):
    """Re-raise a TokensafeError with any secret in its text masked (belt and braces)."""
    from contextlib import contextmanager

    @contextmanager
    def guard():
        try:
            yield
        except TokensafeError as e:
            e.message = masker.mask(e.message.encode()).decode("utf-8", "replace")
            if e.hint:
                e.hint = masker.mask(e.hint.encode()).decode("utf-8", "replace")
            raise
    return guard()


# inject ---------------------------------------------------------------------------------

@click.command("inject", epilog="Example: tokensafe inject -i curl.cfg.tmpl | curl -K - https://…")
@vault_option
@env_option
@passphrase_fd_option
@click.option("-i", "--input", "input_file", type=click.Path(dir_okay=False), default=None,
              help="Template file (default: stdin).")
@click.option("-o", "--output", "output_file", type=click.Path(dir_okay=False), default=None,
              help="Write here (created 0600, atomically) instead of stdout.")
@click.option("--keep-unknown", is_flag=True, help="Leave unknown {{names}} as they are.")
@click.option("--reveal", is_flag=True, help="Allow writing to a terminal.")
def inject_cmd(vault_path, env_name, passphrase_fd, input_file, output_file, keep_unknown, reveal):
    """Resolve {{name}} and {{vault:name}} in a template; write the result to stdout.

    Postman's dynamic variables ({{$guid}}, {{$timestamp}} …) are left for the consumer.
    An unknown name is an error and nothing is written, unless --keep-unknown.
    """
    from vault.inject.template import resolve

    if output_file is None:
        refuse_tty(reveal, "resolved secrets")
    try:
        if input_file and input_file != "-":
            text = Path(input_file).read_bytes().decode("utf-8")
        else:
            text = sys.stdin.buffer.read().decode("utf-8")
    except OSError as e:
        raise UsageError(f"cannot read {input_file}: {e.strerror}") from None
    except UnicodeDecodeError:
        raise UsageError("the template is not UTF-8 text", "inject resolves text templates only") from None
    env = _env(vault_path, env_name, passphrase_fd)
    out = resolve(text, env.values(), keep_unknown=keep_unknown)
    if output_file:
        from vault.store.fileio import atomic_write

        # A file the user named: 0600 from the first byte, replaced atomically.
        atomic_write(Path(output_file), out.encode())
    else:
        write_out(out)


# export ---------------------------------------------------------------------------------

@click.command("export", epilog="Example: tokensafe export --format postman | newman run c.json -e /dev/stdin")
@vault_option
@env_option
@passphrase_fd_option
@click.option("--format", "-f", "fmt", type=click.Choice(["postman", "dotenv", "json", "shell"]),
              default="postman", show_default=True, help="Output format.")
@click.option("--only", multiple=True, metavar="NAME", help="Only these entries (repeatable).")
@click.option("--as-is", is_flag=True, help="dotenv/shell: keep vault names instead of UPPER_CASE.")
@click.option("--reveal", is_flag=True, help="Allow writing to a terminal.")
def export_cmd(vault_path, env_name, passphrase_fd, fmt, only, as_is, reveal):
    """Write an environment to stdout for another tool to read from a pipe.

    \b
      tokensafe export --format postman | newman run c.json -e /dev/stdin
      tokensafe export --format dotenv  | docker run --env-file /dev/stdin IMAGE
      eval "$(tokensafe export --format shell)"
    dotenv and shell names are UPPER_CASE with non-alphanumerics as _ (--as-is keeps them).
    """
    from vault.inject.export import render

    refuse_tty(reveal, "secret values")
    env = _env(vault_path, env_name, passphrase_fd)
    values = env.values()
    if only:
        missing = [n for n in _split(only) if n not in values]
        if missing:
            env.get(missing[0])
        values = {n: values[n] for n in _split(only)}
    kinds = {n: e.kind for n, e in env.entries.items()}
    write_out(render(fmt, env.name, values, as_is=as_is, kinds=kinds))


def _split(names) -> list[str]:
    from vault.cli.runfast import split_names

    return split_names(names)


# run ------------------------------------------------------------------------------------

@click.command("run", context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False},
               epilog="Example: tokensafe run --env prod -- ./sync-users.sh")
@vault_option
@env_option
@passphrase_fd_option
@click.option("--only", multiple=True, metavar="NAME", help="Only these entries (repeatable or a,b).")
@click.option("--as-is", is_flag=True, help="Keep vault names as variable names (no UPPER_CASE).")
@click.option("--no-mask", is_flag=True, help="Do not mask the child's output.")
@click.option("--allow-nested", is_flag=True, help="Allow `run` inside `run`.")
@click.argument("argv", nargs=-1, type=click.UNPROCESSED, required=True)
def run_cmd(vault_path, env_name, passphrase_fd, only, as_is, no_mask, allow_nested, argv):
    """Run CMD with the entries as environment variables; mask secrets in its output.

    Names become UPPER_CASE with non-alphanumerics as _ (auth0_token → AUTH0_TOKEN);
    --as-is keeps them. {{…}} in CMD's arguments is refused: argv is public. stdout and
    stderr are masked (each value and its base64, base64url, URL-encoded and JSON forms
    → <redacted:NAME>); on a terminal the child gets a pseudo-terminal. Signals are
    forwarded and the child's exit code is returned.
    """
    from vault.cli.runfast import run_command

    # One body for both parsers: the click-free fast path (vault.cli.runfast) calls it too.
    return run_command(argv, vault_path, env_name, passphrase_fd, only, as_is, no_mask, allow_nested)


# request --------------------------------------------------------------------------------

def _http_options(f):
    f = click.option("--max-time", "-m", type=float, default=None, metavar="S",
                     help="Give up after S seconds (per phase, like curl -m).")(f)
    f = click.option("--connect-timeout", type=float, default=300.0, show_default=True, metavar="S",
                     help="Seconds allowed to connect.")(f)
    f = click.option("--allow-unbound", is_flag=True,
                     help="Entries without allowed hosts of their own may go to any host "
                          "(each one named in a warning).")(f)
    f = click.option("--fail", "-f", "fail", is_flag=True,
                     help=f"Exit {int(ExitStatus.HTTP_STATUS)} when a response status is 400 or more (as curl -f).")(f)
    return f


def _body_arg(data: str | None) -> bytes | None:
    if data is None:
        return None
    if data == "@-":
        return sys.stdin.buffer.read()
    if data.startswith("@"):
        try:
            return Path(data[1:]).read_bytes()
        except OSError as e:
            raise UsageError(f"cannot read {data[1:]}: {e.strerror}") from None
    return data.encode()


@click.command("request", epilog="Example: tokensafe request GET 'https://{{auth0_domain}}/api/v2/users' "
               "-H 'Authorization: Bearer {{auth0_token}}'")
@vault_option
@env_option
@passphrase_fd_option
@click.argument("method")
@click.argument("url")
@click.option("-H", "--header", "headers", multiple=True, metavar="'K: V'", help="A header (repeatable).")
@click.option("-d", "--data", "data", default=None, metavar="DATA|@FILE|@-", help="Request body.")
@click.option("-i", "--include", is_flag=True, help="Show the status line and headers.")
@click.option("--dry-run", is_flag=True, help="Show the resolved request (secrets masked); send nothing.")
@_http_options
def request_cmd(vault_path, env_name, passphrase_fd, method, url, headers, data, include, dry_run,
                max_time, connect_timeout, allow_unbound, fail):
    """Send one HTTP request with {{name}} resolved in the URL, headers and body.

    The secrets go only to hosts their entries allow (an entry with none is bound to the
    environment's auth0_domain). Output is masked; JSON is pretty-printed on a terminal.
    A -d body without Content-Type is sent as application/json when it looks like JSON,
    else as a form.
    """
    from vault.inject.hosts import HostPolicy
    from vault.inject.http import Req
    from vault.inject.mask import Masker
    from vault.inject.template import Layer, Resolver

    body = _body_arg(data)
    env = _env(vault_path, env_name, passphrase_fd)
    values = env.values()
    masker = Masker(values)
    with _masked_errors(_error_masker(env)):
        res = Resolver([Layer("vault", values, secret=True)], dynamic=True)
        rurl = res.resolve(url, check=False)
        if "://" not in rurl:
            rurl = "https://" + rurl
        hdrs = []
        for h in headers:
            if ":" not in h:
                raise UsageError(f"a header needs a colon: {masker.mask(h.encode()).decode()!r}",
                                 "write it as -H 'Name: value'")
            k, v = h.split(":", 1)
            hdrs.append((res.resolve(k.strip(), check=False), res.resolve(v.strip(), check=False)))
        content = None
        if body is not None:
            try:
                content = res.resolve(body.decode("utf-8"), check=False).encode()
            except UnicodeDecodeError:
                content = body  # binary: sent as it is, no templates in it
        res.check()
        req = Req(method.upper(), rurl, hdrs, content, used=set(res.used_secrets))
        if content is not None and not req.has_header("content-type"):
            looks_json = content.lstrip()[:1] in (b"{", b"[")
            req.headers.append(("Content-Type", "application/json" if looks_json
                                else "application/x-www-form-urlencoded"))
        policy = HostPolicy.for_env(env, allow_unbound)
        _check_hosts(policy, req)
        if dry_run:
            write_out(masker.mask(req.describe().encode()))
            return 0
        return _send_and_show([req], masker, include, max_time, connect_timeout, fail, summary=False)


def _check_hosts(policy, req) -> None:
    from vault.inject.hosts import request_host

    for name in policy.check(req.url, req.used):
        _warn(f"--allow-unbound: sending {name!r} to {request_host(req.url)!r}, a host no rule allows")


def _send_and_show(reqs, masker, include, max_time, connect_timeout, fail, summary: bool,
                   summary_masker=None) -> int:
    from vault.inject.http import client, send

    pretty = is_tty()
    code = 0
    with client(max_time, connect_timeout) as cl:
        for req in reqs:
            resp = send(cl, req)
            if summary:
                line = f"{req.name}: {req.method} {req.url} → {resp.status} {resp.reason} ({resp.elapsed * 1000:.0f} ms)"
                click.echo((summary_masker or masker).mask(line.encode()).decode("utf-8", "replace"),
                           err=True)
            out = (resp.head_text().encode() if include else b"") + resp.body_text(pretty)
            if out and not out.endswith(b"\n") and (pretty or summary):
                out += b"\n"  # one body per line when `send` runs several
            write_out(masker.mask(out))
            if fail and resp.status >= 400:
                code = ExitStatus.HTTP_STATUS
    return code
