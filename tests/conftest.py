"""Shared fixtures: a throwaway vault with a cheap KDF, the installed command, leak checks.

Tests never touch the user's real vault or keyring: HOME, XDG dirs and TOKENSAFE_* point
into tmp_path, and the keyring is the `fail` backend unless a test asks for the real one.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from click.testing import CliRunner

from vault import crypto

CHEAP_KDF = crypto.KdfParams(iterations=1, lanes=1, memory_kib=8)
PASSPHRASE = "correct horse battery staple"
NO_KEYRING = "keyring.backends.fail.Keyring"
# A recognisable planted secret: its bytes must appear nowhere they should not.
PLANTED = "tsPLANTED-7f3a9c-SECRET-e1d2c3b4a5f60718293a4b5c6d7e8f90"


@pytest.fixture(autouse=True)
def cheap_kdf(monkeypatch: pytest.MonkeyPatch) -> None:
    """The test-only hook: new passphrase slots use cheap Argon2id parameters."""
    monkeypatch.setattr(crypto, "_test_kdf_params", CHEAP_KDF)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    h = tmp_path / "home"
    h.mkdir(mode=0o700)
    for var, sub in (("HOME", ""), ("XDG_DATA_HOME", ".local/share"), ("XDG_CONFIG_HOME", ".config"),
                     ("XDG_CACHE_HOME", ".cache"), ("XDG_RUNTIME_DIR", "run")):
        p = h / sub if sub else h
        p.mkdir(mode=0o700, parents=True, exist_ok=True)
        monkeypatch.setenv(var, str(p))
    for var in list(os.environ):
        if var.startswith("TOKENSAFE_"):
            monkeypatch.delenv(var)
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", NO_KEYRING)
    return h


@pytest.fixture
def vault_path(home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    p = home / "vaultdir" / "vault.tokensafe"
    monkeypatch.setenv("TOKENSAFE_VAULT", str(p))
    monkeypatch.setenv("TOKENSAFE_PASSPHRASE", PASSPHRASE)
    return p


def create_passphrase_vault(path: Path, env: str = "dev", entries: dict[str, str] | None = None,
                            passphrase: str = PASSPHRASE):
    """A real vault file with one cheap passphrase slot, made in-process."""
    from vault.store import keyslots
    from vault.store.model import Entry, VaultData
    from vault.store.vaultfile import create_vault

    data = VaultData(current=env)
    e = data.ensure_env(env)
    for name, value in (entries or {}).items():
        e.entries[name] = Entry.new(name, value)
    return create_vault(path, lambda vid, dk: [keyslots.new_passphrase_slot("k1", vid, dk, passphrase)], data)


@pytest.fixture
def vault(vault_path: Path):
    """An existing vault (env `dev`, cheap passphrase slot) at TOKENSAFE_VAULT."""
    create_passphrase_vault(vault_path)
    return vault_path


@dataclass
class CliResult:
    code: int
    stdout: str
    stderr: str


@pytest.fixture
def cli(home: Path) -> Iterator:
    """Run the CLI in-process: cli(['get', 'x'], input='...') -> CliResult."""
    from vault.cli import run

    def invoke(args: list[str], input: str | bytes | None = None) -> CliResult:
        runner = CliRunner()
        with runner.isolation(input=input) as (out, err, _):
            code = run(list(args))
            return CliResult(code, out.getvalue().decode(), err.getvalue().decode())

    yield invoke


@dataclass
class Session:
    """Runs the installed `tokensafe` and keeps every byte it saw, for leak checks."""

    env: dict[str, str]
    cwd: Path
    transcript: list[tuple[list[str], bytes, bytes]] = field(default_factory=list)

    def __call__(self, *args: str, input: str | bytes | None = None, timeout: float = 60,
                 env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        exe = shutil.which("tokensafe")
        assert exe, "the tokensafe command is not installed (pip install -e .)"
        data = input.encode() if isinstance(input, str) else input
        r = subprocess.run([exe, *args], input=data, capture_output=True, timeout=timeout,
                           env={**self.env, **(env or {})}, cwd=self.cwd,
                           stdin=None if data is not None else subprocess.DEVNULL)
        self.transcript.append(([exe, *args], r.stdout, r.stderr))
        return r

    def assert_no_leak(self, secret: str, allow_stdout_of: tuple[str, ...] = ("get", "inject", "export")) -> None:
        """The secret's bytes in no argv, no stderr, and no stdout but the allowed commands'."""
        s = secret.encode()
        for argv, out, err in self.transcript:
            assert s not in " ".join(argv).encode(), f"secret in argv of {argv[1:3]}"
            assert s not in err, f"secret in stderr of {argv[1:3]}"
            if not (len(argv) > 1 and argv[1] in allow_stdout_of):
                assert s not in out, f"secret in stdout of {argv[1:3]}"


@pytest.fixture
def session(home: Path, tmp_path: Path) -> Session:
    """The installed command with a private HOME, a vault path and a passphrase in env."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOKENSAFE_")}
    env.update(TOKENSAFE_VAULT=str(home / "vaultdir" / "vault.tokensafe"),
               TOKENSAFE_PASSPHRASE=PASSPHRASE, PYTHON_KEYRING_BACKEND=NO_KEYRING)
    return Session(env, tmp_path)


def files_containing(root: Path, needle: bytes) -> list[Path]:
    """Every regular file under root whose bytes contain needle."""
    hits = []
    for p in root.rglob("*"):
        try:
            if p.is_file() and not p.is_symlink() and needle in p.read_bytes():
                hits.append(p)
        except OSError:
            pass
    return hits
