"""Postman Collection v2.0 / v2.1: the tree of folders and requests, its variables, auth
inheritance, and the addresses that name an item.

Tolerant by design: real exports (Auth0's among them) hold `null` values, v1-era keys
(`variables`, `data`), strings where the schema says arrays, and unnamed items. Scripts are
read only to be counted: they are never executed.

Addresses. An item's path is its folders' names and its own, joined by `/`; a `/` inside a
name is written `\\/` and a backslash `\\\\` (shell-safe inside single or double quotes):
"Database/Signup using a username\\/password". `id:ID` names an item by its Postman `id` or
`_postman_id`. `find` also accepts a unique bare name, a bare id, and a path typed with the
name's `/` unescaped when that reads only one way; anything that fits several items is an
error listing them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vault.errors import NotFoundError, UsageError, os_error_message

ID_PREFIX = "id:"


def escape(name: str) -> str:
    """One name as a path segment: `\\` → `\\\\`, `/` → `\\/`."""
    return name.replace("\\", "\\\\").replace("/", "\\/")


def split_path(address: str) -> list[str]:
    """An address → its names. `\\/` and `\\\\` are escapes; any other backslash is kept as
    written; empty segments (a leading, trailing or doubled `/`) are dropped."""
    names, cur, i = [], [], 0
    while i < len(address):
        ch = address[i]
        if ch == "\\" and i + 1 < len(address) and address[i + 1] in "/\\":
            cur.append(address[i + 1])
            i += 2
            continue
        if ch == "/":
            names.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
        i += 1
    names.append("".join(cur))
    return [n for n in names if n]


@dataclass
class Item:
    name: str
    names: tuple[str, ...]  # the names from the top folder down to this item, unescaped
    request: dict[str, Any] | None  # None for a folder
    children: list[Item] = field(default_factory=list)
    auth: dict[str, Any] | None = None  # folder- or request-level, as written
    parent: Item | None = None
    scripts: int = 0
    id: str | None = None  # Postman's `id` or `_postman_id`

    @property
    def path(self) -> str:
        """The address of this item: names joined by `/`, each escaped."""
        return "/".join(escape(n) for n in self.names)

    @property
    def is_folder(self) -> bool:
        return self.request is None

    @property
    def method(self) -> str:
        return as_text((self.request or {}).get("method")).upper() or "GET"

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

    def walk(self) -> Iterator[Item]:
        stack = list(reversed(self.root.children))
        while stack:
            item = stack.pop()
            yield item
            stack.extend(reversed(item.children))

    def find(self, address: str) -> Item:
        """The one item an address names (see the module docstring)."""
        if address.startswith(ID_PREFIX):
            wanted = address[len(ID_PREFIX):]
            hits = [i for i in [self.root, *self.walk()] if i.id == wanted]
            return self._one(address, hits, f"no item with id {wanted!r} in collection {self.name!r}")
        names = tuple(split_path(address))
        if not names:
            return self.root
        hits = [i for i in self.walk() if i.names == names]
        if not hits:
            # Forgiving forms, all at once so that a clash is reported, not resolved by order.
            raw = address.strip("/")
            hits = [i for i in self.walk()
                    if (len(names) == 1 and i.name == names[0]) or i.name == raw
                    or "/".join(i.names) == raw or (i.id is not None and i.id == address)]
        return self._one(address, hits, f"no item {address!r} in collection {self.name!r}")

    def _one(self, address: str, hits: list[Item], missing: str) -> Item:
        unique = list({id(i): i for i in hits}.values())
        if len(unique) == 1:
            return unique[0]
        listing = "`tokensafe send COLLECTION --list` shows every item's address"
        if not unique:
            raise NotFoundError(missing, f"{listing}; write a / inside a name as \\/")
        shown = ", ".join(repr(i.path) + (f" (id:{i.id})" if i.id else "") for i in unique[:10])
        more = f" and {len(unique) - 10} more" if len(unique) > 10 else ""
        if all(i.id for i in unique):
            hint = f"address one by its id, e.g. 'id:{unique[0].id}'"
        elif len({i.path for i in unique}) == 1:
            hint = "these items share one address and have no ids: rename one in Postman, or send their folder"
        else:
            hint = f"give the full folder path; {listing}"
        raise UsageError(f"{address!r} fits {len(unique)} items: {shown}{more}", hint)

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


# --- tolerant readers of Postman's loosely typed fields ----------------------------------

def kv_list(value: Any) -> list[dict[str, Any]]:
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
    if not isinstance(value, list):  # a number or a boolean where a list belongs: nothing
        return []
    return [x for x in value if isinstance(x, dict)]


def obj(value: Any) -> dict[str, Any]:
    """`value` if it is a JSON object, else an empty one (untrusted files put anything anywhere)."""
    return value if isinstance(value, dict) else {}


def is_enabled(kv: dict[str, Any]) -> bool:
    return not kv.get("disabled") and kv.get("key") is not None


def as_text(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    return v if isinstance(v, str) else json.dumps(v) if isinstance(v, dict | list) else str(v)


def _count_scripts(events: Any) -> int:
    n = 0
    for ev in events if isinstance(events, list) else []:
        if isinstance(ev, dict) and ev.get("listen") in ("prerequest", "test"):
            script = ev.get("script") or {}
            exec_ = script.get("exec") if isinstance(script, dict) else None
            if isinstance(exec_, list):
                exec_ = "\n".join(str(x) for x in exec_ if x is not None)
            if exec_ and str(exec_).strip() and not ev.get("disabled"):
                n += 1
    return n


def _item_id(raw: dict[str, Any]) -> str | None:
    text = as_text(raw.get("id") or raw.get("_postman_id"))
    return text or None


# --- parsing -------------------------------------------------------------------------------

def parse(doc: Any, source: str = "collection") -> Collection:
    if isinstance(doc, dict) and "values" in doc and "item" not in doc:
        raise UsageError(f"{source} is a Postman environment, not a collection",
                         "import it with `tokensafe import`; `send` takes a collection")
    if not isinstance(doc, dict) or not isinstance(doc.get("item"), list):
        raise UsageError(f"{source} is not a Postman collection (no `item` list)",
                         "export it from Postman as Collection v2.1")
    info = obj(doc.get("info"))
    schema = as_text(info.get("schema"))
    version = "2.0" if "v2.0" in schema else "2.1"
    variables = {}
    for kv in kv_list(doc.get("variable")) + kv_list(doc.get("variables")):
        if is_enabled(kv):
            variables[as_text(kv["key"])] = as_text(kv.get("value"))
    root = Item(as_text(info.get("name")) or "collection", (), None, auth=doc.get("auth"),
                scripts=_count_scripts(doc.get("event")), id=_item_id(info))
    _children(root, doc["item"])
    return Collection(root.name, root, variables, version)


def _children(parent: Item, items: list[Any]) -> None:
    for n, raw in enumerate(items, 1):
        if not isinstance(raw, dict):
            continue
        name = as_text(raw.get("name")) or f"item {n}"
        is_folder = isinstance(raw.get("item"), list)
        request = None if is_folder else raw.get("request")
        if not is_folder and request is None:
            continue
        if isinstance(request, str):
            request = {"url": request, "method": "GET"}
        if not is_folder and not isinstance(request, dict):
            continue  # a number or a list where a request belongs: not a request
        auth = raw.get("auth") if is_folder else obj(request).get("auth")
        item = Item(name, (*parent.names, name), request, auth=auth, parent=parent,
                    scripts=_count_scripts(raw.get("event")), id=_item_id(raw))
        parent.children.append(item)
        if is_folder:
            _children(item, raw["item"])


def load(path: str | Path) -> Collection:
    p = Path(path)
    try:
        doc = json.loads(p.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise NotFoundError(f"no such file: {p}") from None
    except OSError as e:
        raise os_error_message(e, f"read {p}") from None
    except ValueError as e:
        raise UsageError(f"cannot read {p} as JSON: {e.__class__.__name__}",
                         "export the collection from Postman as Collection v2.1 JSON") from None
    return parse(doc, str(p))


def listing(col: Collection) -> str:
    """Every item with the address `send` takes: `METHOD  ADDRESS  [id:ID]`; folders end in /."""
    rows = [("", item.path + "/") if item.is_folder else (item.method, item.path)
            for item in col.walk()]
    width = max((len(a) for _, a in rows), default=0)
    lines = [col.name]
    for (method, address), item in zip(rows, col.walk(), strict=True):
        line = f"{method:7} {address}"
        if item.id:
            line = f"{line:{8 + width}}  id:{item.id}"
        lines.append(line.rstrip())
    return "\n".join(lines) + "\n"


# --- auth ------------------------------------------------------------------------------------

def effective_auth(item: Item) -> dict[str, Any] | None:
    """Auth inherited request → folder → collection; None means no auth."""
    node: Item | None = item
    while node is not None:
        auth = node.auth
        if isinstance(auth, dict) and auth.get("type") not in (None, "", "inherit"):
            return None if auth.get("type") == "noauth" else auth
        node = node.parent
    return None


def auth_params(auth: dict[str, Any]) -> dict[str, Any]:
    """v2.1 stores `[{key, value}]`, v2.0 an object: both → dict."""
    kind = auth.get("type", "")
    params = auth.get(kind) if isinstance(kind, str) else None
    if isinstance(params, dict):
        return params
    return {as_text(kv.get("key")): kv.get("value") for kv in kv_list(params)}
