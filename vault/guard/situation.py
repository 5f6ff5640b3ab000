"""Where a finding sits: context lowers severity, it never hides a finding.

A key in a `tests/` or `fixtures/` folder, an example in a README, a `.rst` page or a
docstring, a URL with `user:pass@` in a code comment, anything inside an installed
dependency (`site-packages/`, `node_modules/`, `vendor/`: other people's published code,
whose keys are their test material, not the user's secrets): reported `low`, with the context
named in `facts["context"]`, so that the real alarms stay high. Two kinds are never lowered:

- a live (unexpired) Auth0 Management API token: it is the credential tokensafe exists to
  keep out of files, it works the same wherever the file is, and test folders of Postman
  projects are exactly where exports get saved;
- a value that is in your vault (`in_vault`): by definition a real secret.

The path is judged below the folder the user named (`below_root`), and by that folder's own
name: `audit tests/` is a test folder, `audit ~/tests/app` is not. The docstring and comment
contexts come from the bytes around the value.
"""

from __future__ import annotations

import re

TEST_DIRS = frozenset({"test", "tests", "testing", "__tests__", "spec", "specs", "fixtures",
                       "fixture", "__fixtures__", "testdata", "test_data", "test-data",
                       "__mocks__", "mocks", "unittest", "unittests"})
# Folders package managers install other projects into; the user's own code is outside them.
DEPENDENCY_DIRS = frozenset({"site-packages", "dist-packages", "node_modules", "bower_components",
                             "jspm_packages", "vendor"})
DOC_DIRS = frozenset({"docs", "doc", "documentation", "man"})
EXAMPLE_DIRS = frozenset({"examples", "example", "samples", "sample"})
DOC_EXTS = (".md", ".rst", ".adoc", ".markdown", ".rdoc", ".pod")  # not .txt: notes files hold real tokens
DOC_NAMES = ("readme", "changelog", "changes", "history", "contributing", "metadata", "pkg-info")
_TEST_FILE = re.compile(r"^(?:test_.{1,200}\.py|.{1,200}_test\.(?:py|go|rb|exs?)|conftest\.py|"
                        r".{1,200}\.(?:test|spec)\.[cm]?[jt]sx?|.{1,200}(?:Test|Tests|Spec)\.(?:java|kt|cs|scala))$")
# Code files whose comments are prose (a config file's `#` line is a disabled setting: a
# commented-out secret there is still a leak, so it is not lowered)
CODE_EXTS = (".py", ".js", ".mjs", ".cjs", ".ts", ".tsx", ".jsx", ".c", ".h", ".cc", ".cpp",
             ".hpp", ".go", ".java", ".rb", ".rs", ".php", ".cs", ".kt", ".swift", ".scala")
_COMMENT_LEAD = re.compile(rb"[ \t]{0,256}(?:#|//|/\*|\*|<!--)")

NEVER_LOWERED = "auth0-management-token"


def below_root(path: str, roots: tuple[str, ...]) -> str:
    """`path` from the longest named root it lies under, keeping that root's own last name
    (not `.` or `..`); unchanged when it lies under none (a file named alone, a blob)."""
    best = ""
    for r in roots:
        r = r.replace("\\", "/").rstrip("/") or "/"
        if (path == r or path.startswith(r if r == "/" else r + "/")) and len(r) > len(best):
            best = r
    if not best:
        return path
    name = best.rsplit("/", 1)[-1]
    rest = path[len(best):].lstrip("/")
    if name in ("", ".", ".."):
        return rest
    return f"{name}/{rest}" if rest else name


def path_context(path: str) -> str | None:
    """"dependency", "test folder", "test file", "documentation" or "example" from the path,
    else None. A dependency is named first: it says whose file it is, which the others do not."""
    parts = path.replace("\\", "/").split("/")
    name = parts[-1]
    dirs = [d.lower() for d in parts[:-1]]
    if any(d in DEPENDENCY_DIRS for d in dirs):
        return "dependency"
    if any(d in TEST_DIRS for d in dirs):
        return "test folder"
    if _TEST_FILE.match(name):
        return "test file"
    low = name.lower()
    if low.endswith(DOC_EXTS) or low.startswith(DOC_NAMES) or any(d in DOC_DIRS for d in dirs):
        return "documentation"
    if any(d in EXAMPLE_DIRS for d in dirs) or low.startswith(("example", "sample")):
        return "example"  # `examples/`, botocore's `examples-1.json`
    return None


class TextContext:
    """Docstring and comment context of offsets in one buffer, asked in increasing order:
    the triple quotes before an offset are counted once over the whole buffer, not once per
    finding (a file of 2,000 findings would otherwise be read 2,000 times)."""

    def __init__(self, path: str) -> None:
        low = path.lower()
        self.python = low.endswith(".py")
        self.code = low.endswith(CODE_EXTS)
        self._at: tuple[bytes, int, int] | None = None  # (buffer, offset, quotes before it)

    def __call__(self, buf: bytes, rel: int, whole: bool) -> str | None:
        if not self.code:
            return None
        if self.python and whole and self._inside_triple_quotes(buf, rel):
            return "docstring"
        nl = buf.rfind(b"\n", max(0, rel - 4096), rel)
        if nl < 0 and rel > 4096:
            return None  # a line of minified code: never a comment line
        line = nl + 1
        if _COMMENT_LEAD.match(buf, line) and not buf.startswith(b"#!", line):
            return "comment"
        return None

    def _inside_triple_quotes(self, buf: bytes, rel: int) -> bool:
        at = self._at
        start, n = (at[1], at[2]) if at is not None and at[0] is buf and at[1] <= rel else (0, 0)
        n += buf.count(b'"""', start, rel) + buf.count(b"'''", start, rel)
        self._at = (buf, rel, n)
        return n % 2 == 1


def lowered(detector: str, severity: str, facts: dict, context: str | None) -> str:
    """The severity a finding gets in `context`: low, except for what is never lowered."""
    if context is None or severity == "low":
        return severity
    if facts.get("in_vault") is True:
        return severity
    if detector == NEVER_LOWERED and not facts.get("expired"):
        return severity
    return "low"
