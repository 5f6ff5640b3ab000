"""unlock, lock, log: the unlock agent and the access log of what it handed out."""

from __future__ import annotations

import json
import re
import time

import click

from vault.cli.common import env_option, make_context, passphrase_fd_option, vault_option
from vault.errors import UsageError

_DURATION = re.compile(r"^(\d+)([smhd]?)\Z")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str, option: str) -> float:
    m = _DURATION.fullmatch(text.strip())
    if not m or int(m.group(1)) == 0:
        raise UsageError(f"{option} {text!r} is not a duration", f"e.g. {option} 15m (s, m, h or d; plain numbers are seconds)")
    return float(int(m.group(1)) * _UNITS[m.group(2)])


def _when(t: float) -> str:
    left = max(0, int(t - time.time()))
    return f"{time.strftime('%H:%M:%S', time.localtime(t))} (in {left // 60}m{left % 60:02d}s)"


@click.command("unlock", epilog="Example: tokensafe unlock --for 1h --idle 10m   (then: tokensafe get auth0_token)")
@vault_option
@passphrase_fd_option
@click.option("--for", "for_", default="15m", show_default=True, metavar="DURATION",
              help="Lock after this long whatever happens (e.g. 30s, 15m, 2h).")
@click.option("--idle", default="5m", show_default=True, metavar="DURATION",
              help="Lock after this long without a request.")
@click.option("--status", "show_status", is_flag=True, help="Say whether an agent runs and when it locks; start none.")
@click.option("--json", "as_json", is_flag=True, help="With --status: print JSON.")
def unlock_cmd(vault_path, passphrase_fd, for_, idle, show_status, as_json):
    """Unlock the vault once and keep it unlocked for a while, for this user only.

    Starts a background agent that holds the vault's key in memory (never on disk) and
    answers `get`, `run`, `set` … of your user on a private socket, so a passphrase
    vault asks once. Every value it hands out is written to the access log
    (`tokensafe log`). It locks after --for, after --idle without use, or on
    `tokensafe lock`. Running it again while the agent runs starts nothing.
    """
    from vault.service import agent

    ctx = make_context(vault_path, passphrase_fd)
    if show_status:
        st = agent.agent_status(ctx, quiet=True)
        if as_json:
            click.echo(json.dumps(st.as_dict(), sort_keys=True))
        elif st.running:
            click.echo(f"unlocked: agent pid {st.pid}; locks at {_when(st.locks_at)} "
                       f"(idle limit {int(st.idle_s)}s, at the latest {_when(st.expires_at)})")
        else:
            click.echo("locked: no agent runs for this vault")
        return
    st = agent.start_agent(ctx, parse_duration(for_, "--for"), parse_duration(idle, "--idle"))
    what = "already unlocked" if st.already else "unlocked"
    click.echo(f"{what}: agent pid {st.pid} locks at {_when(st.locks_at)}; `tokensafe lock` locks now", err=True)


@click.command("lock", epilog="Example: tokensafe lock")
@vault_option
def lock_cmd(vault_path):
    """Lock now: the unlock agent wipes the vault's key and exits."""
    from vault.service import agent

    stopped = agent.stop_agent(make_context(vault_path))
    click.echo("locked" if stopped else "locked (no agent was running)", err=True)


@click.command("log", epilog="Examples: tokensafe log --since 1h   tokensafe log --verify")
@vault_option
@passphrase_fd_option
@env_option
@click.option("--since", metavar="TIME", help="Only records since an age (30m, 2h, 7d) or a UTC time (2026-12-01T09:00).")
@click.option("--json", "as_json", is_flag=True, help="One JSON record per line.")
@click.option("--verify", is_flag=True, help="Check that no record was changed, removed, moved or cut off (exit 5 if so).")
def log_cmd(vault_path, passphrase_fd, env_name, since, as_json, verify):
    """Show the access log: every value the unlock agent handed out, to which command.

    Records carry the time, verb, environment, entry names, the command (the child's
    program for `run`), its pid and uid, and the outcome — never a value. Each record is
    chained to the one before it with a MAC keyed from the vault, so --verify (which
    unlocks the vault, or asks the agent) detects edits, deletions, reordering and a cut
    tail.
    """
    from vault.service import agent

    ctx = make_context(vault_path, passphrase_fd)
    if verify:
        verdict = agent.verify_log(ctx)
        if as_json:
            click.echo(json.dumps(verdict.as_dict(), sort_keys=True))
        agent.require_intact(verdict)
        if not as_json:
            click.echo(f"access log intact: {verdict.records} records", err=True)
        return
    records = agent.log_records(ctx, env_name, since)
    for r in records:
        if as_json:
            click.echo(json.dumps(r, sort_keys=True))
        else:
            names = ",".join(str(n) for n in r.get("names", []))
            click.echo(f"{r.get('time', '?')}  {r.get('verb', '?'):<7} {r.get('env', '') or '-':<10} "
                       f"{names or '-':<24} {r.get('command', '') or '-'} (pid {r.get('pid', '?')}, "
                       f"uid {r.get('uid', '?')})  {r.get('outcome', '')}")
    if not records and not as_json:
        click.echo("no access recorded" + (" matching" if env_name or since else ""), err=True)
