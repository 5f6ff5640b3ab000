"""#9 findings 3, 5 and 13 for `send` and `request`: URLs that once crashed with the token in a
traceback; file uploads only from the collection's folder; the summary masks URL secrets."""

# ruff: noqa: F811 - pytest fixtures imported from tests/inject/conftest.py are parameters here

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.inject.conftest import PLANTED, Recorder, make_vault, server  # noqa: F401 - fixtures
from vault.errors import ExitStatus

pytestmark = pytest.mark.e2e


@pytest.fixture
def loop(session, server: Recorder):
    for var in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "all_proxy"):
        session.env.pop(var, None)
    plain = [f"http://{server.host}"]
    make_vault(session, {"dev": {"auth0_domain": server.host, "auth0_token": (PLANTED, plain),
                                 "webhook": (f"{server.url}/hooks/{PLANTED[::-1]}", plain)}}, "dev")
    return session


def _collection(folder: Path, request: dict, name: str = "c.json") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(json.dumps({"info": {"name": "c"}, "item": [{"name": "r", "request": request}]}))
    return path


def _one_line_error(r) -> str:
    err = r.stderr.decode()
    assert "Traceback" not in err
    lines = [x for x in err.splitlines() if not x.startswith(("tokensafe: hint:", "tokensafe: note:"))]
    assert len(lines) == 1 and lines[0].startswith("tokensafe: error: "), err
    return err


# --- 3: a URL is parsed once; a bad one is a one-line usage error --------------------------

@pytest.mark.parametrize("url", [
    "http://{{auth0_domain}}:{{auth0_token}}/",
    "https://[{{auth0_token}}]/",
    "https://{{auth0_token}}/x",  # the host error names the host lower-cased: masked in that form too
    "http://[::1:{{auth0_token}}/",
    "https://{{auth0_token}}:99999999/",
    "{{auth0_token}}://x/",
    "https:///{{auth0_token}}",
    "http://{{auth0_domain}}/a b\n{{auth0_token}}",
])
def test_hostile_urls_are_one_line_errors_without_the_token(loop, server, url) -> None:
    col = _collection(loop.cwd / "col", {"url": url})
    for r in (loop("send", str(col)), loop("request", "GET", url)):
        assert r.returncode in (ExitStatus.USAGE, ExitStatus.REFUSED), r.stderr
        _one_line_error(r)
        assert PLANTED.lower().encode() not in (r.stdout + r.stderr).lower()
    assert server.seen == []
    loop.assert_no_leak(PLANTED)


@pytest.mark.parametrize(("header", "method"), [
    ({"key": "X-Bad\nInjected", "value": "{{auth0_token}}"}, "GET"),
    ({"key": "X-Bad", "value": "a\r\nX-Injected: {{auth0_token}}"}, "GET"),
    ({"key": "X-Ok", "value": "{{auth0_token}}"}, "GE T"),
    ({"key": "X-Uni", "value": "ü {{auth0_token}}"}, "GET"),
])
def test_bad_headers_and_methods_never_crash(loop, server, header, method) -> None:
    col = _collection(loop.cwd / "col", {"url": "http://{{auth0_domain}}/h", "method": method, "header": [header]})
    r = loop("send", str(col))
    assert r.returncode in (0, ExitStatus.USAGE), r.stderr
    if r.returncode:
        _one_line_error(r)
    assert all("X-Injected" not in s.headers for s in server.seen)
    loop.assert_no_leak(PLANTED)


# --- 5: uploads only from the collection's folder ------------------------------------------

def _upload(src: str) -> dict:
    return {"method": "POST", "url": "http://{{auth0_domain}}/upload",
            "body": {"mode": "formdata", "formdata": [{"key": "f", "type": "file", "src": src}]}}


def test_uploads_outside_the_collection_folder_are_refused(loop, server, tmp_path) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text("private-ssh-key-bytes")
    vault_dir = Path(loop.env["TOKENSAFE_VAULT"]).parent
    folder = loop.cwd / "col"
    folder.mkdir()
    (folder / "link").symlink_to(outside)
    (folder / "dirlink").symlink_to(tmp_path)
    for src in (str(outside), "../outside.txt", "link", "dirlink/outside.txt", str(vault_dir / "vault.tokensafe"),
                str(vault_dir / "vault.tokensafe.fp")):
        col = _collection(folder, _upload(src))
        r = loop("send", str(col))
        assert r.returncode == ExitStatus.REFUSED, (src, r.stderr)
        _one_line_error(r)
    # A file `body` is read at build time: the same rule, before anything is sent.
    col = _collection(folder, {"method": "POST", "url": "http://{{auth0_domain}}/b",
                               "body": {"mode": "file", "file": {"src": "link"}}})
    assert loop("send", str(col)).returncode == ExitStatus.REFUSED
    assert server.seen == []
    assert not any(b"private-ssh-key-bytes" in out + err for _, out, err in loop.transcript)
    loop.assert_no_leak(PLANTED)


def test_uploads_from_the_collection_folder_and_files_from(loop, server, tmp_path) -> None:
    folder = loop.cwd / "col"
    folder.mkdir()
    (folder / "ok.txt").write_text("beside the collection")
    extra = tmp_path / "extra"
    extra.mkdir()
    (extra / "more.txt").write_text("named with --files-from")
    assert loop("send", str(_collection(folder, _upload("ok.txt")))).returncode == 0
    col = _collection(folder, _upload(str(extra / "more.txt")))
    assert loop("send", str(col)).returncode == ExitStatus.REFUSED
    r = loop("send", str(col), "--files-from", str(extra))
    assert r.returncode == 0, r.stderr
    assert b"beside the collection" in server.seen[0].body and b"named with --files-from" in server.seen[1].body
    # tokensafe's own folder stays closed even when named.
    vault_dir = Path(loop.env["TOKENSAFE_VAULT"]).parent
    col = _collection(folder, _upload(str(vault_dir / "vault.tokensafe")))
    assert loop("send", str(col), "--files-from", str(vault_dir)).returncode == ExitStatus.REFUSED
    loop.assert_no_leak(PLANTED)


def test_open_inside_refuses_a_symlink_swapped_in_late(tmp_path) -> None:
    from vault.errors import PolicyError
    from vault.inject.files import open_inside

    root = tmp_path / "root"
    root.mkdir()
    (tmp_path / "secret").write_text("x")
    (root / "f").symlink_to(tmp_path / "secret")
    with pytest.raises(PolicyError):
        open_inside(str(root / "f"), str(root))
    os.mkfifo(root / "fifo")
    with pytest.raises(Exception) as e:
        open_inside(str(root / "fifo"), str(root))
    assert type(e.value).__name__ in ("FileSystemError",)


# --- 13: the summary masks URL-kind secrets --------------------------------------------------

def test_summary_masks_a_url_secret_but_names_plain_hosts(loop, server) -> None:
    col = _collection(loop.cwd / "col", {"method": "POST", "url": "{{webhook}}"})
    r = loop("send", str(col))
    assert r.returncode == 0, r.stderr
    assert PLANTED[::-1].encode() not in r.stderr  # (the echoing server's body shows the path: not ours)
    assert b"r: POST <redacted:webhook> \xe2\x86\x92 200" in r.stderr
    col = _collection(loop.cwd / "col", {"url": "http://{{auth0_domain}}/plain"})
    r = loop("send", str(col))
    assert f"r: GET http://{server.host}/plain".encode() in r.stderr  # hosts stay readable
    loop.assert_no_leak(PLANTED)
