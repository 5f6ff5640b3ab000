"""Postman Collection v2.0 / v2.1: parse the tree, build resolved requests.

Tolerant by design: real exports (Auth0's among them) hold `null` values, v1-era keys
(`variables`, `data`), strings where the schema says arrays, and unnamed items. Scripts are
read only to be counted: they are never executed.
"""

from __future__ import annotations

import base64
import json
import urllib.parse
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vault.errors import NotFoundError, UsageError
from vault.inject.http import FilePart, Req
from vault.inject.template import Resolver

AUTH_TYPES = ("bearer", "apikey", "basic", "noauth")


@dataclass
class Item:
    name: str
    path: str  # "Folder/Sub/Request"
    request: dict[str, Any] | None  # None for a folder
    children: list[Item] = field(default_factory=list)
    auth: dict[str, Any] | None = None  # folder- or request-level, as written
    parent: Item | None = None
    scripts: int = 0

    @property
    def is_folder(self) -> bool:
        return self.request is None

    def requests(self) -> Iterator[Item]:
        if not self.is_folder:
            yield self
        for c in self.children:
            yield from c.requests()


@dataclass
class Collection:
    name: str
    root: Item
    variables: dict[str, str]
    version: str

    def find(self, path: str) -> Item:
        if path in ("", "/"):
            return self.root
        wanted = path.strip("/")
        for item in self.walk():
            if item.path == wanted:
                return item
        # A unique leaf name is accepted too: "Get a user" for "Users/Get a user".
        by_name = [i for i in self.walk() if i.name == wanted]
        if len(by_name) == 1:
            return by_name[0]
        hint = "`tokensafe send COLLECTION --list` shows the paths"
        if len(by_name) > 1:
            raise UsageError(f"{wanted!r} names {len(by_name)} items", f"give the folder path; {hint}")
        raise NotFoundError(f"no item {wanted!r} in collection {self.name!r}", hint)

    def walk(self) -> Iterator[Item]:
        stack = list(reversed(self.root.children))
        while stack:
            item = stack.pop()
            yield item
            stack.extend(reversed(item.children))

    def scripts_in(self, items: list[Item]) -> int:
        """Scripts that would run for these requests (their own, their folders', the collection's)."""
        seen: set[int] = set()
        total = 0
        for it in items:
            node: Item | None = it
            while node is not None:
                if id(node) not in seen:
                    seen.add(id(node))
                    total += node.scripts
                node = node.parent
        return total


def _count_scripts(events: Any) -> int:
    n = 0
    for ev in events or []:
        if isinstance(ev, dict) and ev.get("listen") in ("prerequest", "test"):
            script = ev.get("script") or {}
            exec_ = script.get("exec") if isinstance(script, dict) else None
            if isinstance(exec_, list):
                exec_ = "\n".join(str(x) for x in exec_ if x is not None)
            if exec_ and str(exec_).strip() and not ev.get("disabled"):
                n += 1
    return n


def _kv_list(value: Any) -> list[dict[str, Any]]:
    """A list of {key, value, disabled} from an array, an object or a `K: V` string."""
    if value is None:
        return []
    if isinstance(value, str):
        out = []
        for line in value.splitlines():
            if ":" in line:
                k, v = line.split(":", 1)
                out.append({"key": k.strip(), "value": v.strip()})
        return out
    if isinstance(value, dict):
        return [{"key": k, "value": v} for k, v in value.items()]
    return [x for x in value if isinstance(x, dict)]


def _enabled(kv: dict[str, Any]) -> bool:
    return not kv.get("disabled") and kv.get("key") is not None


