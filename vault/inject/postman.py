"""Build the HTTP request of one Postman collection item, with `{{…}}` and `:path` variables
resolved. Nothing here sends; reading the collection is `vault.formats.collection`'s job.

Path variables follow newman: a `:name` segment takes the value of `url.variable` `name`
(or of `--var name=…`, which beats it); never a vault or collection variable. A segment whose
variable has no value (absent, null or empty) is refused, since sending it empty can turn
`DELETE /clients/:id` into `DELETE /clients/`; `keep_path_vars` sends `:name` as newman does.

A URL without a scheme gets `https://` (Postman would use http://: a token must not go out
in clear because a collection left the scheme out). File sources (`formdata` file fields,
`file` bodies) are checked by `vault.inject.files`: only inside `Uploads.roots`.
"""

from __future__ import annotations

import base64
import json
import os
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vault.errors import UsageError
from vault.formats.collection import (
    Item,
    as_text,
    auth_params,
    effective_auth,
    is_enabled,
    kv_list,
    obj,
)
from vault.inject.files import ROOTS_SEP, check_source, open_inside
from vault.inject.http import FilePart, Req
from vault.inject.template import Resolver


@dataclass
class Uploads:
    """Where a collection's file sources may come from: inside `roots` (the collection's
    folder, --files-from folders), never inside `forbidden` (tokensafe's own folders)."""

    roots: list[Path] = field(default_factory=list)
    forbidden: list[Path] = field(default_factory=list)

AUTH_TYPES = ("bearer", "apikey", "basic", "noauth")
# A path variable's value fills one segment: only RFC 3986 `pchar`s stay as they are.
SEGMENT_SAFE = "!$&'()*+,;=:@"


class MissingPathVariables(UsageError):
    """Path variables of one request have no value (exit 2: only the command line or the
    collection can give one, never the vault)."""

    def __init__(self, request: str, names: list[str]) -> None:
        self.request, self.names = request, names
        shown = ", ".join(f":{n}" for n in names)
        super().__init__(f"{request}: no value for path variable(s) {shown}", path_var_hint(names))


def path_var_hint(names: list[str]) -> str:
    give = " ".join(f"--var {n}=VALUE" for n in names)
    return f"give a value with {give}; --keep-path-vars sends the :name segments as they are, as newman does"


def _url_parts(url: Any) -> tuple[str, list[dict[str, Any]] | None, list[dict[str, Any]]]:
    """(url text without query, query params or None to keep the raw query, path variables)."""
    if not isinstance(url, dict):
        return as_text(url), None, []
    raw = as_text(url.get("raw"))
    host = url.get("host")
    path = url.get("path")
    variables = kv_list(url.get("variable"))
    query = kv_list(url.get("query")) if url.get("query") is not None else None
    if host is not None or not raw:
        proto = as_text(url.get("protocol"))
        if not proto and "://" in raw:
            proto = raw.split("://", 1)[0]  # never fall back to http when raw says https
        host_s = ".".join(as_text(h) for h in host) if isinstance(host, list) else as_text(host)
        port = as_text(url.get("port"))
        if isinstance(path, list):
            path_s = "/".join(as_text(p.get("value") if isinstance(p, dict) else p) for p in path)
        else:
            path_s = as_text(path).lstrip("/")
        base = (f"{proto}://" if proto else "") + host_s + (f":{port}" if port else "")
        base += ("/" + path_s) if path_s else ""
        if not raw or query is not None or "?" not in raw:
            return base, query, variables
    # Only `raw`: keep it, with its own query string.
    if query is not None:
        raw = raw.split("?", 1)[0]
    return raw, query, variables


def _apply_path_vars(url: str, values: Mapping[str, str], keep: bool) -> tuple[str, list[str]]:
    """Fill `:name` path segments (not a port, not the query) from values.

    Returns the URL and the names without a value, which stay as `:name` (newman's choice)."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        scheme, rest = "", url
    cut = min((i for i in (rest.find("?"), rest.find("#")) if i >= 0), default=len(rest))
    rest, tail = rest[:cut], rest[cut:]
    head, slash, path = rest.partition("/")
    segs, missing = [], []
    for seg in path.split("/") if slash else []:
        name = seg[1:]
        if seg.startswith(":") and name:  # a lone ":" is text, as in newman
            if values.get(name):
                seg = urllib.parse.quote(values[name], safe=SEGMENT_SAFE)
            elif name not in missing:
                missing.append(name)
        segs.append(seg)
    out = head + (("/" + "/".join(segs)) if slash else "") + tail
    return (f"{scheme}://{out}" if sep else out), ([] if keep else missing)


def build(item: Item, resolver: Resolver, path_vars: Mapping[str, str] | None = None,
          base_dir: Path | None = None, *, keep_path_vars: bool = False,
          uploads: Uploads | None = None) -> Req:
    """Resolve one request item into a `Req` (nothing is sent).

    Relative file sources are read from `base_dir`; `uploads` says where any source may lie
    (default: inside `base_dir` only; no `base_dir`, no uploads).

    Raises `MissingPathVariables` for `:name` segments without a value, unless
    `keep_path_vars`; the `{{…}}` resolver's own check runs first."""
    req = obj(item.request)
    r = resolver.resolve
    method = r(as_text(req.get("method")) or "GET", check=False).upper()
    url_text, query, url_vars = _url_parts(req.get("url"))
    url = r(url_text, check=False)
    if url and "://" not in url:
        url = "https://" + url  # never in clear by default (see the module docstring)
    pv = {as_text(v.get("key")): r(as_text(v.get("value")), check=False) for v in url_vars if v.get("key")}
    pv.update(path_vars or {})
    url, missing = _apply_path_vars(url, pv, keep_path_vars)
    params = [(r(as_text(q["key"]), check=False), r(as_text(q.get("value")), check=False))
              for q in (query or []) if is_enabled(q)]
    headers = [(r(as_text(h["key"]), check=False).strip(), r(as_text(h.get("value")), check=False))
               for h in kv_list(req.get("header")) if is_enabled(h)]
    out = Req(method, url, headers, name=item.path)

    body = req.get("body") or req.get("data")
    if isinstance(body, dict) and not body.get("disabled"):
        if uploads is None:
            uploads = Uploads([base_dir] if base_dir is not None else [])
        _body(out, body, resolver, base_dir, uploads)

    auth = effective_auth(item)
    if auth is not None:
        _auth(out, auth, params, resolver)
    if params:
        sep = "&" if "?" in out.url else "?"
        out.url += sep + urllib.parse.urlencode(params, quote_via=urllib.parse.quote)
    resolver.check()
    if missing:
        raise MissingPathVariables(item.path, missing)
    out.used = set(resolver.used_secrets)
    return out


