"""The KV v2 client and the environment document, against a real dev server (no mocks of the server).

Only the transport is interfered with where a test needs an answer to be lost.
"""

from __future__ import annotations

import base64
import json

import hvac
import pytest
import requests

from tests.conftest import PASSPHRASE, PLANTED
from vault.errors import ExitStatus, LockedError, NetworkError, NotFoundError
from vault.remote.backend import OpenBaoBackend
from vault.remote.envdoc import META, diff, from_kv, to_kv
from vault.remote.kv import KVClient, ReadYourWritesSession, check_url
from vault.store.backend import ConflictError
from vault.store.model import Entry, Environment, VaultData

# the environment document ------------------------------------------------------------------


def _env() -> Environment:
    env = Environment("dev")
    env.entries["auth0_token"] = Entry.new("auth0_token", PLANTED, ["*.auth0.com"])
    env.entries["auth0_domain"] = Entry.new("auth0_domain", "x.auth0.com")
    return env


def test_kinds_hosts_and_expiry_travel_with_the_values() -> None:
    back = from_kv("dev", json.loads(json.dumps(to_kv(_env(), "ana@laptop"))))
    t = back.entries["auth0_token"]
    assert t.value.reveal() == PLANTED and t.allowed_hosts == ["*.auth0.com"] and t.kind == "token"
    assert back.entries["auth0_domain"].kind == "domain"
    assert not diff(_env(), back)


def test_fields_written_by_other_tools_become_entries_and_odd_ones_are_named() -> None:
    skipped: list[str] = []
    env = from_kv("dev", {"auth0_domain": "x.auth0.com", "n": 5, "bad name": "v", META: "junk"}, skipped)
    assert list(env.entries) == ["auth0_domain"] and env.entries["auth0_domain"].kind == "domain"
    assert sorted(skipped) == ["(a field with an invalid name)", "n"]


def test_a_diff_names_entries_never_values() -> None:
    a, b = _env(), _env()
    b.entries["auth0_token"] = Entry.new("auth0_token", PLANTED + "2", ["*.auth0.com"])
    b.entries["extra"] = Entry.new("extra", "v")
    del b.entries["auth0_domain"]
    d = diff(a, b)
    assert d.describe() == "added extra; changed auth0_token; removed auth0_domain"
    assert d.describe(future=True) == "add extra; change auth0_token; remove auth0_domain"
    assert PLANTED not in d.describe() and PLANTED not in repr(d)


def test_the_metadata_field_cannot_be_an_entry_name() -> None:
    from vault.store.model import NAME_RE

    assert not NAME_RE.fullmatch(META)


@pytest.mark.parametrize("url", ["ftp://x", "http://u:p@h:8200", "https://h/v1/secret", "h:8200", "http://"])
def test_server_addresses_are_checked(url: str) -> None:
    with pytest.raises(Exception) as e:
        check_url(url)
    assert getattr(e.value, "exit_code", None) == ExitStatus.USAGE


# the client's error mapping, against the server --------------------------------------------


def _ro_token(bao_dev, path: str) -> str:
    c = bao_dev.client()
    c.sys.create_or_update_policy("ro-" + path.replace("/", "-"),
                                  f'path "secret/data/{path}" {{ capabilities = ["read"] }}')
    return c.auth.token.create(policies=["ro-" + path.replace("/", "-")], ttl="10m")["auth"]["client_token"]


def test_a_missing_capability_is_an_auth_error_naming_path_and_capability(bao_dev, kv_path: str) -> None:
    KVClient([bao_dev.url], bao_dev.token).write(kv_path, {"a": "1"}, 0)
    ro = KVClient([bao_dev.url], _ro_token(bao_dev, kv_path))
    assert ro.read(kv_path) == ({"a": "1"}, 1)
    with pytest.raises(LockedError) as e:
        ro.write(kv_path, {"a": "2"}, 1)
    assert e.value.exit_code == ExitStatus.AUTH
    assert f"secret/data/{kv_path}" in e.value.message and "'update' capability" in e.value.message
    with pytest.raises(LockedError) as e:
        KVClient([bao_dev.url], "not-a-token").read(kv_path)
    assert "token" in e.value.hint


