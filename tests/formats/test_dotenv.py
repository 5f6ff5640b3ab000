"""`.env`: what tokensafe writes, python-dotenv reads back unchanged; import reads spans."""

from __future__ import annotations

from io import StringIO

import pytest
from dotenv import dotenv_values
from hypothesis import given, settings
from hypothesis import strategies as st

from vault.errors import UsageError
from vault.formats import dotenv

# Any text but NUL (refused: no environment variable can hold it) and lone surrogates
# (not encodable, so not a value a file can hold).
VALUES = st.text(alphabet=st.characters(blacklist_characters="\0", blacklist_categories=("Cs",)))
# The characters that quoting has to get right, often.
TRICKY = st.text(alphabet=st.sampled_from(list("ab \t\n\r\"'$#\\`{}=:-é\u2028\x0b")), max_size=12)


def read_back(text: str) -> dict[str, str | None]:
    return dotenv_values(stream=StringIO(text), interpolate=False)


@settings(max_examples=400, deadline=None)
@given(st.one_of(VALUES, TRICKY))
def test_any_value_round_trips_through_python_dotenv(value: str) -> None:
    assert read_back(dotenv.render({"K": value}))["K"] == value


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(VALUES, TRICKY), min_size=2, max_size=5))
def test_several_values_round_trip_together(values: list[str]) -> None:
    trailing = [v for v in values if v.endswith("\\") and not dotenv._bare_ok(v)]
    env = {f"K{i}": v for i, v in enumerate(values)}
    if len(trailing) > 1:
        with pytest.raises(UsageError):
            dotenv.render(env)
        return
    assert read_back(dotenv.render(env)) == env


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.from_regex(r"[A-Z_][A-Z0-9_]{0,8}", fullmatch=True),
                       st.one_of(VALUES, TRICKY), max_size=4))
def test_import_reads_what_export_wrote(env: dict[str, str]) -> None:
    try:
        data = dotenv.render(env).encode()
    except UsageError:
        return
    got = dotenv.read(data)
    assert {b.key: b.value for b in got} == {k: v for k, v in env.items()}


@pytest.mark.parametrize("value", ["a\nb", "a$b", "\n", "x\\", " x\\", "C:\\dir\\", "${HOME}"])
def test_measured_cases(value: str) -> None:
    assert read_back(dotenv.render({"K": value}))["K"] == value


def test_without_dollar_brace_the_default_interpolating_reader_agrees() -> None:
    text = dotenv.render({"K": "a$b c", "J": "$x\\y"})
    assert dotenv_values(stream=StringIO(text)) == {"K": "a$b c", "J": "$x\\y"}


def test_plain_values_stay_unquoted_for_docker() -> None:
    assert dotenv.render({"D": "t.eu.auth0.com", "E": ""}) == "D=t.eu.auth0.com\nE=\n"


def test_nul_is_refused_without_showing_the_value() -> None:
    with pytest.raises(UsageError) as e:
        dotenv.render({"K": "sec\0ret"})
    assert "sec" not in str(e.value)


SAMPLE = (b"# comment\n"
          b"export A=plain # trailing comment\n"
          b"B='single quoted'\n"
          b'C="x\\"y\\\\z\\n"   # c\n'
          b"D=\n"
          b"E=caf\xc3\xa9\r\n"
          b"'F'=key quoted\n"
          b"G=\xff raw\n"
          b"not a binding\n"
          b"A=again\n")


def test_read_gives_values_and_raw_spans() -> None:
    got = dotenv.read(SAMPLE)
    assert [(b.key, b.value) for b in got] == [
        ("A", "plain"), ("B", "single quoted"), ("C", 'x"y\\z\n'), ("D", ""), ("E", "café"),
        ("F", "key quoted"), ("G", "\ufffd raw"), ("A", "again")]
    spans = [SAMPLE[b.start:b.end] for b in got]
    assert spans == [b"plain", b"single quoted", b'x\\"y\\\\z\\n', b"", b"caf\xc3\xa9",
                     b"key quoted", b"\xff raw", b"again"]


def test_read_skips_a_byte_order_mark() -> None:
    got = dotenv.read(b"\xef\xbb\xbfK=v\n")
    assert [(b.key, b.value, b.start) for b in got] == [("K", "v", 5)]


def test_binding_repr_hides_the_value() -> None:
    assert "s3cret" not in repr(dotenv.read(b"K=s3cret\n")[0])


LINES = st.lists(st.one_of(
    st.text(alphabet=st.sampled_from(list("AB=#'\" \t\\xé$\n")), max_size=14),
    st.builds(lambda k, v, q: f"{k}={q}{v}{q}", st.sampled_from(["A", "export B", "'C'", " D "]),
              TRICKY, st.sampled_from(["", "'", '"']))), max_size=6)


@settings(max_examples=300, deadline=None)
@given(LINES)
def test_read_agrees_with_python_dotenv_on_any_text(lines: list[str]) -> None:
    from dotenv.parser import parse_stream

    text = "\n".join(lines)
    want = [(b.key, b.value) for b in parse_stream(StringIO(text))
            if b.key is not None and b.value is not None and not b.error]
    got = dotenv.read(text.encode())
    assert [(b.key, b.value) for b in got] == want
    data = text.encode()
    for b in got:  # each span lies inside the file, in order, and holds the raw value
        assert 0 <= b.start <= b.end <= len(data)
        raw = data[b.start:b.end].decode()
        assert raw == b.value or data[b.start - 1:b.start] in (b"'", b'"')
