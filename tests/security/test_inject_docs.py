"""#9 finding 9: no example teaches a secret on a command line (every local user reads argv
in /proc/*/cmdline). README code, `--help` of every command and `run`'s refusal hint pass
secrets through stdin, a file descriptor or a config read from stdin."""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest

README = Path(__file__).resolve().parents[2] / "README.md"
# An expansion of a secret-looking variable, or a `tokensafe get` substituted into a line.
SECRET_EXPANSION = re.compile(
    r"\$\{?[A-Za-z0-9_]*(TOKEN|SECRET|PASSWORD|PASSPHRASE|API_KEY|CLIENT_KEY)[A-Za-z0-9_]*\}?"
    r"|\$\(\s*tokensafe\s+get\b|`\s*tokensafe\s+get\b", re.IGNORECASE)
# Shell builtins: an expansion in their arguments reaches no process's argv.
BUILTINS = {"echo", "printf", "export", "read", "test", "[", "eval", "local", "set", ":"}
SEPARATORS = re.compile(r"\|\|?|&&|;|\(|\)|'|\n")


def leaks(line: str) -> list[str]:
    """Simple commands in `line` whose argv would hold a secret expansion."""
    line = re.sub(r"^\s*\$\s+", "", line)  # a console prompt
    line = re.sub(r"\$\(\s*tokensafe\s+get\b[^)]*\)", "$SUBSTITUTED_SECRET", line)
    out = []
    for segment in SEPARATORS.split(line):
        if not SECRET_EXPANSION.search(segment):
            continue
        words = segment.replace('"', " ").split()
        first = next((w for w in words if "=" not in w or w.startswith("$")), "")
        if first not in BUILTINS:
            out.append(segment.strip())
    return out


@pytest.mark.parametrize(("line", "bad"), [
    ('curl -H "Authorization: Bearer $AUTH0_TOKEN" https://x', True),
    ('curl -H "Authorization: Bearer $(tokensafe get auth0_token)" https://x', True),
    ("tokensafe run -- sh -c 'mysql --password=\"$DB_PASSWORD\"'", True),
    ('"$AUTH0_TOKEN"', True),
    ("tokensafe run -- sh -c 'printf %s \"$REGISTRY_TOKEN\" | docker login --password-stdin -u me r'", False),
    ("tokensafe get auth0_token | docker login --password-stdin -u me", False),
    ('eval "$(tokensafe export --format shell)"', False),
])
def test_the_scanner_itself(line: str, bad: bool) -> None:
    assert bool(leaks(line)) is bad


def _readme_code() -> list[str]:
    text = README.read_text(encoding="utf-8")
    blocks = re.findall(r"^\s*```[a-z]*\n(.*?)^\s*```", text, re.S | re.M)
    spans = re.findall(r"(?<!`)`([^`\n]+)`(?!`)", re.sub(r"```.*?```", "", text, flags=re.S))
    # Inline code with a space is a command line; a lone `$TOKEN` names a placeholder.
    return [ln for b in blocks for ln in b.splitlines()] + [x for x in spans if " " in x.strip()]


def test_readme_examples_keep_secrets_off_command_lines() -> None:
    found = [(ln, leaks(ln)) for ln in _readme_code() if leaks(ln)]
    assert found == []


def _all_help() -> list[tuple[str, str]]:
    from vault.cli.app import cli as root

    out = []

    def walk(cmd: click.Command, path: list[str]) -> None:
        with click.Context(cmd, info_name=" ".join(path)) as ctx:
            out.append((" ".join(path), cmd.get_help(ctx)))
        if isinstance(cmd, click.Group):
            for name, sub in cmd.commands.items():
                walk(sub, [*path, name])

    walk(root, ["tokensafe"])
    return out


def test_help_texts_keep_secrets_off_command_lines() -> None:
    found = [(name, line) for name, text in _all_help() for line in text.splitlines() if leaks(line)]
    assert found == []


def test_run_refusal_hint_teaches_stdin(cli, vault) -> None:
    r = cli(["run", "--", "curl", "-H", "Authorization: Bearer {{auth0_token}}", "https://x"])
    assert r.code == 9
    hint = next(ln for ln in r.stderr.splitlines() if ln.startswith("tokensafe: hint:"))
    assert leaks(hint.removeprefix("tokensafe: hint:")) == [] and "stdin" in hint
