"""run, inject, export, request: secrets leave the vault only at the moment of use.

Thin commands: parse → call `vault.service.inject` → render. Everything shown to the user goes
through the masker of the environment in use.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from vault.cli.common import (
    env_option,
    is_tty,
    make_context,
    passphrase_fd_option,
    refuse_tty,
    remote_option,
    vault_option,
    write_out,
)
from vault.errors import ExitStatus, UsageError
from vault.service import inject as service


def _env(vault_path: str | None, env_name: str | None, passphrase_fd: int | None = None):
    from vault.service.send import load_env

    return load_env(make_context(vault_path, passphrase_fd), env_name)


def _warn(text: str) -> None:
    click.echo(f"tokensafe: warning: {text}", err=True)


def _error_masker(env):
    """Masks error text: every value but hosts (see vault.service.inject.error_masker)."""
    from vault.service.inject import error_masker

    return error_masker(env)


def _masked_errors(masker):
    """Re-raise a TokensafeError with any secret in its text masked (belt and braces)."""
    from vault.service.inject import masked_errors

    return masked_errors(masker)


# inject ---------------------------------------------------------------------------------

@click.command("inject", epilog="Example: tokensafe inject -i curl.cfg.tmpl | curl -K - https://…")
@vault_option
@env_option
@remote_option
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
    out = service.inject(make_context(vault_path, passphrase_fd), text, env_name, keep_unknown)
    if output_file:
        service.write_private(Path(output_file), out)
    else:
        write_out(out)


# export ---------------------------------------------------------------------------------

@click.command("export", epilog="Example: tokensafe export --format postman | newman run c.json -e /dev/stdin")
@vault_option
@env_option
@remote_option
@passphrase_fd_option
@click.option("--format", "-f", "fmt", type=click.Choice(["postman", "dotenv", "json", "shell"]),
              default="postman", show_default=True, help="Output format.")
@click.option("--only", multiple=True, metavar="NAME", help="Only these entries (repeatable).")
@click.option("--as-is", is_flag=True, help="dotenv/shell: keep vault names instead of UPPER_CASE.")
@click.option("--allow-env", multiple=True, metavar="NAME",
              help="dotenv/shell: set this variable even though it is on SECURITY.md's list "
                   "(PATH, LD_*, *_PROXY, …); repeatable or a,b.")
@click.option("--reveal", is_flag=True, help="Allow writing to a terminal.")
@click.option("-o", "--output", "output_file", type=click.Path(dir_okay=False), default=None,
              help="Write here (created 0600, atomically) instead of stdout.")
@click.option("--force", is_flag=True, help="Allow stdout redirected to a file (`> x.json`).")
def export_cmd(vault_path, env_name, passphrase_fd, fmt, only, as_is, allow_env, reveal, output_file, force):
    """Write an environment to stdout for another tool to read from a pipe.

    \b
      tokensafe export --format postman | newman run c.json -e /dev/stdin
      tokensafe export --format dotenv  | docker run --env-file /dev/stdin IMAGE
      eval "$(tokensafe export --format shell)"
    dotenv and shell names are UPPER_CASE with non-alphanumerics as _ (--as-is keeps them).
    Redirecting stdout into a file (`> x.json`, mode 0644) is refused: write a private
    file with -o FILE (0600, atomic), or add --force.

    Variables that change what programs load, where traffic goes or what they trust
    (PATH, LD_*, PYTHON*, *_PROXY, PIP_* …) are left out of dotenv and shell, with a
    warning naming them, unless --allow-env names them.
    """
    if output_file is None:
        refuse_tty(reveal, "secret values")
        if not force:
            refuse_stdout_file()
    out = service.export(make_context(vault_path, passphrase_fd), fmt, env_name, only, as_is, allow_env)
    if output_file:
        service.write_private(Path(output_file), out.text)
        click.echo(f"wrote {output_file} (mode 0600)", err=True)
    else:
        write_out(out.text)


def refuse_stdout_file() -> None:
    """Refuse secrets into a file that a shell redirection created (0644, kept, synced).

    export is for pipes; `> x.json` makes a world-readable copy of every token without a word.
    """
    import os
    import stat

    from vault.errors import PolicyError

    try:
        st = os.fstat(sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        return
    if stat.S_ISREG(st.st_mode):
        raise PolicyError(
            "refusing to write secret values into a file through stdout "
            f"(mode {stat.S_IMODE(st.st_mode):04o}): every token would stay on disk",
            "pipe it into the program that reads it; or write a private file with `-o FILE` (0600); "
            "or add --force")


# run ------------------------------------------------------------------------------------

@click.command("run", context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False},
               epilog="Example: tokensafe run --env prod -- ./sync-users.sh")
@vault_option
@env_option
@remote_option
@passphrase_fd_option
@click.option("--only", multiple=True, metavar="NAME", help="Only these entries (repeatable or a,b).")
@click.option("--as-is", is_flag=True, help="Keep vault names as variable names (no UPPER_CASE).")
@click.option("--no-mask", is_flag=True, help="Do not mask the child's output.")
@click.option("--allow-nested", is_flag=True, help="Allow `run` inside `run`.")
@click.option("--allow-env", multiple=True, metavar="NAME",
              help="Set this variable even though it is on SECURITY.md's list (PATH, LD_*, "
                   "*_PROXY, …); repeatable or a,b.")
@click.argument("argv", nargs=-1, type=click.UNPROCESSED, required=True, metavar="-- CMD [ARG]…")
def run_cmd(vault_path, env_name, passphrase_fd, only, as_is, no_mask, allow_nested, allow_env, argv):
    """Run CMD with the entries as environment variables; mask secrets in its output.

    Names become UPPER_CASE with non-alphanumerics as _ (auth0_token → AUTH0_TOKEN);
    --as-is keeps them. {{…}} in CMD's arguments is refused: argv is public. stdout and
    stderr are masked (each value and its base64, base64url, URL-encoded and JSON forms
    → <redacted:NAME>); on a terminal the child gets a pseudo-terminal. Signals are
    forwarded and the child's exit code is returned. An entry whose variable changes what
    programs load, where traffic goes or what they trust (PATH, LD_*, PYTHON*, *_PROXY,
    PIP_* …: SECURITY.md lists them) is not set, with a warning, unless --allow-env NAME.
    """
    from vault.cli.runfast import run_command

    # One body for both parsers: the click-free fast path (vault.cli.runfast) calls it too.
    return run_command(argv, vault_path, env_name, passphrase_fd, only, as_is, no_mask, allow_nested,
                       allow_env)


# request --------------------------------------------------------------------------------

def _http_options(f):
    f = click.option("--max-time", "-m", type=float, default=None, metavar="S",
                     help="Give up on a request after S seconds in all (connect to last byte, as curl -m).")(f)
    f = click.option("--cacert", type=click.Path(exists=True, dir_okay=False), default=None, metavar="FILE",
                     help="Trust the CA certificates in FILE (PEM) instead of the system's; "
                          "SSL_CERT_FILE does the same for every command.")(f)
    f = click.option("--connect-timeout", type=float, default=300.0, show_default=True, metavar="S",
                     help="Seconds allowed to connect.")(f)
    f = click.option("--allow-unbound", is_flag=True,
                     help="Entries without allowed hosts of their own may go to any host "
                          "(each one named in a warning).")(f)
    f = click.option("--proxy", default=None, metavar="URL",
                     help="Send through this proxy (HTTP(S)_PROXY from the environment is not used).")(f)
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
@remote_option
@passphrase_fd_option
@click.argument("method")
@click.argument("url")
@click.option("-H", "--header", "headers", multiple=True, metavar="'K: V'", help="A header (repeatable).")
@click.option("-d", "--data", "data", default=None, metavar="DATA|@FILE|@-", help="Request body.")
@click.option("-i", "--include", is_flag=True, help="Show the status line and headers.")
@click.option("--dry-run", is_flag=True, help="Show the resolved request (secrets masked); send nothing.")
@_http_options
def request_cmd(vault_path, env_name, passphrase_fd, method, url, headers, data, include, dry_run,
               cacert, max_time, connect_timeout, allow_unbound, proxy, fail):
    """Send one HTTP request with {{name}} resolved in the URL, headers and body.

    The secrets go only to hosts their entries allow (an entry with none is bound to the
    environment's auth0_domain), over https:// unless the rule names http://HOST:PORT, and
    through a proxy only if --proxy names one. Output is masked; JSON is pretty-printed on
    a terminal.
    A -d body without Content-Type is sent as application/json when it looks like JSON,
    else as a form.
    """
    prepared = service.prepare_request(make_context(vault_path, passphrase_fd), service.RequestOptions(
        method, url, headers, _body_arg(data), env_name, allow_unbound))
    if dry_run:
        write_out(prepared.describe())
        return 0
    return _send_and_show(prepared.requests, prepared.masker, include, max_time, connect_timeout, fail, cacert,
                          summary=False, errors_masker=prepared.error_masker, proxy=proxy)


def _check_hosts(policy, req) -> None:
    service.check_hosts(policy, req, _warn)


_PROXY_VARS = ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY")


def _proxy_note(proxy: str | None) -> None:
    import os

    if proxy is None and any(os.environ.get(v) or os.environ.get(v.lower()) for v in _PROXY_VARS):
        click.echo("tokensafe: note: HTTP(S)_PROXY is not used for requests with vault values; "
                   "--proxy URL sends through a proxy", err=True)


def _send_and_show(reqs, masker, include, max_time, connect_timeout, fail, cacert, summary: bool,
                   summary_masker=None, errors_masker=None, proxy=None) -> int:
    pretty = is_tty()
    code = 0
    _proxy_note(proxy)
    for req, resp in service.send_requests(reqs, max_time, connect_timeout, errors_masker, cacert, proxy):
        if summary:
            line = f"{req.name}: {req.method} {req.url} → {resp.status} {resp.reason} ({resp.elapsed * 1000:.0f} ms)"
            click.echo((summary_masker or masker).mask(line.encode("utf-8", "surrogatepass")).decode("utf-8", "replace"),
                       err=True)
        out = (resp.head_text().encode() if include else b"") + resp.body_text(pretty)
        if out and not out.endswith(b"\n") and (pretty or summary):
            out += b"\n"  # one body per line when `send` runs several
        write_out(masker.mask(out))
        if fail and resp.status >= 400:
            code = ExitStatus.HTTP_STATUS
    return code
