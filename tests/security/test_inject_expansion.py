"""#9 finding 15: nested variables cannot expand without bound; the error is clear and holds
no value."""

from __future__ import annotations

import sys
import time

import pytest

from tests.conftest import PLANTED
from vault.errors import ExitStatus, UsageError
from vault.inject.template import MAX_GROWTH, resolve


def doubling(levels: int, leaf: str = PLANTED) -> dict[str, str]:
    """v0 = "{{v1}}{{v1}}", v1 = "{{v2}}{{v2}}" … : 2**levels copies of the leaf."""
    values = {f"v{i}": f"{{{{v{i + 1}}}}}{{{{v{i + 1}}}}}" for i in range(levels)}
    values[f"v{levels}"] = leaf
    return values


def test_exponential_nesting_is_refused_quickly_without_a_value() -> None:
    start = time.perf_counter()
    with pytest.raises(UsageError) as e:
        resolve("{{v0}}", doubling(18, PLANTED * 40))
    assert time.perf_counter() - start < 5
    text = e.value.message + (e.value.hint or "")
    assert "MiB" in text and PLANTED not in text


def test_one_pass_of_many_references_is_bounded_too() -> None:
    big = "x" * (1 << 20)
    with pytest.raises(UsageError):
        resolve("{{big}}" * 64, {"big": big})


def test_ordinary_nesting_and_large_values_still_resolve() -> None:
    assert resolve("{{v0}}", doubling(4, "ab")) == "ab" * 16
    value = "y" * (MAX_GROWTH // 2)
    assert len(resolve("{{a}}", {"a": value})) == len(value)


def test_inject_command_exits_2(cli, vault_path) -> None:
    from tests.conftest import create_passphrase_vault

    create_passphrase_vault(vault_path, entries=doubling(18, PLANTED * 40))
    r = cli(["inject"], input="{{v0}}\n")
    assert r.code == ExitStatus.USAGE, r.stderr
    assert r.stderr.startswith("tokensafe: error: resolving {{…}} would grow the text")
    assert PLANTED not in r.stdout + r.stderr
    assert "Traceback" not in r.stderr and sys.getsizeof(r.stdout) < 1 << 20