def test_missing_key_stale_cas_and_wrong_mount(bao_dev, kv_path: str) -> None:
    kv = KVClient([bao_dev.url], bao_dev.token)
    assert kv.read(kv_path) is None and kv.metadata(kv_path) is None
    assert kv.write(kv_path, {"a": "1"}, 0) == 1
    with pytest.raises(ConflictError) as e:
        kv.write(kv_path, {"a": "2"}, 0)
    assert e.value.exit_code == ExitStatus.BUSY
    with pytest.raises(NotFoundError):
        KVClient([bao_dev.url], bao_dev.token, mount="nomount").read(kv_path)


def test_a_server_that_is_down_is_a_network_error_within_the_timeout(bao_dev) -> None:
    import time

    from tests.remote.bao import free_port

    started = time.monotonic()
    with pytest.raises(NetworkError) as e:
        KVClient([f"http://127.0.0.1:{free_port()}"], "t", timeout=1).read("x")
    assert time.monotonic() - started < 3 and "connection refused" in e.value.message


def test_a_write_whose_answer_was_lost_counts_once(bao_dev, kv_path: str, monkeypatch) -> None:
    """The first attempt reaches the server but its answer is lost: the retry must not fail or apply twice."""
    kv = KVClient([bao_dev.url], bao_dev.token)
    kv.write(kv_path, {"n": "0"}, 0)
    real = ReadYourWritesSession.request
    lost = [0]

    def flaky(self, method, url, *a, **kw):
        r = real(self, method, url, *a, **kw)
        if str(method).upper() in ("POST", "PUT") and "/data/" in str(url) and not lost[0]:
            lost[0] += 1
            raise requests.exceptions.ConnectionError("answer lost")
        return r

    monkeypatch.setattr(ReadYourWritesSession, "request", flaky)
    assert kv.write(kv_path, {"n": "1"}, 1) == 2
    monkeypatch.setattr(ReadYourWritesSession, "request", real)
    meta = kv.metadata(kv_path)
    assert lost[0] == 1 and meta["current_version"] == 2  # applied once


def test_read_your_writes_header_is_echoed(bao_dev, kv_path: str) -> None:
    kv = KVClient([bao_dev.url], bao_dev.token)
    kv.write(kv_path, {"a": "1"}, 0)
    s = kv._session
    assert s.headers["X-Vault-Inconsistent"] == "forward-active-node"
    if s._index is not None:  # dev (inmem) storage sends no index; Raft does (see the Raft test)
        json.loads(base64.b64decode(s._index))


# the backend behind the real vault store ---------------------------------------------------


def test_a_sealed_vault_lives_in_kv_v2_through_vaultstore(bao_dev, kv_path: str) -> None:
    from vault.prompting import EnvPrompter
    from vault.store import keyslots
    from vault.store.unlock import Unlocker
    from vault.store.vaultfile import VaultStore

    def store() -> VaultStore:
        backend = OpenBaoBackend(KVClient([bao_dev.url], bao_dev.token), kv_path)
        return VaultStore(backend, Unlocker(prompter=EnvPrompter({"TOKENSAFE_PASSPHRASE": PASSPHRASE})))

    data = VaultData(current="dev")
    data.ensure_env("dev").entries["auth0_token"] = Entry.new("auth0_token", PLANTED)
    store().create(lambda vid, dk: [keyslots.new_passphrase_slot("k1", vid, dk, PASSPHRASE)], data)
    with store().edit() as opened:
        opened.data.env("dev").entries["x"] = Entry.new("x", "y")
    assert store().read().data.env("dev").entries["auth0_token"].value.reveal() == PLANTED
    raw = hvac.Client(url=bao_dev.url, token=bao_dev.token).secrets.kv.v2.read_secret_version(
        path=kv_path, mount_point="secret", raise_on_deleted_version=True)
    assert PLANTED.encode() not in base64.b64decode(raw["data"]["data"]["document"])  # sealed: the server never sees it
    assert raw["data"]["metadata"]["version"] == 2
