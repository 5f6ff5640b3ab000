"""Every `--flag` that an error, a hint or a warning names is an option of the command it is
about: a hint that names a flag the command does not have sends the user nowhere.

Statically: every string in vault/ that is passed to an error class, to `_warn`/`err`, or
held by something named *hint*. The command it is about is the `tokensafe CMD` the string
names before the flag, else the click command whose function holds the string, else (a
helper shared by several commands) any command. Dynamically: the hints that shared helpers
give each command (unknown `{{names}}` in inject, request and send; send's path variables)
name only that command's flags.
"""

from __future__ import annotations

import ast
import importlib
import re
from dataclasses import dataclass
from pathlib import Path

import click
import pytest

from vault.cli import COMMANDS

VAULT_DIR = Path(__file__).resolve().parents[2] / "vault"
FLAG = re.compile(r"(?<![\w-])--[a-z][a-z0-9-]*")
# A command line inside a message: `tokensafe set NAME --allow-host HOST`, up to a backtick,
# a semicolon or a comma.
NAMED_COMMAND = re.compile(r"tokensafe ([a-z]+)(?: ([a-z]+))?[^`;,]*")
REPORTERS = {"_warn", "err", "warn"}


def _options(cmd: click.Command) -> set[str]:
    return {o for p in cmd.params if isinstance(p, click.Option) for o in (*p.opts, *p.secondary_opts)}


def command_options() -> tuple[dict[str, set[str]], dict[tuple[str, str], str]]:
    """{"send": {...}, "env list": {...}} and {(module, function): command name}."""
    from vault.cli.app import cli as group

    top = _options(group) | {"--help", "--version"}
    options: dict[str, set[str]] = {}
    functions: dict[tuple[str, str], str] = {}

    def add(name: str, cmd: click.Command) -> None:
        options[name] = _options(cmd) | top
        if cmd.callback is not None:
            functions[(cmd.callback.__module__, cmd.callback.__name__)] = name
        if isinstance(cmd, click.Group):
            for sub_name, sub in cmd.commands.items():
                add(f"{name} {sub_name}", sub)

    for name, target in COMMANDS.items():
        module, attr = target.split(":")
        add(name, getattr(importlib.import_module(module), attr))
    return options, functions


@dataclass
class Mention:
    where: str  # file:line
    text: str
    module: str
    function: str | None  # the innermost enclosing function


def _strings(node: ast.AST) -> list[str]:
    """String constants and the literal parts of f-strings under node."""
    return [n.value for n in ast.walk(node) if isinstance(n, ast.Constant) and isinstance(n.value, str)]


def _name(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return ""


def _reported(node: ast.AST) -> list[ast.AST]:
    """The parts of node whose strings reach the user as an error, a hint or a warning."""
    if isinstance(node, ast.Call):
        fn = _name(node.func)
        if fn.endswith("Error") or fn in REPORTERS:
            return [*node.args, *node.keywords]
        if fn == "append" and "hint" in _name(getattr(node.func, "value", None)).lower():
            return list(node.args)
        return [k.value for k in node.keywords if k.arg and "hint" in k.arg]
    if isinstance(node, ast.Assign | ast.AnnAssign):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        if any("hint" in _name(t).lower() for t in targets) and node.value is not None:
            return [node.value]
    if isinstance(node, ast.FunctionDef) and "hint" in node.name.lower():
        return list(node.body)
    return []


def mentions() -> list[Mention]:
    out: list[Mention] = []
    for path in sorted(VAULT_DIR.rglob("*.py")):
        module = ".".join(path.relative_to(VAULT_DIR.parent).with_suffix("").parts)
        tree = ast.parse(path.read_text(encoding="utf-8"))

        def visit(node: ast.AST, function: str | None, module: str = module, path: Path = path) -> None:
            if isinstance(node, ast.FunctionDef):
                function = node.name
            for part in _reported(node):
                for text in _strings(part):
                    if FLAG.search(text):
                        out.append(Mention(f"{path.name}:{getattr(part, 'lineno', node.lineno)}", text,
                                           module, function))
            for child in ast.iter_child_nodes(node):
                visit(child, function)

        visit(tree, None)
    return out


def about(m: Mention, flag_at: int, options: dict[str, set[str]], functions: dict[tuple[str, str], str]) -> str | None:
    """The command a flag in a mention is about, or None for any command."""
    for x in NAMED_COMMAND.finditer(m.text):
        if x.start() < flag_at < x.end() and x.group(1) in options:
            sub = f"{x.group(1)} {x.group(2)}"
            return sub if sub in options else x.group(1)
    return functions.get((m.module, m.function or ""))


def test_the_scan_sees_the_hints_it_must_see() -> None:
    texts = " | ".join(m.text for m in mentions())
    for flag in ("--allow-unbound", "--var", "--keep-path-vars", "--max-time", "--passphrase-fd"):
        assert flag in texts, flag


def test_every_flag_a_hint_or_error_names_exists_on_its_command() -> None:
    options, functions = command_options()
    every = set().union(*options.values())
    wrong = []
    for m in mentions():
        for f in FLAG.finditer(m.text):
            cmd = about(m, f.start(), options, functions)
            ok = f.group() in (options[cmd] if cmd else every)
            if not ok:
                wrong.append(f"{m.where}: {f.group()} is not an option of {cmd or 'any command'}: {m.text!r}")
    assert not wrong, "\n".join(wrong)


# --- hints that shared helpers give each command ---------------------------------------------

COLLECTION = """{"info": {"name": "c"}, "item": [
  {"name": "unknown", "request": {"url": "http://{{auth0_domain}}/x/{{nope}}"}},
  {"name": "path", "request": {"url": {"raw": "http://{{auth0_domain}}/x/:id", "host": ["{{auth0_domain}}"],
                                        "path": ["x", ":id"], "variable": [{"key": "id", "value": null}]}}}]}"""


@pytest.fixture
def flags_of(vault_path: Path):
    from tests.conftest import create_passphrase_vault

    create_passphrase_vault(vault_path, entries={"auth0_domain": "127.0.0.1:9"})
    options, _ = command_options()

    def named(stderr: str) -> set[str]:
        assert "tokensafe: error:" in stderr
        return set(FLAG.findall(stderr))
    return options, named


@pytest.mark.parametrize(("args", "stdin"), [
    (["inject"], "{{nope}}"),
    (["request", "GET", "http://{{auth0_domain}}/{{nope}}"], None),
    (["send", "{c}", "unknown"], None),
    (["send", "{c}", "path"], None),
    (["send", "{c}", "Nope"], None),
], ids=["inject-unknown", "request-unknown", "send-unknown", "send-path-variable", "send-no-item"])
def test_a_shared_helper_names_only_flags_of_the_command_in_use(cli, flags_of, tmp_path: Path,
                                                                args: list[str], stdin: str | None) -> None:
    options, named = flags_of
    col = tmp_path / "c.json"
    col.write_text(COLLECTION)
    r = cli([a.replace("{c}", str(col)) for a in args], input=stdin)
    assert r.code != 0
    flags = named(r.stderr)
    assert flags <= options[args[0]], f"{args[0]} has no {flags - options[args[0]]}: {r.stderr}"
    if args[0] == "send" and args[-1] != "Nope":
        assert "--var" in flags, r.stderr  # and it names the way to give the value
