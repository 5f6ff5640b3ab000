"""#9 finding 3: hostile collections and vault environments never turn `send` into a
traceback or a leak.

Property-based (hypothesis) over Postman collection JSON and the environment's values, with a
planted token bound to one loopback server: no traceback, the token's bytes in no output,
the exit status one of the documented ones and never 70 ("a bug"), and the token on the wire
only towards its bound host. Everything goes through `--proxy` to a recording server on
127.0.0.1, so no fuzzed host name is ever looked up or reached.

The budget is fixed (max_examples, deadline) so CI time is bounded; on a failure hypothesis
prints the example and a `@reproduce_failure` blob (print_blob); `--hypothesis-seed=N`
replays a run.
"""

# ruff: noqa: F811 - pytest fixtures imported from tests/inject/conftest.py are parameters here

from __future__ import annotations

import datetime
import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

from tests.conftest import create_passphrase_vault
from tests.inject.conftest import PLANTED, Recorder, server  # noqa: F401 - fixtures
from vault.errors import ExitStatus

# What `send` may answer to bad input: never INTERNAL (70), which means a bug.
DOCUMENTED = {ExitStatus.OK, ExitStatus.USAGE, ExitStatus.NOT_FOUND, ExitStatus.FILESYSTEM,
              ExitStatus.NETWORK, ExitStatus.REFUSED}
# No shrinking: a failure is reported at once (example, seed, @reproduce_failure blob)
# instead of minutes of shrinking in CI; replay it locally with the blob to shrink it.
BUDGET = settings(max_examples=200, deadline=datetime.timedelta(seconds=10), print_blob=True,
                  phases=[Phase.explicit, Phase.reuse, Phase.generate],
                  suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                         HealthCheck.data_too_large])
FEW = settings(BUDGET, max_examples=8)

# Pieces that broke URL and header handling before: brackets, ports, userinfo, line breaks,
# a lone surrogate, templates of the token in every position.
PIECES = ["{{auth0_token}}", "{{auth0_domain}}", "{{vault:auth0_token}}", "{{other}}", "{{nope}}", "{{$guid}}",
          "http://", "https://", "ftp://", "//", "/", ":", "::", "[", "]", "@", "?", "#", "%", "%zz", "%00",
          " ", "\n", "\r\n", "\t", "\x00", "\ud800", "ü", "\u202e", "..", ":id", ":", "65536", "99999999999",
          "127.0.0.1", "[::1]", "localhost", "xn--", "-", "\\", "{{", "}}", "a" * 300, "=", "&", ";", ","]
text = st.lists(st.sampled_from(PIECES) | st.text(max_size=8), max_size=8).map("".join)
scalar = st.none() | st.booleans() | st.integers(-2, 70000) | text
json_any = st.recursive(scalar, lambda kids: st.lists(kids, max_size=3) | st.dictionaries(text, kids, max_size=3),
                        max_leaves=12)
kv = st.fixed_dictionaries({"key": text | scalar}, optional={"value": text | json_any, "disabled": st.booleans(),
                                                             "type": st.sampled_from(["text", "file", "x"]),
                                                             "src": text | json_any})
url_obj = st.fixed_dictionaries({}, optional={
    "raw": text, "protocol": text | scalar, "host": st.lists(text, max_size=3) | text | json_any,
    "port": text | scalar, "path": st.lists(text | json_any, max_size=3) | text | json_any,
    "query": st.lists(kv, max_size=3) | json_any, "variable": st.lists(kv, max_size=3) | json_any})
auth = st.fixed_dictionaries({"type": st.sampled_from(["bearer", "basic", "apikey", "noauth", "inherit", "oauth2"])
                              | json_any},
                             optional={"bearer": st.lists(kv, max_size=2) | json_any,
                                       "basic": st.lists(kv, max_size=2) | json_any,
                                       "apikey": st.lists(kv, max_size=3) | json_any})
body = st.fixed_dictionaries({"mode": st.sampled_from(["raw", "urlencoded", "formdata", "file", "graphql", "x"])
                              | json_any},
                             optional={"raw": text | json_any, "urlencoded": st.lists(kv, max_size=3) | json_any,
                                       "formdata": st.lists(kv, max_size=3) | json_any,
                                       "file": st.fixed_dictionaries({}, optional={"src": text | json_any}) | json_any,
                                       "graphql": st.fixed_dictionaries({}, optional={"query": text,
                                                                                      "variables": text | json_any}),
                                       "options": json_any, "disabled": st.booleans()})
request = st.fixed_dictionaries({"url": text | url_obj | json_any}, optional={
    "method": st.sampled_from(["GET", "POST", "get", "GE T", "", "X\nY"]) | text | json_any,
    "header": st.lists(kv, max_size=3) | text | json_any, "body": body | json_any, "auth": auth | json_any})
item = st.fixed_dictionaries({"name": text | scalar, "request": request | text | json_any},
                             optional={"event": json_any, "id": scalar})
collection = st.fixed_dictionaries({"info": st.fixed_dictionaries({"name": text}) | json_any,
                                    "item": st.lists(item | st.fixed_dictionaries({"name": text,
                                                                                   "item": st.lists(item, max_size=2)}),
                                                     min_size=1, max_size=3)},
                                   optional={"variable": st.lists(kv, max_size=3) | json_any,
                                             "auth": auth | json_any})
