"""Private keys: PEM (RSA, EC, PKCS#8, OpenSSH, DSA, PGP) and PuTTY .ppk; one that needs a
passphrase is low (info), a plain one critical. Keys are generated here or made of filler."""

from __future__ import annotations

import base64
import shutil
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization as ser
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from tests.guard.tokens import NOW
from vault.guard.readers import FileScanner, ScanConfig

SCANNER = FileScanner(ScanConfig(b"k" * 32, now=NOW))
EC_KEY = ec.generate_private_key(ec.SECP256R1())
RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=1024)


def _pem(key, fmt: ser.PrivateFormat, password: bytes | None) -> str:
    enc = ser.BestAvailableEncryption(password) if password else ser.NoEncryption()
    return key.private_bytes(ser.Encoding.PEM, fmt, enc).decode()


def _openssh(cipher: bytes) -> str:
    """The OpenSSH key container (PROTOCOL.key) with a given cipher name and filler after it."""
    def string(b: bytes) -> bytes:
        return len(b).to_bytes(4, "big") + b
    kdf = b"bcrypt" if cipher != b"none" else b"none"
    blob = b"openssh-key-v1\x00" + string(cipher) + string(kdf) + string(b"") + bytes(range(200))
    body = base64.b64encode(blob).decode()
    lines = "\n".join(body[i:i + 70] for i in range(0, len(body), 70))
    return f"-----BEGIN OPENSSH PRIVATE KEY-----\n{lines}\n-----END OPENSSH PRIVATE KEY-----\n"


def _ppk(encryption: str, version: int = 3) -> str:
    pub = base64.b64encode(bytes(range(51))).decode()
    priv = base64.b64encode(bytes(range(7, 55))).decode()
    return (f"PuTTY-User-Key-File-{version}: ssh-ed25519\nEncryption: {encryption}\nComment: made up\n"
            f"Public-Lines: 2\n{pub[:64]}\n{pub[64:]}\n"
            + ("Key-Derivation: Argon2id\nArgon2-Memory: 8192\n" if encryption != "none" else "")
            + f"Private-Lines: 1\n{priv}\nPrivate-MAC: {'a1' * 32}\n")


# (file content, (detector, severity, encrypted?) or None)
CASES = [
    (_pem(EC_KEY, ser.PrivateFormat.TraditionalOpenSSL, None), ("private-key", "critical", None)),
    (_pem(RSA_KEY, ser.PrivateFormat.PKCS8, None), ("private-key", "critical", None)),
    (_pem(EC_KEY, ser.PrivateFormat.PKCS8, b"pass phrase"), ("private-key", "low", True)),
    (_pem(RSA_KEY, ser.PrivateFormat.TraditionalOpenSSL, b"pass phrase"), ("private-key", "low", True)),
    (_openssh(b"none"), ("private-key", "critical", None)),
    (_openssh(b"aes256-ctr"), ("private-key", "low", True)),
    ("-----BEGIN DSA PRIVATE KEY-----\n" + "QUJD" * 40 + "\n-----END DSA PRIVATE KEY-----\n",
     ("private-key", "critical", None)),
    ("-----BEGIN PGP PRIVATE KEY BLOCK-----\n\n" + "QUJD" * 40 + "\n=abcd\n-----END PGP PRIVATE KEY BLOCK-----\n",
     ("private-key", "critical", None)),
    (_ppk("none"), ("putty-private-key", "critical", None)),
    (_ppk("none", version=2), ("putty-private-key", "critical", None)),
    (_ppk("aes256-cbc"), ("putty-private-key", "low", True)),
    # look-alikes: documentation, a header without its private lines, a public key
    ("-----BEGIN PRIVATE KEY-----\n...\n-----END PRIVATE KEY-----\n", None),
    ("PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\nComment: cut short\n", None),
    (_ppk("none").split("Private-MAC")[0], None),  # no MAC: a cut file
    ("PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\nPrivate-Lines: 1\nPrivate-MAC: ab\n", None),
    ("See `PuTTY-User-Key-File-2: ssh-rsa` in the docs.\n", None),
    (EC_KEY.public_key().public_bytes(ser.Encoding.PEM, ser.PublicFormat.SubjectPublicKeyInfo).decode(), None),
]


@pytest.mark.parametrize("text,expected", CASES, ids=[str(i) for i in range(len(CASES))])
def test_private_keys(text: str, expected: tuple | None) -> None:
    got = [(f.detector, f.severity, f.facts.get("encrypted")) for f in SCANNER.scan_bytes(text.encode(), "k")]
    assert got == ([expected] if expected else []), got


def test_ppk_span_covers_the_key_and_no_value_is_reported() -> None:
    text = "before\n" + _ppk("none") + "after\n"
    [f] = SCANNER.scan_bytes(text.encode(), "id.ppk")
    assert text.encode()[f.offset:f.offset + f.length].startswith(b"PuTTY-User-Key-File-3")
    assert text.encode()[f.offset:f.offset + f.length].endswith(b"a1" * 32)
    assert (f.line, f.column) == (2, 1) and "Private-Lines" not in str(f.to_json())


def test_many_putty_headers_scan_fast_and_find_the_real_key() -> None:
    """A file of header lines without private lines does not search 16 KB for each."""
    junk = b"PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\n" * 20_000
    got = SCANNER.scan_bytes(junk + _ppk("none").encode(), "x.ppk")
    assert [f.detector for f in got] == ["putty-private-key"]


@pytest.mark.skipif(not shutil.which("ssh-keygen"), reason="ssh-keygen not installed")
@pytest.mark.parametrize("passphrase,severity", [("", "critical"), ("correct horse", "low")])
def test_ssh_keygen_keys(tmp_path: Path, passphrase: str, severity: str) -> None:
    key = tmp_path / "id_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", passphrase, "-f", str(key)], check=True)
    [f] = SCANNER.scan_path(str(key)).findings
    assert (f.detector, f.severity) == ("private-key", severity)
