"""`import` and `--scrub`: move values into the vault, then leave `{{vault:name}}` behind.

The order is the safety argument: (1) plan in memory, (2) write entries and the original
file's bytes into the vault and let it commit, (3) read the vault back and check every value
is there, (4) only then rewrite the file, atomically, if it has not changed meanwhile.
A crash at any point leaves either the untouched file or a vault that can restore it.
"""

from __future__ import annotations

import base64
import bisect
import hashlib
import os
import re
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vault.errors import IntegrityError, NotFoundError, PolicyError, UsageError
from vault.formats import dotenv, postman_env
from vault.guard import filters
from vault.guard.readers import FileScanner
from vault.store.fileio import atomic_write

_NAME_BAD = re.compile(r"[^A-Za-z0-9_.\-]")


def reference(name: str) -> str:
    return "{{vault:" + name + "}}"


def entry_name(key: str) -> str:
    """A vault entry name for a variable key: `API Token` -> `API_Token`."""
    name = _NAME_BAD.sub("_", key.strip())[:128] or "value"
    return name if re.match(r"[A-Za-z_]", name) else "_" + name[:127]


@dataclass
class Var:
    key: str
    value: str
    start: int  # raw span of the value in the file
    end: int
    secret: bool = False
    name: str = ""  # vault entry name, unique within the plan

    def __repr__(self) -> str:  # never the value (tracebacks, test output)
        return f"Var(key={self.key!r}, name={self.name!r}, secret={self.secret}, start={self.start})"


@dataclass
class Plan:
    """What an import/scrub will do. Holds values: keep it in memory, never print it."""

    path: Path
    original: bytes
    fmt: str
    vars: list[Var] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def __repr__(self) -> str:
        return f"Plan(path={str(self.path)!r}, fmt={self.fmt!r}, vars={len(self.vars)})"

    def name_vars(self) -> None:
        """Give each value an entry name; a key seen twice with another value gets `_2`, `_3`."""
        taken: dict[str, str] = {}
        for v in self.vars:
            base = entry_name(v.key)
            name, n = base, 1
            while name in taken and taken[name] != v.value:
                n += 1
                name = f"{base[:120]}_{n}"
            taken[name] = v.value
            v.name = name

    def scrubbed(self) -> bytes:
        out = self.original
        for v in sorted((v for v in self.vars if v.secret), key=lambda v: -v.start):
            out = out[:v.start] + reference(v.name).encode() + out[v.end:]
        return out


def read_file(path: Path, follow: bool = True) -> bytes:
    """The file's bytes; with `follow=False` (watch) a symlink is refused, never read through."""
    if follow:
        return path.read_bytes()
    import errno

    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK)
    except OSError as e:
        if e.errno == errno.ELOOP:
            raise PolicyError(f"{path.name} is a symlink; watch does not scrub through links",
                              "scrub the file it points to with `tokensafe import --scrub`") from None
        raise
    with os.fdopen(fd, "rb") as f:
        import stat

        if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
            raise PolicyError(f"{path.name} is not a regular file", "nothing was changed")
        return f.read()


def env_for_file(path: Path) -> str:
    """The environment `watch --action scrub` makes for a file: `from-` and its name."""
    stem = re.sub(r"[^A-Za-z0-9_.\-]", "_", path.name.removesuffix(".json"))[:56]
    return "from-" + (stem.lstrip(".-") or "file")


def detect_format(path: Path, data: bytes) -> str:
    if postman_env.sniff_scope(data[:4096], path.name) in postman_env.SCOPES:
        return "postman"
    name = path.name
    if name == ".env" or name.startswith(".env.") or name.endswith(".env"):
        return "dotenv"
    return "other"


def _postman_vars(data: bytes) -> list[Var]:
    try:
        found = postman_env.variables(data)
    except postman_env.FormatError as e:
        raise UsageError(str(e), "export it again from Postman: Environments → … → Export") from None
    out = []
    for v in found:
        if v.start is None or v.end is None:
            raise UsageError(f"cannot locate the value of {v.key!r} in the file text",
                             "re-export the file from Postman; nothing was changed")
        out.append(Var(v.key, v.value, v.start, v.end, secret=v.type == "secret"))
    return out


def _dotenv_vars(data: bytes) -> list[Var]:
    return [Var(b.key, b.value, b.start, b.end) for b in dotenv.read(data) if b.value]