def _source(out: Req, src: str, resolver: Resolver, base_dir: Path | None, uploads: Uploads) -> Path:
    """A file source, resolved and checked against `uploads` (PolicyError outside it)."""
    p = Path(resolver.resolve(src, check=False))
    if base_dir is not None and not p.is_absolute():
        p = base_dir / p
    return check_source(p, uploads.roots, uploads.forbidden, out.name or "request")


def _body(out: Req, body: dict[str, Any], resolver: Resolver, base_dir: Path | None,
          uploads: Uploads) -> None:
    r = resolver.resolve
    mode = body.get("mode")
    if mode == "raw":
        raw = body.get("raw")
        if raw is None:
            return
        out.content = r(as_text(raw), check=False).encode()
        lang = as_text(obj(obj(body.get("options")).get("raw")).get("language"))
        ctypes = {"json": "application/json", "xml": "application/xml", "text": "text/plain",
                  "html": "text/html", "javascript": "application/javascript"}
        if lang in ctypes and not out.has_header("content-type"):
            out.headers.append(("Content-Type", ctypes[lang]))
    elif mode == "urlencoded":
        pairs = [(r(as_text(kv["key"]), check=False), r(as_text(kv.get("value")), check=False))
                 for kv in kv_list(body.get("urlencoded")) if is_enabled(kv)]
        out.content = urllib.parse.urlencode(pairs).encode()
        if not out.has_header("content-type"):
            out.headers.append(("Content-Type", "application/x-www-form-urlencoded"))
    elif mode == "formdata":
        form, files = [], []
        for kv in kv_list(body.get("formdata")):
            if not is_enabled(kv):
                continue
            key = r(as_text(kv["key"]), check=False)
            if kv.get("type") == "file":
                srcs = kv.get("src")
                for src in srcs if isinstance(srcs, list) else [srcs]:
                    if isinstance(src, str) and src:
                        p = _source(out, src, resolver, base_dir, uploads)
                        files.append(FilePart(key, str(p), ROOTS_SEP.join(map(str, uploads.roots))))
            else:
                form.append((key, r(as_text(kv.get("value")), check=False)))
        out.form, out.files = form, files
    elif mode == "graphql":
        gql = obj(body.get("graphql"))
        variables = gql.get("variables")
        doc: dict[str, Any] = {"query": r(as_text(gql.get("query")), check=False)}
        if isinstance(variables, str) and variables.strip():
            try:
                doc["variables"] = json.loads(r(variables, check=False))
            except ValueError:
                raise UsageError(f"{out.name}: GraphQL variables are not JSON") from None
        elif isinstance(variables, dict):
            doc["variables"] = variables
        out.content = json.dumps(doc).encode()
        if not out.has_header("content-type"):
            out.headers.append(("Content-Type", "application/json"))
    elif mode == "file":
        file = body.get("file")
        src = file.get("src") if isinstance(file, dict) else None
        if isinstance(src, str) and src:
            p = _source(out, src, resolver, base_dir, uploads)
            with open_inside(str(p), ROOTS_SEP.join(os.fspath(r) for r in uploads.roots)) as fh:
                out.content = fh.read()


def _auth(out: Req, auth: dict[str, Any], params: list[tuple[str, str]], resolver: Resolver) -> None:
    r = resolver.resolve
    kind = auth.get("type")
    p = auth_params(auth)
    if kind == "bearer":
        token = r(as_text(p.get("token")), check=False)
        if not out.has_header("authorization"):
            out.headers.append(("Authorization", f"Bearer {token}"))
    elif kind == "basic":
        user = r(as_text(p.get("username")), check=False)
        pw = r(as_text(p.get("password")), check=False)
        cred = base64.b64encode(f"{user}:{pw}".encode()).decode()
        if not out.has_header("authorization"):
            out.headers.append(("Authorization", f"Basic {cred}"))
    elif kind == "apikey":
        key = r(as_text(p.get("key")) or "x-api-key", check=False)
        value = r(as_text(p.get("value")), check=False)
        if as_text(p.get("in")) == "query":
            params.append((key, value))
        elif not out.has_header(key):
            out.headers.append((key, value))
    else:
        raise UsageError(f"{out.name}: auth type {kind!r} is not supported",
                         f"supported: {', '.join(AUTH_TYPES)}; set the header yourself with {{{{vault:name}}}}")
