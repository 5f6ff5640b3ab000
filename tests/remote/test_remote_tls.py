"""A remote over HTTPS signed by the team's own CA (bao -dev-tls): trusted only through
`remote add --cacert` or SSL_CERT_FILE, never through the environment's proxies."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from tests.conftest import PLANTED, files_containing
from tests.remote.bao import dev_server
from tests.remote.test_remote_team import ok, person

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def bao_tls(tmp_path_factory):
    with dev_server(tmp_path_factory.mktemp("bao-tls"), tls=True) as srv:
        yield srv


def test_a_remote_signed_by_its_own_ca(bao_tls, tmp_path: Path, server) -> None:
    token = "tsPLANTED-baotoken-" + uuid.uuid4().hex  # must leak nowhere either
    bao_tls.client().auth.token.create(id=token, policies=["root"], ttl="1h")
    ana = person(tmp_path, "ana")
    # Not trusted by default: a one-line network error (exit 8) that names the fix.
    ok(ana("remote", "add", "team", "--url", bao_tls.url, "--path", "teams/tls", input=token + "\n"))
    ok(ana("set", "auth0_token", input=PLANTED))
    r = ana("push", "dev", "--remote", "team")
    assert r.returncode == 8 and b"certificate not trusted" in r.stderr and b"--cacert" in r.stderr, r.stderr
    # --cacert: checked when added, then used for this remote.
    r = ana("remote", "add", "team", "--url", bao_tls.url, "--cacert", str(tmp_path / "nope.pem"), input="x\n")
    assert r.returncode == 2 and b"cannot use" in r.stderr
    ok(ana("remote", "add", "team", "--url", bao_tls.url, "--path", "teams/tls", "--cacert", bao_tls.cacert,
           input=token + "\n"))
    assert f"cacert={bao_tls.cacert}".encode() in ok(ana("remote", "list")).stdout
    # An environment proxy is not used (it would see the token): the recorder sees nothing.
    proxied = {"HTTPS_PROXY": server.url, "HTTP_PROXY": server.url, "ALL_PROXY": server.url, "NO_PROXY": ""}
    ok(ana("push", "dev", "--remote", "team", env=proxied))
    assert ok(ana("get", "--remote", "team", "--env", "dev", "auth0_token", env=proxied)).stdout == PLANTED.encode() + b"\n"
    assert server.seen == []
    # SSL_CERT_FILE (as for `request`) works for a remote added without --cacert.
    ok(ana("remote", "add", "plain", "--url", bao_tls.url, "--path", "teams/tls", input=token + "\n"))
    r = ana("get", "--remote", "plain", "--env", "dev", "auth0_token", env={"SSL_CERT_FILE": bao_tls.cacert})
    assert ok(r).stdout == PLANTED.encode() + b"\n"
    ana.assert_no_leak(PLANTED)
    ana.assert_no_leak(token)
    assert files_containing(tmp_path / "ana", PLANTED.encode()) == []