def plan_import(path: Path, scanner: FileScanner, fmt: str | None = None, follow: bool = True) -> Plan:
    """Read a Postman environment/globals export or a .env file; mark the secret values."""
    data = read_file(path, follow)
    fmt = fmt or detect_format(path, data)
    if fmt == "postman":
        found = _postman_vars(data)
    elif fmt == "dotenv":
        found = _dotenv_vars(data)
    else:
        raise UsageError(f"{path.name}: not a Postman environment/globals export or a .env file",
                         "`tokensafe audit FILE` finds tokens in any file; "
                         "`tokensafe watch --action scrub` scrubs them")
    plan = Plan(path, data, fmt)
    flagged = sorted(f.offset for f in scanner.scan_bytes(data, str(path)))
    for v in found:
        if filters.is_placeholder(v.value) or "{{vault:" in v.value:
            plan.notes.append(f"skipped {v.key}: a template, placeholder or example value")
            continue
        # A finding anywhere inside the value (a password inside a URL) makes it secret.
        i = bisect.bisect_left(flagged, v.start)
        v.secret = v.secret or (i < len(flagged) and flagged[i] < max(v.end, v.start + 1))
        plan.vars.append(v)
    # A secret value also held by a plain variable is scrubbed there too.
    secret_values = {v.value for v in plan.vars if v.secret}
    for v in plan.vars:
        v.secret = v.secret or v.value in secret_values
    plan.name_vars()
    return plan


def plan_findings(path: Path, scanner: FileScanner, follow: bool = True) -> Plan:
    """For any text file: each finding becomes an entry named after its key or detector."""
    data = read_file(path, follow)
    if b"\x00" in data[:8192] or data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        raise UsageError(f"{path.name}: binary or UTF-16 files are not scrubbed", "quarantine it instead")
    plan = Plan(path, data, "findings")
    for f in scanner.scan_bytes(data, str(path)):
        # The raw text goes to the vault as it stood (an encoded value stays encoded, so
        # injecting it back gives the file what it expects).
        raw = data[f.offset:f.offset + f.length].decode("utf-8", "replace")
        key = f.facts.get("key") or f"{f.detector}_{f.fingerprint[:8]}"
        plan.vars.append(Var(key, raw, f.offset, f.offset + f.length, secret=True))
    plan.name_vars()
    return plan


def _sha(b: bytes) -> str:
    return hashlib.sha256(b).hexdigest()


@dataclass
class Outcome:
    env: str
    imported: list[str]  # stored: added, or replaced with --overwrite
    scrubbed: list[str]
    unchanged: list[str]
    left: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)  # of `imported`: held another value before


