"""Code is not a secret: an unquoted value that is an expression names where a secret comes
from (`password = get_password(...)`, `w.password=encodeURIComponent(e)`,
`c->password = g_strdup(...)`, `token: os.environ[...]`, `pw = a || b`), it is not one.

Only unquoted values are judged (a quoted value is a literal in every language), from the
value and the few bytes after it (`Candidate.follows`): `(` a call, `[` a subscript, `->`
a member, an operator a concatenation or condition, `,` `)` `;` an argument or a statement
end after a name. In `.env`, YAML and INI files unquoted values are literals, but none ends
in these: a password there that is a bare word followed by `(` is cut at the `(` anyway.
"""

from __future__ import annotations

import re

# A name or a dotted/`$` path: `getPassword`, `w.auth.slice`, `os.environ`, `$scope.pw`
_NAME = re.compile(r"[A-Za-z_$][\w$]{0,127}(?:\.[A-Za-z_$][\w$]{0,127}){0,16}")
# Operators between names: `a||b`, `a??b`, `x?y:z`, `a==b`, `a+b` (minified code)
_OPERATORS = re.compile(r"\|\||\?\?|\?\.|===?|!==?|&&")
_PIECES = re.compile(r"[|?!=:+]{1,3}")
_AFTER_NAME = ("(", "[", ",", ")", ";", "+", "|", "?", "->", "-", ".")
# Camel/snake parts and digit runs: a name has few, long parts; a random token many short ones
_PARTS = re.compile(r"[A-Z]{1,64}(?![a-z])|[A-Z]?[a-z]{1,64}|\d{1,64}")


def is_expression(value: str, follows: str) -> bool:
    """True when an unquoted value reads as code: a name followed by a call, subscript,
    member access, operator or statement end, or names joined by operators."""
    if _NAME.fullmatch(value):
        return follows.startswith(_AFTER_NAME) and looks_like_name(value)
    if value.endswith("-") and follows.startswith(">") and _NAME.fullmatch(value[:-1]):
        return True  # `c->password = conn->pw`: the value read stops at `>`
    if _OPERATORS.search(value):
        # Names on both sides of an operator: base64 padding (`WnE4…dw==`) has one side only
        parts = [p for p in _PIECES.split(value) if p]
        return len(parts) >= 2 and all(_NAME.fullmatch(p) or p.isdigit() or p in ('""', "''")
                                   for p in parts)
    return False


def looks_like_name(value: str) -> bool:
    """`encodeURIComponent`, `create_NT_hashed_password_v1`, `PKCS7PrivateKeyTypes`: words,
    not the short mixed runs of a random token (`aB8F7b6c5D4e`)."""
    letters = value.replace(".", "").replace("$", "").replace("_", "")
    if not letters:
        return True
    parts = _PARTS.findall(letters)
    digits = sum(len(p) for p in parts if p.isdigit())
    if digits * 5 > len(letters):
        return False
    return len(parts) * 3 <= len(letters)


CODE_EXTS = (".py", ".pyi", ".js", ".mjs", ".cjs", ".ts", ".tsx", ".jsx", ".c", ".h", ".cc",
             ".cpp", ".hpp", ".go", ".java", ".rb", ".rs", ".php", ".cs", ".kt", ".swift", ".scala")


def name_parts(value: str) -> list[str]:
    """The camel/snake parts and digit runs of a name (`getHTTPToken_v2` → get HTTP Token v 2)."""
    return _PARTS.findall(value.replace("_", "").replace("$", ""))


def is_code_file(path: str) -> bool:
    """A source file, where a literal string is always quoted."""
    return path.lower().endswith(CODE_EXTS)


def is_reference(value: str) -> bool:
    """In a source file, an unquoted name is a variable, type or constant, never a literal:
    `password: SecretStr`, `username, password = proxy_auth`."""
    return bool(_NAME.fullmatch(value)) and looks_like_name(value)


_SQUASH = re.compile(r"[^a-z0-9]")


def names_itself(key: str | None, value: str) -> bool:
    """A value that spells its own key (`FORCE_CHANGE_PASSWORD = "FORCE_CHANGE_PASSWORD"`,
    `CHALLENGE_PASSWORD: "challengePassword"`) or an AWS resource name (`arn:aws:iam::…`):
    an enum, a label, a policy name; not a secret."""
    if value.startswith("arn:"):
        return True
    if not key:
        return False
    last = _SQUASH.sub("", key.rsplit(".", 1)[-1].lower())
    return len(last) >= 6 and _SQUASH.sub("", value.lower()).endswith(last)
