"""Secrets at the moment of use: run, inject, export, request.

Typed inputs, typed results, `vault.errors` exceptions; no printing. Output a front end
shows comes masked, or with the masker to apply (`Prepared.masker`), because only the
service knows which values are secret.

On the start-up path of `tokensafe run`: everything beyond the records is imported inside
the functions (httpx, the template engine and the masker only when used).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING

from vault.errors import TokensafeError, UsageError
from vault.record import Record
from vault.service.context import Context
from vault.service.refresh import ensure_fresh

if TYPE_CHECKING:
    from vault.inject.hosts import HostPolicy
    from vault.inject.http import Req, Resp
    from vault.inject.mask import Masker
    from vault.store.model import Environment


def split_names(names: Iterable[str]) -> list[str]:
    """`--only a,b --only c` -> [a, b, c]."""
    return [n for group in names for n in group.split(",") if n]


# run ------------------------------------------------------------------------------------

class RunOptions(Record):
    __slots__ = ("argv", "env", "only", "as_is", "mask", "allow_nested", "allow_env")

    def __init__(self, argv: Sequence[str], env: str | None = None, only: Sequence[str] = (),
                 as_is: bool = False, mask: bool = True, allow_nested: bool = False,
                 allow_env: Sequence[str] = ()) -> None:
        self.argv = list(argv)  # a leading `--` is dropped
        self.env = env
        self.only = list(only)  # names, or comma-separated groups of names
        self.as_is = as_is  # keep vault names as variable names (no UPPER_CASE)
        self.mask = mask
        self.allow_nested = allow_nested
        self.allow_env = list(allow_env)  # denied variable names the user lets through


def run(ctx: Context, opts: RunOptions) -> int:
    """Run the command with the entries in its environment; returns its exit code.

    The child's output streams straight through `vault.inject.run` (masking pipe or pty);
    nothing here touches it, so its throughput is that module's.
    """
    from vault.inject.envpolicy import left_out_warning
    from vault.inject.run import RunSpec, check_argv, check_nesting, child_vars
    from vault.inject.run import run as run_child

    args = list(opts.argv)
    if args and args[0] == "--":
        args = args[1:]
    check_argv(args)  # before unlocking: a refused command should not cost a passphrase
    check_nesting(opts.allow_nested)
    values = ensure_fresh(ctx, opts.env, split_names(opts.only) or None).env(opts.env).values()
    ctx.release_passphrase_fd()  # read already; the child must not inherit it
    chosen = values
    if opts.only:
        from vault.inject.envnames import env_map

        names = split_names(opts.only)
        env_map(values, opts.as_is, names)  # raises NotFoundError for unknown names
        chosen = {n: values[n] for n in names}
    spec = RunSpec(args, chosen, mask_values=values, as_is=opts.as_is, mask=opts.mask,
                   allow_nested=opts.allow_nested, allow_env=opts.allow_env)
    dropped = child_vars(spec)[1]
    if dropped:
        ctx.warn(left_out_warning(dropped, "in the child's environment"))
    return run_child(spec)


# inject ---------------------------------------------------------------------------------

def inject(ctx: Context, template: str, env: str | None = None, keep_unknown: bool = False) -> str:
    """The template with {{name}} and {{vault:name}} resolved (NotFoundError for an unknown name)."""
    from vault.inject.template import resolve

    return resolve(template, ensure_fresh(ctx, env).env(env).values(), keep_unknown=keep_unknown)


def write_private(path: Path, text: str | bytes) -> None:
    """Write resolved secrets to a file the user named: 0600 from the first byte, atomically."""
    from vault.store.fileio import atomic_write

    atomic_write(path, text.encode() if isinstance(text, str) else text)


# export ---------------------------------------------------------------------------------

EXPORT_FORMATS = ("postman", "dotenv", "json", "shell")


class Exported(Record):
    __slots__ = ("env", "format", "names", "text")
    _secret = ("text",)

    def __init__(self, env: str, format: str, names: list[str], text: str) -> None:
        self.env = env
        self.format = format
        self.names = names  # the vault names in the document
        self.text = text  # the document: holds the values


def export(ctx: Context, fmt: str = "postman", env: str | None = None, only: Sequence[str] = (),
           as_is: bool = False, allow_env: Sequence[str] = ()) -> Exported:
    """An environment as a Postman environment, dotenv, JSON or shell document.

    dotenv and shell become environment variables (`eval "$(…)"`, `--env-file`): the
    variables of `vault.inject.envpolicy` are left out, with a warning naming them, unless
    `allow_env` names them. Postman and JSON documents are not environments: left as they are."""
    from vault.inject.export import render

    if fmt not in EXPORT_FORMATS:
        raise UsageError(f"unknown export format {fmt!r}", f"use one of {', '.join(EXPORT_FORMATS)}")
    e = ensure_fresh(ctx, env, split_names(only) or None).env(env)
    values = e.values()
    if only:
        names = split_names(only)
        for n in names:
            e.get(n)  # NotFoundError names the first unknown one
        values = {n: values[n] for n in names}
    kinds = {n: x.kind for n, x in e.entries.items()}
    dropped: list[str] = []
    text = render(fmt, e.name, values, as_is=as_is, kinds=kinds, allow_env=allow_env, dropped=dropped)
    if dropped:
        from vault.inject.envpolicy import left_out_warning

        ctx.warn(left_out_warning(dropped, f"in the {fmt} output"))
    return Exported(e.name, fmt, list(values), text)


# request --------------------------------------------------------------------------------

def _only_a_host(value: str) -> bool:
    """True for `https://host[:port][/]`: a URL that says no more than a host does. A URL with
    a path, query, fragment or user-info may carry a secret (a webhook's path, a password)."""
    import urllib.parse

    try:
        parts = urllib.parse.urlsplit(value.strip())
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        return False
    return (bool(parts.hostname) and parts.path in ("", "/") and not parts.query
            and not parts.fragment and "@" not in parts.netloc)


def error_masker(env: Environment) -> Masker:
    """Masks error and summary text: every value but hosts, which an error about hosts must
    name (`auth0_domain`, kind `domain`, and a kind-`url` value that is only scheme://host)."""
    from vault.inject.hosts import AUTH0_DOMAIN
    from vault.inject.mask import Masker

    def is_host(name: str, kind: str, value: str) -> bool:
        return name == AUTH0_DOMAIN or kind == "domain" or (kind == "url" and _only_a_host(value))

    # casefold: an error names a host as parsed, lower-cased: a token put where the host
    # goes (`https://{{auth0_token}}/`) must be masked in that form too.
    return Masker({n: v for n, e in env.entries.items()
                   if not is_host(n, e.kind, v := e.value.reveal())}, casefold=True)


@contextmanager
def masked_errors(masker: Masker) -> Iterator[None]:
    """Re-raise a TokensafeError with any secret in its text masked (belt and braces)."""
    try:
        yield
    except TokensafeError as e:
        # surrogatepass: a lone surrogate from a collection must not turn an error into a crash.
        e.message = masker.mask(e.message.encode("utf-8", "surrogatepass")).decode("utf-8", "replace")
        if e.hint:
            e.hint = masker.mask(e.hint.encode("utf-8", "surrogatepass")).decode("utf-8", "replace")
        raise


def check_hosts(policy: HostPolicy, req: Req, warn: Callable[[str], None]) -> None:
    """Host binding (PolicyError); each entry --allow-unbound lets through is a warning."""
    from vault.inject.hosts import request_host

    for name in policy.check(req.url, req.used):
        warn(f"--allow-unbound: sending {name!r} to {request_host(req.url)!r}, a host no rule allows")


class RequestOptions(Record):
    __slots__ = ("method", "url", "headers", "body", "env", "allow_unbound")
    _secret = ("body",)

    def __init__(self, method: str, url: str, headers: Sequence[str] = (), body: bytes | None = None,
                 env: str | None = None, allow_unbound: bool = False) -> None:
        self.method = method
        self.url = url  # may hold {{…}}; no scheme means https://
        self.headers = list(headers)  # 'Name: value', may hold {{…}}
        self.body = body  # UTF-8 text may hold {{…}}; other bytes are sent as they are
        self.env = env
        self.allow_unbound = allow_unbound


class Prepared(Record):
    """Requests resolved and host-checked, ready to describe or send."""

    __slots__ = ("requests", "masker", "error_masker")
    _secret = ("masker", "error_masker")

    def __init__(self, requests: list[Req], masker: Masker, error_masker: Masker) -> None:
        self.requests = requests
        self.masker = masker  # masks every value of the environment: apply to all output
        self.error_masker = error_masker  # names hosts: for lines about where requests went

    def describe(self) -> bytes:
        """The resolved requests as text, secrets masked (a dry run)."""
        return b"".join(self.masker.mask(r.describe().encode("utf-8", "surrogatepass")) for r in self.requests)


def prepare_request(ctx: Context, opts: RequestOptions) -> Prepared:
    """Resolve {{…}} in the URL, headers and body; check host binding before anything is sent."""
    from vault.inject.hosts import HostPolicy
    from vault.inject.http import Req
    from vault.inject.mask import Masker
    from vault.inject.template import Layer, Resolver

    env = ensure_fresh(ctx, opts.env).env(opts.env)
    values = env.values()
    masker = Masker(values)
    emask = error_masker(env)
    with masked_errors(emask):
        res = Resolver([Layer("vault", values, secret=True)], dynamic=True)
        url = res.resolve(opts.url, check=False)
        if "://" not in url:
            url = "https://" + url
        headers = []
        for h in opts.headers:
            if ":" not in h:
                raise UsageError(f"a header needs a colon: {masker.mask(h.encode()).decode()!r}",
                                 "write it as -H 'Name: value'")
            k, v = h.split(":", 1)
            headers.append((res.resolve(k.strip(), check=False), res.resolve(v.strip(), check=False)))
        content = None
        if opts.body is not None:
            try:
                content = res.resolve(opts.body.decode("utf-8"), check=False).encode()
            except UnicodeDecodeError:
                content = opts.body  # binary: sent as it is, no templates in it
        res.check()
        req = Req(opts.method.upper(), url, headers, content, used=set(res.used_secrets))
        if content is not None and not req.has_header("content-type"):
            looks_json = content.lstrip()[:1] in (b"{", b"[")
            req.headers.append(("Content-Type", "application/json" if looks_json
                                else "application/x-www-form-urlencoded"))
        check_hosts(HostPolicy.for_env(env, opts.allow_unbound), req, ctx.warn)
    return Prepared([req], masker, emask)


def send_requests(requests: Sequence[Req], max_time: float | None = None,
                  connect_timeout: float | None = 300.0,
                  masker: Masker | None = None, cacert: str | None = None,
                  proxy: str | None = None) -> Iterator[tuple[Req, Resp]]:
    """Send the requests in order over one client, yielding each with its response as it comes.

    `max_time` bounds each request as a whole; `cacert` is a PEM file of CAs to trust
    instead of the system's. Responses are raw: the caller masks what it shows. Errors are
    masked with `masker`. No proxy from the environment: only `proxy`, which the user named
    (vault.inject.http).
    """
    from vault.inject.http import client, send

    with (masked_errors(masker) if masker is not None else nullcontext(),
          client(max_time, connect_timeout, cacert=cacert, proxy=proxy) as cl):
        for req in requests:
            yield req, send(cl, req, max_time)