def commit(plan: Plan, edit: Callable[[], AbstractContextManager[Any]],
           read: Callable[[], Any], env: str | None, scrub: bool, overwrite: bool = False,
           import_all: bool = False, rename: bool = False, follow: bool = True,
           only_secret: bool = False, new_env: bool = False,
           bind: Callable[[Any, dict[str, str]], dict[str, list[str]]] | None = None) -> Outcome:
    """Put the plan's values in the vault; with `scrub`, then rewrite the file.

    Imported: the secret values, and domains/URLs (needed to run requests, never flagged).
    Other plain values (ids, emails, hashes) only with `import_all`: once in the vault they
    would be reported as `vault-known` wherever they appear. `rename` (for watch): a name
    that holds another value gets a free `_2`, `_3` … instead of failing. `follow=False`
    (watch): the path is never resolved through a symlink, so the rewrite replaces the
    file in the watched folder, never a link's target elsewhere. `only_secret`: only the
    values marked secret (flagged) are stored. `new_env` (watch): `env` is a base name and
    the values go into a new environment of that name (`-2`, `-3` … if taken), never into
    an existing one.

    An existing value is never changed without `overwrite`: if any differ, nothing is
    stored and the error names them (never their values). `bind(env, {name: value})`
    (the service passes inject.hosts.bindings_for) gives each stored entry its host binding,
    fixed now, so a domain in the file cannot widen where the user's secrets may go.
    """
    import stat

    from vault.store.model import Entry, detect_kind

    path = plan.path.resolve() if follow else plan.path.absolute()
    st = os.stat(path) if follow else os.lstat(path)
    if not stat.S_ISREG(st.st_mode):
        raise PolicyError(f"{plan.path} is not a regular file (a symlink?); not scrubbed", "nothing was changed")
    imported, unchanged = [], []
    with edit() as data:
        env_name = env or data.current
        if new_env:
            base, n = env_name, 1
            while env_name in data.environments:
                n += 1
                env_name = f"{base[:60]}-{n}"
        e = data.ensure_env(env_name)
        if rename:
            for v in plan.vars:
                base, n = v.name, 1
                while v.name in e.entries and e.entries[v.name].value.reveal() != v.value:
                    n += 1
                    v.name = f"{base[:120]}_{n}"
        todo = {v.name: v.value for v in plan.vars
                if v.secret or (not only_secret and (import_all or detect_kind(v.value)[0] in ("domain", "url")))}
        left = sorted({v.name for v in plan.vars} - set(todo))
        secret_names = sorted({v.name for v in plan.vars if v.secret})
        if scrub and not secret_names:
            scrub = False
        new_bytes = plan.scrubbed() if scrub else plan.original
        differing = sorted(n for n, value in todo.items()
                           if n in e.entries and e.entries[n].value.reveal() != value)
        if differing and not overwrite:
            added = sorted(n for n in todo if n not in e.entries)
            raise PolicyError(
                f"{len(differing)} name(s) in environment {env_name!r} hold a different value: "
                f"{', '.join(differing)}; nothing was changed"
                + (f" (would add: {', '.join(added)})" if added else ""),
                "--overwrite replaces them; --env NAME imports into another environment")
        for name, value in todo.items():
            have = e.entries.get(name)
            if have is not None and have.value.reveal() == value:
                unchanged.append(name)
            else:
                imported.append(name)
        stored = {n: todo[n] for n in imported}
        bound = bind(e, stored) if bind is not None else {}
        for name, value in stored.items():
            entry = Entry.new(name, value)
            entry.bound_to = bound.get(name)
            e.entries[name] = entry
        if scrub:
            if str(path) in data.originals:
                raise PolicyError(f"{path} was scrubbed before and not restored",
                                  f"`tokensafe restore {plan.path}` first")
            data.originals[str(path)] = {
                "content": base64.b64encode(plan.original).decode(), "sha256": _sha(plan.original),
                "scrubbed_sha256": _sha(new_bytes), "mode": st.st_mode & 0o7777,
                "env": env_name, "names": secret_names, "time": time.time(),
            }
    if scrub:
        # Read back: the values must be retrievable before their only copy is removed.
        check = read()
        ce = check.env(env_name)
        for name in secret_names:
            got = ce.entries.get(name)
            if got is None or got.value.reveal() != todo.get(name, got.value.reveal()):
                raise IntegrityError(f"{name!r} did not read back from the vault; file left as is",
                                     "run `tokensafe list` and try again")
        if str(path) not in check.originals:
            raise IntegrityError("the original did not read back from the vault; file left as is")
        if _sha(read_file(path, follow)) != _sha(plan.original):
            raise PolicyError(f"{plan.path} changed while it was being imported; not scrubbed",
                              f"run the import again; `tokensafe restore {plan.path}` is not needed")
        atomic_write(path, new_bytes, st.st_mode & 0o7777)
    return Outcome(env_name, imported, secret_names if scrub else [], unchanged, left, differing)


def restore(path: Path, edit: Callable[[], AbstractContextManager[Any]], force: bool = False) -> str:
    """Put the original bytes back; the vault forgets the original only once they are."""
    ap = path.expanduser().absolute()
    key = str(ap.resolve()) if ap.exists() else str(ap)
    with edit() as data:
        orig = data.originals.get(key) or data.originals.get(str(ap))
        if orig is None:
            raise NotFoundError(f"the vault holds no original of {path}",
                                "`tokensafe import --scrub` stores one; give the same path")
        content = base64.b64decode(orig["content"])
        if _sha(content) != orig["sha256"]:
            raise IntegrityError(f"the stored original of {path} does not match its checksum")
        if ap.exists() and not force and _sha(ap.read_bytes()) != orig["scrubbed_sha256"]:
            raise PolicyError(f"{path} changed since it was scrubbed",
                              "use --force to overwrite those changes with the original")
        atomic_write(ap, content, int(orig.get("mode", 0o600)))
        if _sha(ap.read_bytes()) != orig["sha256"]:
            raise IntegrityError(f"{path} did not read back as the original; the vault keeps it")
        data.originals.pop(key, None)
        data.originals.pop(str(ap), None)
    return key
