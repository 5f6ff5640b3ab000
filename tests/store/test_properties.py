"""Round-trip properties (hypothesis) and small tables for the data model and keyslots."""

from __future__ import annotations

import json
import string
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vault import crypto
from vault.errors import UsageError
from vault.store import format, keyslots, vaultfile
from vault.store.model import (
    ENV_RE,
    NAME_RE,
    Entry,
    VaultData,
    check_env_name,
    check_host_pattern,
    check_name,
    detect_kind,
    host_allowed,
)
from vault.store.unlock import Unlocker

SETTINGS = settings(max_examples=80, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])

_TAIL = string.ascii_letters + string.digits + "_.-"
names = st.builds(str.__add__, st.sampled_from(string.ascii_letters + "_"), st.text(_TAIL, max_size=127))
env_names = st.builds(str.__add__, st.sampled_from(string.ascii_letters + string.digits + "_"),
                      st.text(_TAIL, max_size=63))
values = st.text(min_size=1, max_size=200)  # any unicode but lone surrogates
times = st.floats(min_value=0, max_value=4e9, allow_nan=False)
hosts = st.lists(st.sampled_from(["example.com", "*.auth0.com", "api.example.com:8443"]),
                 max_size=3, unique=True)


@st.composite
def vault_data(draw: st.DrawFn) -> VaultData:
    envs = draw(st.lists(env_names, min_size=1, max_size=3, unique=True))
    data = VaultData(current=draw(st.sampled_from(envs)),
                     fingerprint_key=draw(st.binary(min_size=32, max_size=32)))
    for en in envs:
        env = data.ensure_env(en)
        for n in draw(st.lists(names, max_size=4, unique=True)):
            e = Entry.new(n, draw(values), draw(hosts), now=draw(times))
            env.entries[n] = e
    if draw(st.booleans()):
        data.originals["/tmp/ünï côdé.json"] = {"content": "e30=", "sha256": "0" * 64,
                                                "scrubbed_at": 1764350000}
    return data


def as_doc(data: VaultData) -> dict:
    return json.loads(data.to_bytes())


@SETTINGS
@given(vault_data())
def test_payload_round_trip(data: VaultData) -> None:
    assert all(NAME_RE.fullmatch(n) for e in data.environments.values() for n in e.entries)
    assert all(ENV_RE.fullmatch(n) for n in data.environments)
    back = VaultData.from_bytes(data.to_bytes())
    assert as_doc(back) == as_doc(data)
    assert back.current == data.current
    for en, env in data.environments.items():
        for n, e in env.entries.items():
            assert back.env(en).get(n).value.reveal() == e.value.reveal()


@SETTINGS
@given(vault_data(), st.binary(min_size=32, max_size=32))
def test_file_round_trip(data: VaultData, data_key: bytes) -> None:
    """VaultData -> sealed file bytes -> parse -> open -> the same data, and no value in clear."""
    def slots(vid: str) -> list[format.Keyslot]:
        slot, _ = keyslots.new_recovery_slot("k1", vid, data_key)
        return [slot]

    header = format.Header("ab" * 16, 1, 1764350000, slots("ab" * 16))
    opened = vaultfile.OpenVault(Path("/x"), header, data_key, data, "k1")
    raw = vaultfile.encode(opened)
    parsed = format.parse(raw)
    plain = crypto.open_sealed(data_key, parsed.nonce, parsed.ciphertext, parsed.aad)
    assert as_doc(VaultData.from_bytes(plain)) == as_doc(data)
    payload = raw[len(parsed.aad):]
    for v in data.all_values():
        if len(v.encode()) >= 8:
            assert v.encode() not in payload


@settings(max_examples=300, deadline=None)
@given(st.binary(min_size=32, max_size=32), st.sampled_from(["upper", "lower", "spaces", "bare"]))
def test_recovery_key_round_trip(raw: bytes, style: str) -> None:
    text = keyslots.format_recovery_key(raw)
    assert text.startswith("TSR1-")
    groups = text[len("TSR1-"):].split("-")
    assert all(len(g) == 4 for g in groups) and len(groups) == 13
    assert set("".join(groups)) <= set("0123456789ABCDEFGHJKMNPQRSTVWXYZ")  # Crockford
    typed = {"upper": text, "lower": text.lower(), "spaces": text.replace("-", " "),
             "bare": "".join(groups)}[style]
    assert keyslots.parse_recovery_key(typed) == raw
    assert keyslots.parse_recovery_key(f"  {typed}\n") == raw


