"""`tokensafe get`: its one implementation, and a click-free fast path for its plain forms.

`get` runs in hot loops of scripts (`curl -H "Authorization: Bearer $(tokensafe get t)"`),
and importing click costs ~25 ms of a ~150 ms budget. The fast path understands exactly the
forms below and hands anything else (--help, --reveal, unknown options, mistakes) to click,
so the two can never disagree on what a command line means.
"""

from __future__ import annotations

from vault.cli.common import open_data, path_click_refuses, refuse_tty, write_out

# option -> (key, takes a value)
_OPTIONS = {
    "--vault": ("vault_path", True),
    "--env": ("env_name", True),
    "-e": ("env_name", True),
    "--passphrase-fd": ("passphrase_fd", True),
    "-n": ("no_newline", False),
}


def print_value(name: str, vault_path: str | None = None, env_name: str | None = None,
                passphrase_fd: int | None = None, reveal: bool = False, no_newline: bool = False) -> None:
    refuse_tty(reveal, f"the value of {name}")
    data = open_data(vault_path, passphrase_fd)
    value = data.env(env_name).get(name).value.reveal()
    write_out(value if no_newline else value + "\n")


def parse_plain(args: list[str]) -> dict | None:
    """The keyword arguments of `print_value` for a plain `get` command line, else None."""
    import os

    kw: dict = {"vault_path": os.environ.get("TOKENSAFE_VAULT") or None}
    names: list[str] = []
    it = iter(args)
    for a in it:
        opt, eq, inline = a.partition("=") if a.startswith("--") else (a, "", "")
        if opt in _OPTIONS:
            key, takes = _OPTIONS[opt]
            if not takes:
                if eq:
                    return None
                kw[key] = True
                continue
            value = inline if eq else next(it, None)
            if value is None or value == "" or (not eq and value.startswith("-")):
                return None
            kw[key] = value
        elif a.startswith("-") or a == "":
            return None  # --reveal, --help, --, typos: the full parser decides
        else:
            names.append(a)
    if len(names) != 1:
        return None
    if kw["vault_path"] and path_click_refuses(kw["vault_path"]):
        return None
    if "passphrase_fd" in kw:
        if not kw["passphrase_fd"].isdigit():
            return None
        kw["passphrase_fd"] = int(kw["passphrase_fd"])
    kw["name"] = names[0]
    return kw


def fast_get(args: list[str]) -> int | None:
    kw = parse_plain(args)
    if kw is None:
        return None
    print_value(**kw)
    return 0
