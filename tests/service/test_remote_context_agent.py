"""`get --remote NAME` reads the remote, even while a local agent is unlocked: the agent
holds the local vault, whose value of the same name is another one."""

from __future__ import annotations

from vault.agent import client
from vault.service import entries
from vault.service.remote import RemoteContext
from vault.store.model import Entry, VaultData


def test_a_remote_value_never_comes_from_the_local_agent(monkeypatch) -> None:
    asked: list[str] = []

    def local_agent(ctx, name, env):  # what a running agent for the local vault would answer
        asked.append(name)
        return "the-local-value"

    remote = VaultData(current="dev")
    remote.ensure_env("dev").entries["api_token"] = Entry.new("api_token", "the-remote-value")
    monkeypatch.setattr(client, "try_value", local_agent)
    monkeypatch.setattr(RemoteContext, "read", lambda self: remote)
    ctx = RemoteContext("team", "/nonexistent/vault.tokensafe")
    assert entries.get_value(ctx, "api_token") == "the-remote-value"
    assert asked == []
