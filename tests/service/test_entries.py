"""The entries use cases called directly, on a real temporary vault (no CLI in between)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import PLANTED, create_passphrase_vault
from vault.errors import NotFoundError, UsageError
from vault.service import entries
from vault.service.context import Context


@pytest.fixture
def ctx(vault: Path) -> Context:
    return Context(str(vault))


def test_set_get_list_rm_round_trip(ctx: Context) -> None:
    out = entries.set_entry(ctx, entries.SetOptions("auth0_token", hosts=["*.auth0.com"]), PLANTED)
    assert out == entries.SetResult("auth0_token", "dev", "token", len(PLANTED), replaced=False)
    assert PLANTED not in repr(out)
    assert entries.get_value(ctx, "auth0_token") == PLANTED

    entries.set_entry(ctx, entries.SetOptions("auth0_domain"), "acme.eu.auth0.com")
    listing = entries.list_entries(ctx)
    assert listing.current == "dev"
    (env,) = listing.environments
    assert [e.name for e in env.entries] == ["auth0_domain", "auth0_token"]
    token = env.entries[1]
    assert (token.kind, token.allowed_hosts, token.length) == ("token", ["*.auth0.com"], len(PLANTED))
    assert PLANTED not in repr(listing) and PLANTED not in str(listing.to_json())
    assert entries.list_entries(ctx).to_json()["environments"][0]["entries"][0]["kind"] == "domain"

    removed = entries.remove_entries(ctx, ["auth0_token", "auth0_token"])
    assert (removed.env, removed.names) == ("dev", ["auth0_token"])
    with pytest.raises(NotFoundError):
        entries.get_value(ctx, "auth0_token")


def test_update_keeps_hosts_and_creation_unless_cleared(ctx: Context) -> None:
    entries.set_entry(ctx, entries.SetOptions("tok", hosts=["api.example.com"]), "first-value-000000")
    created = ctx.read().env().get("tok").created
    out = entries.set_entry(ctx, entries.SetOptions("tok"), "second-value-11111")
    assert out.replaced
    e = ctx.read().env().get("tok")
    assert (e.value.reveal(), e.allowed_hosts, e.created) == ("second-value-11111", ["api.example.com"], created)
    entries.set_entry(ctx, entries.SetOptions("tok", clear_hosts=True), "third-value-222222")
    assert ctx.read().env().get("tok").allowed_hosts == []


def test_set_validates_before_writing(ctx: Context) -> None:
    with pytest.raises(UsageError):
        entries.SetOptions("bad name!").validate()
    with pytest.raises(UsageError):
        entries.set_entry(ctx, entries.SetOptions("ok", hosts=["http://not a host"]), "v")
    with pytest.raises(UsageError):
        entries.set_entry(ctx, entries.SetOptions("ok"), "")
    assert entries.list_entries(ctx).environments[0].entries == []


def test_set_into_a_new_environment_creates_it(ctx: Context) -> None:
    out = entries.set_entry(ctx, entries.SetOptions("tok", env="prod"), "prod-value")
    assert out.env == "prod"
    assert entries.get_value(ctx, "tok", "prod") == "prod-value"
    with pytest.raises(NotFoundError):
        entries.get_value(ctx, "tok")  # current is still dev


def test_rm_is_all_or_nothing(vault_path: Path) -> None:
    create_passphrase_vault(vault_path, entries={"a": "value-a", "b": "value-b"})
    ctx = Context(str(vault_path))
    with pytest.raises(NotFoundError):
        entries.remove_entries(ctx, ["a", "missing"])
    assert entries.get_value(ctx, "a") == "value-a"


def test_environment_lifecycle(ctx: Context) -> None:
    entries.create_env(ctx, "prod", use=True)
    envs = entries.list_envs(ctx)
    assert envs.current == "prod"
    assert [(e.name, e.entries, e.current) for e in envs.environments] == [("dev", 0, False), ("prod", 0, True)]
    with pytest.raises(UsageError):
        entries.create_env(ctx, "prod")
    entries.use_env(ctx, "dev")
    with pytest.raises(NotFoundError):
        entries.use_env(ctx, "staging")
    entries.set_entry(ctx, entries.SetOptions("tok", env="prod"), "prod-value")
    with pytest.raises(UsageError, match="holds 1 entries"):
        entries.remove_env(ctx, "prod")
    assert entries.remove_env(ctx, "dev", force=True) == "prod"  # current moves on
    assert entries.list_envs(ctx).to_json() == {"current": "prod",
                                                "environments": [{"name": "prod", "entries": 1}]}
    with pytest.raises(UsageError, match="only environment"):
        entries.remove_env(ctx, "prod", force=True)


def test_backup_restore_brings_back_the_previous_generation(ctx: Context) -> None:
    entries.set_entry(ctx, entries.SetOptions("tok"), "old-value")
    entries.set_entry(ctx, entries.SetOptions("tok"), "new-value")
    out = entries.restore_backup(ctx)
    assert out.path == ctx.path
    assert out.kept is not None and out.kept.exists()
    assert entries.get_value(ctx, "tok") == "old-value"


def test_context_resolves_the_path_once_through_symlinks(vault: Path, tmp_path: Path) -> None:
    link = tmp_path / "link.tokensafe"
    link.symlink_to(vault)
    ctx = Context(str(link))
    assert ctx.path == vault.resolve()
    assert ctx.read().current == "dev"


def test_a_missing_vault_is_not_found(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOKENSAFE_PASSPHRASE", "x")
    with pytest.raises(NotFoundError):
        entries.get_value(Context(str(home / "nope.tokensafe")), "tok")