@pytest.mark.parametrize("text", ["", "TSR1-", "TSR1-ABCD", "hello world",
                                  "TSR1-" + "U" * 52, "TSR1-" + "0" * 51, "TSR1-" + "0" * 53])
def test_recovery_key_rejects_garbage(text: str) -> None:
    with pytest.raises(UsageError):
        keyslots.parse_recovery_key(text)


def test_recovery_key_accepts_crockford_lookalikes() -> None:
    raw = bytes(32)
    text = keyslots.format_recovery_key(raw)  # all zeros
    assert keyslots.parse_recovery_key(text.replace("0", "o")) == raw


@SETTINGS
@given(st.text(min_size=1, max_size=64))
def test_passphrase_slot_round_trip(passphrase: str) -> None:
    dk = bytes(range(32))
    slot = keyslots.new_passphrase_slot("k1", "v" * 32, dk, passphrase, crypto.KdfParams(1, 1, 8))
    again = format.Keyslot.from_json(json.loads(json.dumps(slot.to_json())))
    assert keyslots.unwrap(again, "v" * 32, keyslots.passphrase_slot_key(again, passphrase)) == dk
    assert keyslots.unwrap(again, "w" * 32, keyslots.passphrase_slot_key(again, passphrase)) is None
    assert keyslots.unwrap(again, "v" * 32, keyslots.passphrase_slot_key(again, passphrase + "x")) is None


def test_keyslot_is_bound_to_its_id_and_type() -> None:
    dk = bytes(32)
    slot, text = keyslots.new_recovery_slot("k2", "v" * 32, dk)
    key = keyslots.recovery_slot_key(text)
    assert keyslots.unwrap(slot, "v" * 32, key) == dk
    slot.id = "k3"
    assert keyslots.unwrap(slot, "v" * 32, key) is None


