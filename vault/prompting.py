"""Where secrets typed by a person come from: a file descriptor, the environment, a terminal.

The store never asks anyone anything: front ends build a `Prompter` and hand it to the
store's `Unlocker` (gh's injected Prompter). A prompter answers an `Ask` in two ways:
`supplied` (given up front — a descriptor, a variable: no one is asked) and `ask` (a person
at a terminal). None means "I cannot"; `require` turns that into a LockedError whose hint
names every way the front end offers. Imports nothing of the package but errors.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from vault.errors import LockedError, UsageError

PASSPHRASE = "passphrase"
RECOVERY_KEY = "recovery key"
NEW_PASSPHRASE = "new passphrase"

ENV_VARS = {
    PASSPHRASE: "TOKENSAFE_PASSPHRASE",
    RECOVERY_KEY: "TOKENSAFE_RECOVERY_KEY",
    NEW_PASSPHRASE: "TOKENSAFE_NEW_PASSPHRASE",
}


@dataclass(frozen=True)
class Ask:
    """One secret wanted: `what` names it (PASSPHRASE, …), `prompt` is shown on a terminal."""

    what: str
    prompt: str
    confirm: bool = False  # a new secret: typed twice on a terminal


class Prompter(Protocol):
    def supplied(self, what: str) -> str | None:
        """The secret if it was given up front (no one is asked), else None."""

    def ask(self, request: Ask) -> str | None:
        """Ask a person; None when no one can be asked."""

    def ways(self, what: str) -> list[str]:
        """How a user can give `what` through this prompter, for hints."""


# the pieces ---------------------------------------------------------------------------

def has_terminal() -> bool:
    try:
        fd = os.open("/dev/tty", os.O_RDWR | os.O_NOCTTY)
    except OSError:
        return False
    os.close(fd)
    return True


def prompt_hidden(prompt: str) -> str:
    import getpass

    return getpass.getpass(prompt)  # reads /dev/tty, without echo


def read_fd(fd: int) -> str:
    """The first line on descriptor `fd` (a passphrase), without its newline."""
    chunks = []
    try:
        while True:
            b = os.read(fd, 4096)
            if not b:
                break
            chunks.append(b)
            if b"\n" in b:
                break
    except OSError as e:
        raise LockedError(f"cannot read the passphrase from file descriptor {fd} ({e.strerror})",
                          "pass an open descriptor, e.g. --passphrase-fd 3 3<passfile") from None
    try:
        return b"".join(chunks).split(b"\n", 1)[0].rstrip(b"\r").decode("utf-8")
    except UnicodeDecodeError:
        raise LockedError(f"the passphrase on file descriptor {fd} is not UTF-8 text") from None


class NoPrompter:
    """Never answers: for callers that must not block on input (the unlock then fails with a hint)."""

    def supplied(self, what: str) -> str | None:
        return None

    def ask(self, request: Ask) -> str | None:
        return None

    def ways(self, what: str) -> list[str]:
        return []


@dataclass
class FdPrompter(NoPrompter):
    """`--passphrase-fd N` (or `--new-passphrase-fd N`): one line read once from a descriptor."""

    fd: int
    what: str = PASSPHRASE
    flag: str = "--passphrase-fd"
    _value: str | None = field(default=None, repr=False)

    def supplied(self, what: str) -> str | None:
        if what != self.what:
            return None
        if self._value is None:
            self._value = read_fd(self.fd)
        return self._value

    def ways(self, what: str) -> list[str]:
        return [f"pass {self.flag} N"] if what == self.what else []


@dataclass
class EnvPrompter(NoPrompter):
    """TOKENSAFE_PASSPHRASE, TOKENSAFE_RECOVERY_KEY, TOKENSAFE_NEW_PASSPHRASE (empty = unset)."""

    environ: Mapping[str, str] = field(default_factory=lambda: os.environ, repr=False)

    def supplied(self, what: str) -> str | None:
        var = ENV_VARS.get(what)
        return (self.environ.get(var) or None) if var else None

    def ways(self, what: str) -> list[str]:
        return [f"set {ENV_VARS[what]}"] if what in ENV_VARS else []


class TerminalPrompter(NoPrompter):
    """A hidden prompt on the controlling terminal (/dev/tty), when there is one."""

    def ask(self, request: Ask) -> str | None:
        if not has_terminal():
            return None
        value = prompt_hidden(request.prompt)
        if request.confirm and prompt_hidden("Repeat " + request.prompt[:1].lower() + request.prompt[1:]) != value:
            raise UsageError(f"the {request.what}s do not match; nothing was changed")
        return value

    def ways(self, what: str) -> list[str]:
        return ["run it in a terminal"]


@dataclass
class Prompters(NoPrompter):
    """Several prompters, asked in order: the first answer wins."""

    members: list[Prompter]

    def supplied(self, what: str) -> str | None:
        for m in self.members:
            if (value := m.supplied(what)) is not None:
                return value
        return None

    def ask(self, request: Ask) -> str | None:
        value = self.supplied(request.what)
        if value is not None:
            return value
        for m in self.members:
            if (value := m.ask(request)) is not None:
                return value
        return None

    def ways(self, what: str) -> list[str]:
        return [w for m in self.members for w in m.ways(what)]


def standard(passphrase_fd: int | None = None, new_passphrase_fd: int | None = None,
             environ: Mapping[str, str] | None = None, terminal: bool = True) -> Prompters:
    """The CLI's prompter: descriptors first, then the environment, then the terminal."""
    members: list[Prompter] = []
    if passphrase_fd is not None:
        members.append(FdPrompter(passphrase_fd))
    if new_passphrase_fd is not None:
        members.append(FdPrompter(new_passphrase_fd, NEW_PASSPHRASE, "--new-passphrase-fd"))
    members.append(EnvPrompter(os.environ if environ is None else environ))
    if terminal:
        members.append(TerminalPrompter())
    return Prompters(members)


def hint(prompter: Prompter, what: str) -> str:
    """'set TOKENSAFE_X, pass a descriptor, or run it in a terminal' for the ways `prompter` offers."""
    ways = prompter.ways(what)
    if len(ways) > 1:
        return ", ".join(ways[:-1]) + ", or " + ways[-1]
    return ways[0] if ways else f"this front end cannot ask for a {what}"


def require(prompter: Prompter, request: Ask) -> str:
    """The answer to `request`, or LockedError naming the ways to give it; never empty."""
    value = prompter.ask(request)
    if value is None:
        raise LockedError(f"no {request.what} given and no terminal to ask on", hint(prompter, request.what))
    if not value:
        raise UsageError(f"an empty {request.what} is not allowed")
    return value
