"""Which environment variables a vault entry may never set in a child (or an exported shell).

Vault names come from files tokensafe did not write (`import`, `watch --action scrub`): an
entry named `ld_preload` must not become `LD_PRELOAD` in the user's next `tokensafe run`.
The names below change what a program loads or runs, where its network traffic goes, which
certificates it trusts, or where a package manager fetches from. They are matched
case-insensitively against the *variable* name (after UPPER_CASE, or as-is with --as-is);
only the user, on the command line (`--allow-env NAME`), can let one through. The list is
SECURITY.md's "Variables a vault entry never sets"; keep the two in step.

Also: the vault's own unlock material (`TOKENSAFE_PASSPHRASE` …) is removed from the
environment a child inherits (`SECRET_SETTINGS`).

Imported on `run`'s start-up path: plain tuples, no imports.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

# Exact names (upper case).
DENIED_NAMES = frozenset({
    # program loading and lookup
    "PATH", "GCONV_PATH", "GLIBC_TUNABLES", "LOCPATH", "NLSPATH", "HOSTALIASES", "RES_OPTIONS",
    "LOCALDOMAIN", "TMPDIR",
    # shells: start-up files and hooks
    "BASH_ENV", "ENV", "SHELLOPTS", "BASHOPTS", "PS4", "PROMPT_COMMAND", "IFS", "CDPATH",
    "ZDOTDIR", "INPUTRC", "SHELL", "HOME", "EDITOR", "VISUAL", "PAGER", "BROWSER",
    # interpreters and runtimes
    "NODE_OPTIONS", "NODE_PATH", "NODE_EXTRA_CA_CERTS", "NODE_TLS_REJECT_UNAUTHORIZED",
    "PERL5LIB", "PERL5OPT", "PERLLIB", "PERL5DB", "RUBYOPT", "RUBYLIB", "GEM_HOME", "GEM_PATH",
    "JAVA_TOOL_OPTIONS", "_JAVA_OPTIONS", "JDK_JAVA_OPTIONS", "CLASSPATH", "LUA_PATH",
    "LUA_CPATH", "LUA_INIT", "TCLLIBPATH", "R_PROFILE", "R_PROFILE_USER", "GOFLAGS",
    # git and ssh: commands they run, config they read
    "GIT_SSH", "GIT_SSH_COMMAND", "GIT_ASKPASS", "GIT_EXEC_PATH", "GIT_PROXY_COMMAND",
    "GIT_EXTERNAL_DIFF", "GIT_PAGER", "GIT_EDITOR", "GIT_SEQUENCE_EDITOR", "GIT_TEMPLATE_DIR",
    "GIT_DIR", "GIT_WORK_TREE", "GIT_CONFIG", "GIT_SSL_NO_VERIFY", "GIT_SSL_CAINFO", "GIT_SSL_CAPATH",
    "SSH_ASKPASS", "SSH_AUTH_SOCK", "SUDO_ASKPASS",
    # TLS trust
    "SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "CURL_HOME",
    "WGETRC",
    # package indexes
    "GOPROXY", "GONOSUMDB", "GONOSUMCHECK", "GOPRIVATE", "GOINSECURE", "GOSUMDB", "GONOPROXY",
    "UV_INDEX", "UV_INDEX_URL", "UV_DEFAULT_INDEX", "UV_EXTRA_INDEX_URL", "UV_FIND_LINKS",
    "YARN_REGISTRY", "YARN_NPM_REGISTRY_SERVER", "COMPOSER_HOME", "CARGO_HOME",
})
# Prefixes (upper case): whole families of loader, interpreter, config and index settings.
DENIED_PREFIXES = ("LD_", "DYLD_", "PYTHON", "PIP_", "NPM_CONFIG_", "GIT_CONFIG_", "XDG_",
                   "POETRY_REPOSITORIES_", "POETRY_SOURCE_", "BUNDLE_MIRROR__", "CARGO_REGISTRIES_",
                   "TOKENSAFE_", "BASH_FUNC_")
# Suffixes (upper case): every proxy variable (HTTP_PROXY, https_proxy, ALL_PROXY, NO_PROXY …).
DENIED_SUFFIXES = ("_PROXY",)

# tokensafe's own unlock material: never inherited by a child process.
SECRET_SETTINGS = ("TOKENSAFE_PASSPHRASE", "TOKENSAFE_RECOVERY_KEY", "TOKENSAFE_NEW_PASSPHRASE")


def denied(var: str) -> bool:
    """True if a vault entry must not set the environment variable `var`."""
    up = var.upper()
    return (up in DENIED_NAMES or up.startswith(DENIED_PREFIXES) or up.endswith(DENIED_SUFFIXES))


def split_allowed(mapping: Mapping[str, str], allow: Iterable[str] = ()) -> tuple[dict[str, str], list[str]]:
    """(the variables that may be set, the names left out); `allow` names (any case) pass."""
    allowed = {a.upper() for group in allow for a in group.split(",") if a}
    kept: dict[str, str] = {}
    dropped: list[str] = []
    for var, value in mapping.items():
        if denied(var) and var.upper() not in allowed:
            dropped.append(var)
        else:
            kept[var] = value
    return kept, dropped


def left_out_warning(dropped: list[str], where: str) -> str:
    """The warning naming the variables left out (names only, never values)."""
    return (f"not set {where}: {', '.join(dropped)} (a variable that changes what programs load, "
            f"where traffic goes or what they trust); --allow-env NAME sets one anyway")