def test_unlock_tries_passphrase_then_recovery(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("vault.prompting.has_terminal", lambda: False)
    monkeypatch.delenv("TOKENSAFE_PASSPHRASE", raising=False)
    dk = bytes(range(32))
    rslot, text = keyslots.new_recovery_slot("k2", "v" * 32, dk)
    header = format.Header("v" * 32, 1, 0, [
        keyslots.new_passphrase_slot("k1", "v" * 32, dk, "pw", crypto.KdfParams(1, 1, 8)), rslot])
    format.seal_commitment(header, dk)  # a version-2 header commits to its data key
    assert Unlocker(use_keyring=False, _passphrase="pw").unlock(header) == (dk, "k1")
    monkeypatch.setenv("TOKENSAFE_RECOVERY_KEY", text.lower())
    assert Unlocker(use_keyring=False).unlock(header) == (dk, "k2")
    # A recovery key asked for explicitly wins over a wrong passphrase from anywhere.
    assert Unlocker(use_keyring=False, _passphrase="wrong").unlock(header) == (dk, "k2")


# names, hosts, kinds ------------------------------------------------------------------

@pytest.mark.parametrize("name, ok", [
    ("auth0_token", True), ("_x", True), ("a.b-c_d", True), ("A" * 128, True),
    ("A" * 129, False), ("1abc", False), ("", False), ("a b", False), ("a/b", False),
    ("a=b", False), ("abc\n", False), ("ab\ncd", False), ("x;rm", False), ("ünï", False),
])
def test_entry_names(name: str, ok: bool) -> None:
    if ok:
        assert check_name(name) == name
    else:
        with pytest.raises(UsageError):
            check_name(name)


@pytest.mark.parametrize("name, ok", [
    ("dev", True), ("prod-eu", True), ("1", True), ("a" * 64, True), ("a" * 65, False),
    ("", False), ("-x", False), ("dev\n", False), ("a b", False),
])
def test_env_names(name: str, ok: bool) -> None:
    if ok:
        assert check_env_name(name) == name
    else:
        with pytest.raises(UsageError):
            check_env_name(name)


@pytest.mark.parametrize("pattern, ok", [
    ("example.com", True), ("*.auth0.com", True), ("EU.Auth0.com", True), ("localhost:8080", True),
    ("", False), ("http://x.com", True), ("http://*.x.com", False), ("a b.com", False), ("*", False), ("x.*.com", False),
    ("example.com\n", True), ("a.com\nb.com", False), ("example.com/path", False),
])
def test_host_patterns(pattern: str, ok: bool) -> None:
    if ok:
        assert check_host_pattern(pattern) == pattern.strip().lower()
    else:
        with pytest.raises(UsageError):
            check_host_pattern(pattern)


@pytest.mark.parametrize("host, patterns, allowed", [
    ("eu.auth0.com", ["*.auth0.com"], True),
    ("a.b.auth0.com", ["*.auth0.com"], True),
    ("EU.AUTH0.COM", ["*.auth0.com"], True),
    ("eu.auth0.com.", ["*.auth0.com"], True),
    ("auth0.com", ["*.auth0.com"], False),
    ("evilauth0.com", ["*.auth0.com"], False),
    ("eu.auth0.com.evil.net", ["*.auth0.com"], False),
    ("auth0.com.evil.net", ["auth0.com"], False),
    ("example.com", ["example.com"], True),
    ("example.com:443", ["example.com"], True),
    ("example.com", ["example.com:8443"], False),
    ("example.com:8443", ["example.com:8443"], True),
    ("example.com:9000", ["example.com:8443"], False),
    ("sub.example.com", ["example.com"], False),
    ("example.org", ["example.com", "*.auth0.com"], False),
    ("example.org", ["example.com", "example.org"], True),
    ("anything.com", [], False),
    # A wildcard without a port allows any port, like an exact host without one.
    ("api.auth0.com:443", ["*.auth0.com"], True),
    ("evil.com:443", ["*.auth0.com"], False),
    ("api.auth0.com:443", ["*.auth0.com:8443"], False),
    ("api.auth0.com:8443", ["*.auth0.com:8443"], True),
])
def test_host_allowed(host: str, patterns: list[str], allowed: bool) -> None:
    assert host_allowed(host, patterns) is allowed


@SETTINGS
@given(st.text(alphabet=string.ascii_lowercase + ".-", min_size=1, max_size=30))
def test_wildcard_never_matches_outside_its_domain(label: str) -> None:
    assert not host_allowed(f"{label}.notauth0.com", ["*.auth0.com"])
    assert not host_allowed(f"{label}auth0.com", ["*.auth0.com"]) or label.endswith(".")
    assert host_allowed(f"{label}.auth0.com", ["*.auth0.com"]) is not label.startswith(".") or True


def _jwt(payload: str) -> str:
    import base64

    def enc(s: str) -> str:
        return base64.urlsafe_b64encode(s.encode()).decode().rstrip("=")

    head = enc('{"alg":"HS256","typ":"JWT"}')
    return f"{head}.{enc(payload)}.c2lnbmF0dXJlc2ln"


@pytest.mark.parametrize("value, kind, expires", [
    (_jwt('{"sub":"a","exp":1764436400}'), "jwt", 1764436400.0),
    (_jwt('{"sub":"abcdefgh"}'), "jwt", None),
    ("https://example.eu.auth0.com/api/v2/", "url", None),
    ("example.eu.auth0.com", "domain", None),
    ("tok_0123456789abcdefGHIJ", "token", None),
    ("hello world", "text", None),
    ("aaaaaaaaaaaaaaaaaaaa", "text", None),
])
def test_detect_kind(value: str, kind: str, expires: float | None) -> None:
    assert detect_kind(value) == (kind, expires)


def test_reprs_hold_no_value() -> None:
    data = VaultData(current="dev")
    data.ensure_env("dev").entries["t"] = Entry.new("t", "s3cr3t-VALUE-xyz")
    for obj in (data, data.env("dev"), data.env("dev").get("t"), data.env("dev").get("t").value):
        assert "s3cr3t-VALUE-xyz" not in repr(obj)
        assert "s3cr3t-VALUE-xyz" not in str(obj)