def _str(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    return v if isinstance(v, str) else json.dumps(v) if isinstance(v, dict | list) else str(v)


def parse(doc: Any, source: str = "collection") -> Collection:
    if isinstance(doc, dict) and "values" in doc and "item" not in doc:
        raise UsageError(f"{source} is a Postman environment, not a collection",
                         "import it with `tokensafe import`; `send` takes a collection")
    if not isinstance(doc, dict) or not isinstance(doc.get("item"), list):
        raise UsageError(f"{source} is not a Postman collection (no `item` list)",
                         "export it from Postman as Collection v2.1")
    info = doc.get("info") or {}
    schema = _str(info.get("schema"))
    version = "2.0" if "v2.0" in schema else "2.1"
    variables = {}
    for kv in _kv_list(doc.get("variable")) + _kv_list(doc.get("variables")):
        if _enabled(kv):
            variables[_str(kv["key"])] = _str(kv.get("value"))
    root = Item(_str(info.get("name")) or "collection", "", None, auth=doc.get("auth"),
                scripts=_count_scripts(doc.get("event")))
    _children(root, doc["item"])
    return Collection(root.name, root, variables, version)


def _children(parent: Item, items: list[Any]) -> None:
    for n, raw in enumerate(items, 1):
        if not isinstance(raw, dict):
            continue
        name = _str(raw.get("name")).replace("/", "∕") or f"item {n}"
        path = f"{parent.path}/{name}" if parent.path else name
        is_folder = isinstance(raw.get("item"), list)
        request = None if is_folder else raw.get("request")
        if not is_folder and request is None:
            continue
        if isinstance(request, str):
            request = {"url": request, "method": "GET"}
        auth = raw.get("auth") if is_folder else (request or {}).get("auth")
        item = Item(name, path, request, auth=auth, parent=parent, scripts=_count_scripts(raw.get("event")))
        parent.children.append(item)
        if is_folder:
            _children(item, raw["item"])


def load(path: str | Path) -> Collection:
    p = Path(path)
    try:
        doc = json.loads(p.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise NotFoundError(f"no such file: {p}") from None
    except (OSError, ValueError) as e:
        raise UsageError(f"cannot read {p} as JSON: {e.__class__.__name__}",
                         "export the collection from Postman as Collection v2.1 JSON") from None
    return parse(doc, str(p))


def tree(col: Collection) -> str:
    lines = [col.name]

    def walk(item: Item, depth: int) -> None:
        for c in item.children:
            if c.is_folder:
                lines.append(f"{'  ' * depth}{c.name}/")
                walk(c, depth + 1)
            else:
                method = _str((c.request or {}).get("method")).upper() or "GET"
                lines.append(f"{'  ' * depth}{method:7} {c.name}")
    walk(col.root, 1)
    return "\n".join(lines) + "\n"


# --- building one request ------------------------------------------------------------------

def effective_auth(item: Item) -> dict[str, Any] | None:
    """Auth inherited request → folder → collection; None means no auth."""
    node: Item | None = item
    while node is not None:
        auth = node.auth
        if isinstance(auth, dict) and auth.get("type") not in (None, "", "inherit"):
            return None if auth.get("type") == "noauth" else auth
        node = node.parent
    return None


def _auth_params(auth: dict[str, Any]) -> dict[str, Any]:
    """v2.1 stores `[{key, value}]`, v2.0 an object: both → dict."""
    params = auth.get(auth.get("type", ""))
    if isinstance(params, dict):
        return params
    return {_str(kv.get("key")): kv.get("value") for kv in _kv_list(params)}


def _url_parts(url: Any) -> tuple[str, list[dict[str, Any]] | None, list[dict[str, Any]]]:
    """(url text without query, query params or None to keep the raw query, path variables)."""
    if isinstance(url, str) or url is None:
        return _str(url), None, []
    raw = _str(url.get("raw"))
    host = url.get("host")
    path = url.get("path")
    variables = _kv_list(url.get("variable"))
    query = _kv_list(url.get("query")) if url.get("query") is not None else None
    if host is not None or not raw:
        proto = _str(url.get("protocol"))
        if not proto and "://" in raw:
            proto = raw.split("://", 1)[0]  # never fall back to http when raw says https
        host_s = ".".join(_str(h) for h in host) if isinstance(host, list) else _str(host)
        port = _str(url.get("port"))
        if isinstance(path, list):
            path_s = "/".join(_str(p.get("value") if isinstance(p, dict) else p) for p in path)
        else:
            path_s = _str(path).lstrip("/")
        base = (f"{proto}://" if proto else "") + host_s + (f":{port}" if port else "")
        base += ("/" + path_s) if path_s else ""
        if not raw or query is not None or "?" not in raw:
            return base, query, variables
    # Only `raw`: keep it, with its own query string.
    if query is not None:
        raw = raw.split("?", 1)[0]
    return raw, query, variables


def _apply_path_vars(url: str, values: Mapping[str, str]) -> str:
    """Replace `:name` path segments (not the port) with values."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        scheme, rest = "", url
    head, slash, path = rest.partition("/")
    segs = []
    for seg in path.split("/") if slash else []:
        if seg.startswith(":") and seg[1:] in values:
            seg = urllib.parse.quote(values[seg[1:]], safe="")
        segs.append(seg)
    out = head + (("/" + "/".join(segs)) if slash else "")
    return f"{scheme}://{out}" if sep else out


def build(item: Item, resolver: Resolver, path_vars: Mapping[str, str] | None = None,
          base_dir: Path | None = None) -> Req:
    """Resolve one request item into a `Req` (nothing is sent)."""
    req = item.request or {}
    r = resolver.resolve
    method = r(_str(req.get("method")) or "GET", check=False).upper()
    url_text, query, url_vars = _url_parts(req.get("url"))
    url = r(url_text, check=False)
    if url and "://" not in url:
        url = "http://" + url  # Postman's default when no protocol is given
    pv = {_str(v.get("key")): r(_str(v.get("value")), check=False) for v in url_vars if v.get("key")}
    pv.update(path_vars or {})
    url = _apply_path_vars(url, pv)
    params = [(r(_str(q["key"]), check=False), r(_str(q.get("value")), check=False))
              for q in (query or []) if _enabled(q)]
    headers = [(r(_str(h["key"]), check=False).strip(), r(_str(h.get("value")), check=False))
               for h in _kv_list(req.get("header")) if _enabled(h)]
    out = Req(method, url, headers, name=item.path)

    body = req.get("body") or req.get("data")
    if isinstance(body, dict) and not body.get("disabled"):
        _body(out, body, resolver, base_dir)

    auth = effective_auth(item)
    if auth is not None:
        _auth(out, auth, params, resolver)
    if params:
        sep = "&" if "?" in out.url else "?"
        out.url += sep + urllib.parse.urlencode(params, quote_via=urllib.parse.quote)
    resolver.check()
    out.used = set(resolver.used_secrets)
    return out


def _body(out: Req, body: dict[str, Any], resolver: Resolver, base_dir: Path | None) -> None:
    r = resolver.resolve
    mode = body.get("mode")
    if mode == "raw":
        raw = body.get("raw")
        if raw is None:
            return
        out.content = r(_str(raw), check=False).encode()
        lang = (((body.get("options") or {}).get("raw") or {}).get("language") or "")
        ctypes = {"json": "application/json", "xml": "application/xml", "text": "text/plain",
                  "html": "text/html", "javascript": "application/javascript"}
        if lang in ctypes and not out.has_header("content-type"):
            out.headers.append(("Content-Type", ctypes[lang]))
    elif mode == "urlencoded":
        pairs = [(r(_str(kv["key"]), check=False), r(_str(kv.get("value")), check=False))
                 for kv in _kv_list(body.get("urlencoded")) if _enabled(kv)]
        out.content = urllib.parse.urlencode(pairs).encode()
        if not out.has_header("content-type"):
            out.headers.append(("Content-Type", "application/x-www-form-urlencoded"))
    elif mode == "formdata":
        form, files = [], []
        for kv in _kv_list(body.get("formdata")):
            if not _enabled(kv):
                continue
            key = r(_str(kv["key"]), check=False)
            if kv.get("type") == "file":
                srcs = kv.get("src")
                for src in srcs if isinstance(srcs, list) else [srcs]:
                    if isinstance(src, str) and src:
                        p = Path(r(src, check=False))
                        if base_dir is not None and not p.is_absolute():
                            p = base_dir / p
                        files.append(FilePart(key, str(p)))
            else:
                form.append((key, r(_str(kv.get("value")), check=False)))
        out.form, out.files = form, files
    elif mode == "graphql":
        gql = body.get("graphql") or {}
        variables = gql.get("variables")
        doc: dict[str, Any] = {"query": r(_str(gql.get("query")), check=False)}
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
        src = (body.get("file") or {}).get("src")
        if isinstance(src, str) and src:
            p = Path(r(src, check=False))
            if base_dir is not None and not p.is_absolute():
                p = base_dir / p
            try:
                out.content = p.read_bytes()
            except OSError as e:
                raise UsageError(f"{out.name}: cannot read body file: {e.strerror}") from None


def _auth(out: Req, auth: dict[str, Any], params: list[tuple[str, str]], resolver: Resolver) -> None:
    r = resolver.resolve
    kind = auth.get("type")
    p = _auth_params(auth)
    if kind == "bearer":
        token = r(_str(p.get("token")), check=False)
        if not out.has_header("authorization"):
            out.headers.append(("Authorization", f"Bearer {token}"))
    elif kind == "basic":
        user = r(_str(p.get("username")), check=False)
        pw = r(_str(p.get("password")), check=False)
        cred = base64.b64encode(f"{user}:{pw}".encode()).decode()
        if not out.has_header("authorization"):
            out.headers.append(("Authorization", f"Basic {cred}"))
    elif kind == "apikey":
        key = r(_str(p.get("key")) or "x-api-key", check=False)
        value = r(_str(p.get("value")), check=False)
        if _str(p.get("in")) == "query":
            params.append((key, value))
        elif not out.has_header(key):
            out.headers.append((key, value))
    else:
        raise UsageError(f"{out.name}: auth type {kind!r} is not supported",
                         f"supported: {', '.join(AUTH_TYPES)}; set the header yourself with {{{{vault:name}}}}")
