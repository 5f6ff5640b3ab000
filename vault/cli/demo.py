"""`tokensafe demo`: the main job, walked through for real in a throwaway vault.

No keyring, no network: the vault is protected by a passphrase from the environment, lives
in a temporary folder, and is removed at the end. Each step runs the real command line.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import click

from vault.demo_tokens import auth0_mgmt_jwt

DEMO_PASSPHRASE = "demo passphrase, not a secret"


class DemoRunner:
    """Runs `tokensafe …` command lines in the demo's environment and shows them."""

    def __init__(self, workdir: Path, env: dict[str, str]) -> None:
        self.workdir = workdir
        self.env = env

    def say(self, text: str) -> None:
        click.echo(click.style(f"\n# {text}", fg="cyan") if sys.stdout.isatty() else f"\n# {text}")

    def __call__(self, args: str | list[str], *, input: str | bytes | None = None,
                 pipe_to: str | None = None, expect_code: int = 0,
                 show_input: str | None = None) -> subprocess.CompletedProcess:
        argv = shlex.split(args) if isinstance(args, str) else list(args)
        shown = "tokensafe " + shlex.join(argv)
        if show_input is not None:
            shown = f"{show_input} | {shown}"
        if pipe_to:
            shown += f" | {pipe_to}"
        click.echo(f"$ {shown}")
        data = input.encode() if isinstance(input, str) else input
        cmd = [sys.executable, "-m", "vault", *argv]
        if pipe_to:
            p1 = subprocess.Popen(cmd, stdin=subprocess.PIPE if data is not None else subprocess.DEVNULL,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=self.env, cwd=self.workdir)
            p2 = subprocess.Popen(pipe_to, shell=True, stdin=p1.stdout, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, env=self.env, cwd=self.workdir)
            assert p1.stdout is not None
            p1.stdout.close()
            if data is not None and p1.stdin:
                p1.stdin.write(data)
                p1.stdin.close()
            out2, _ = p2.communicate(timeout=60)
            err1 = p1.stderr.read() if p1.stderr else b""
            code = p1.wait(timeout=60)
            result = subprocess.CompletedProcess(cmd, code, out2, err1)
        else:
            result = subprocess.run(cmd, input=data, capture_output=True, env=self.env,
                                    cwd=self.workdir, timeout=120,
                                    stdin=None if data is not None else subprocess.DEVNULL)
        for stream in (result.stdout, result.stderr):
            text = stream.decode("utf-8", "replace").rstrip()
            if text:
                click.echo("\n".join("  " + line for line in text.splitlines()))
        if result.returncode != expect_code:
            raise click.ClickException(
                f"demo step failed: `{shown}` exited {result.returncode}, expected {expect_code}")
        return result


@click.command("demo", epilog="Example: tokensafe demo")
@click.option("--keep", is_flag=True, help="Keep the throwaway folder and print where it is.")
def demo_cmd(keep: bool) -> None:
    """Walk through the main job in a throwaway vault (no keyring, no network)."""
    workdir = Path(tempfile.mkdtemp(prefix="tokensafe-demo-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOKENSAFE_")}
    env.update({
        "TOKENSAFE_VAULT": str(workdir / "vault" / "demo.tokensafe"),
        "TOKENSAFE_PASSPHRASE": DEMO_PASSPHRASE,
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
        "NO_COLOR": "1",
    })
    run = DemoRunner(workdir, env)
    try:
        vault_demo(run, workdir)
        for hook in ("vault.inject.demo:inject_demo", "vault.inject.auth0_demo:auth0_demo", "vault.guard.demo:guard_demo"):
            module, attr = hook.split(":")
            try:
                fn = getattr(__import__(module, fromlist=[attr]), attr)
            except (ImportError, AttributeError):
                continue
            fn(run, workdir)
        run.say("Done. Everything above ran for real; the throwaway vault is now removed.")
    finally:
        if keep:
            click.echo(f"(kept {workdir})")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def vault_demo(run: DemoRunner, workdir: Path) -> None:
    domain = "demo-tenant.eu.auth0.com"
    token = auth0_mgmt_jwt(domain, scope="read:users update:users")
    vault_file = Path(run.env["TOKENSAFE_VAULT"])
    run.say("A vault protected by a passphrase (here from TOKENSAFE_PASSPHRASE; usually the OS keyring).")
    run("init --env dev")
    run.say("Values go in through stdin or a hidden prompt, never on the command line.")
    run("set auth0_domain", input=domain, show_input=f"echo {domain}")
    run(f"set auth0_token --allow-host {domain}", input=token, show_input="pbpaste")
    run.say("A value on the command line is refused: every user can read argv.")
    run("set auth0_token not-a-good-idea", expect_code=9)
    run.say("`list` shows names, kinds, expiry and allowed hosts, never values.")
    run("list")
    run.say("`get` writes the raw value into a pipe (a terminal needs --reveal).")
    run("get auth0_token", pipe_to="wc -c")
    run.say("Environments, like Postman's.")
    run("env create prod")
    run("set auth0_domain --env prod", input="prod-tenant.us.auth0.com", show_input="echo prod-tenant.us.auth0.com")
    run("env list")
    run.say("The vault file holds no name and no value in the clear:")
    raw = vault_file.read_bytes()
    leaked = [s for s in (token, domain, "auth0_token") if s.encode() in raw]
    click.echo(f"  {vault_file.name}: {len(raw)} bytes, plaintext found: {leaked or 'none'}")
    run.say("One changed byte anywhere, and the vault is reported as tampered (exit 5), never overwritten.")
    tampered = workdir / "tampered.tokensafe"
    damaged = bytearray(raw)
    damaged[len(raw) // 2] ^= 0x01
    tampered.write_bytes(bytes(damaged))
    tampered.chmod(0o600)
    run(f"list --vault {tampered.name}", expect_code=5)
