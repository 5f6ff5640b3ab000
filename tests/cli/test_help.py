"""Every command has --help with an example, and the top-level help lists them all."""

from __future__ import annotations

import pytest

from vault.cli import COMMANDS


def test_top_level_help_lists_every_command(cli) -> None:
    r = cli(["--help"])
    assert r.code == 0, r.stderr
    for name in COMMANDS:
        assert f"  {name} " in r.stdout, name


def _leaf_commands() -> list[list[str]]:
    import click

    from vault.cli.app import cli as group

    out = []
    ctx = click.Context(group)
    for name in COMMANDS:
        cmd = group.get_command(ctx, name)
        if isinstance(cmd, click.Group):
            out += [[name, sub] for sub in cmd.list_commands(ctx)]
        else:
            out.append([name])
    return out


@pytest.mark.parametrize("path", _leaf_commands(), ids=" ".join)
def test_every_command_has_help_with_an_example(cli, path: list[str]) -> None:
    r = cli([*path, "--help"])
    assert r.code == 0, r.stderr
    assert "Example" in r.stdout, f"`tokensafe {' '.join(path)} --help` shows no example"