# The environment's other values: hostile too (an import may have brought them).
env_values = st.dictionaries(st.sampled_from(["other", "client_id", "base", "nested"]), text, max_size=3)
flags = st.lists(st.sampled_from(["--dry-run", "--allow-unbound", "--keep-path-vars", "-i", "--fail"]),
                 unique=True, max_size=3)


def _vault(path: Path, host: str, extra: dict[str, str]) -> None:
    from vault.store import keyslots
    from vault.store.model import Entry, VaultData
    from vault.store.vaultfile import create_vault

    data = VaultData(current="dev")
    env = data.ensure_env("dev")
    env.entries["auth0_domain"] = Entry.new("auth0_domain", host)
    env.entries["auth0_token"] = Entry.new("auth0_token", PLANTED, [f"http://{host}"])
    for name, value in extra.items():
        env.entries[name] = Entry.new(name, value)
    if path.exists():
        path.unlink()
    from tests.conftest import PASSPHRASE

    create_vault(path, lambda vid, dk: [keyslots.new_passphrase_slot("k1", vid, dk, PASSPHRASE)], data)


def _in_process(args: list[str]) -> tuple[int, bytes, bytes]:
    from vault.cli import run

    with CliRunner().isolation() as (out, err, _):
        code = int(run(args))
        return code, out.getvalue(), err.getvalue()


_TARGET = re.compile(r"^[a-z]+://([^/?#]*)")


def _check_wire(rec: Recorder, host: str) -> None:
    """The token reached the proxy only inside requests for its bound host."""
    for seen in rec.seen:
        raw = seen.path.encode() + json.dumps(seen.headers).encode() + seen.body
        if PLANTED.encode() in raw or PLANTED in json.dumps(seen.headers):
            m = _TARGET.match(seen.path)
            assert m and m.group(1).rsplit("@", 1)[-1].lower() == host, seen.path[:200]


def _check(code: int, out: bytes, err: bytes) -> None:
    assert code in DOCUMENTED, (code, err.decode("utf-8", "replace")[-2000:])
    assert b"Traceback" not in err, err.decode("utf-8", "replace")[-2000:]
    # Lower-cased too: a host parser lower-cases a token put where the host goes.
    assert PLANTED.lower().encode() not in (out + err).lower()


@pytest.fixture
def fuzz_home(vault_path: Path, server: Recorder) -> tuple[Path, Recorder]:
    create_passphrase_vault(vault_path)
    return vault_path, server


def _doc(url: object) -> dict:
    return {"info": {"name": "c"}, "item": [{"name": "r", "request": {"url": url}}]}


@BUDGET
@given(doc=collection, extra=env_values, opts=flags)
# Crash sites found before; each stays an explicit example.
@example(doc=_doc("http://{{auth0_domain}}:{{auth0_token}}/"), extra={}, opts=[])
@example(doc=_doc("https://[{{auth0_token}}]/"), extra={}, opts=[])
@example(doc=_doc("https://{{auth0_token}}/x"), extra={}, opts=[])  # the token as a host, lower-cased
@example(doc=_doc("{{auth0_token}}"), extra={"other": "{{auth0_token}}\ud800"}, opts=[])  # a lone surrogate
@example(doc=_doc(""), extra={"other": "\x00{{auth0_token}}"}, opts=[])  # NUL in a masked value
@example(doc=_doc({"raw": "x", "host": 5, "path": {"a": 1}, "query": 7}), extra={}, opts=[])
@example(doc={"info": [], "variable": 3, "item": [{"name": "r", "request": 5}, {"name": "q", "request": {
    "url": "http://{{auth0_domain}}/", "body": {"mode": "raw", "raw": "x", "options": {"raw": {"language": []}}},
    "auth": {"type": ["bearer"]}}}]}, extra={}, opts=[])
def test_send_survives_hostile_collections(fuzz_home, tmp_path: Path, doc, extra, opts) -> None:
    vault_path, rec = fuzz_home
    rec.seen.clear()
    _vault(vault_path, rec.host, extra)
    col = tmp_path / "fuzz" / "c.json"
    col.parent.mkdir(exist_ok=True)
    col.write_text(json.dumps(doc), encoding="utf-8", errors="surrogatepass")
    code, out, err = _in_process(["send", str(col), "--proxy", rec.url, "--connect-timeout", "2",
                                  "--max-time", "5", *opts])
    _check(code, out, err)
    _check_wire(rec, rec.host)


@pytest.mark.e2e
@FEW
@given(doc=collection, extra=env_values)
def test_send_survives_hostile_collections_installed(session, server: Recorder, doc, extra) -> None:  # noqa: F811
    server.seen.clear()
    _vault(Path(session.env["TOKENSAFE_VAULT"]), server.host, extra)
    col = session.cwd / "fuzz" / "c.json"
    col.parent.mkdir(exist_ok=True)
    col.write_text(json.dumps(doc), encoding="utf-8", errors="surrogatepass")
    r = session("send", str(col), "--proxy", server.url, "--connect-timeout", "2", "--max-time", "5")
    _check(r.returncode, r.stdout, r.stderr)
    _check_wire(server, server.host)
