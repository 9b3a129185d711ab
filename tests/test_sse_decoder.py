"""The SSE decoder: every split point, every line ending, UTF-8 across chunks, long lines."""

from __future__ import annotations

import pytest
from hypothesis import given, note, settings
from hypothesis import strategies as st

from client import LineDecoder, SSEDecoder, SSEEvent

DASHSCOPE_FRAME = 'id:1\nevent:response.created\n:HTTP_STATUS/200\ndata:{"sequence_number":0,"type":"response.created"}\n\n'
OPENAI_FRAME = (
    'event: response.output_text.delta\ndata: {"delta":"好的,已经","sequence_number":4}\n\n'
)
EXPECTED = {
    "dashscope": [
        SSEEvent('{"sequence_number":0,"type":"response.created"}', "response.created", "1")
    ],
    "openai": [SSEEvent('{"delta":"好的,已经","sequence_number":4}', "response.output_text.delta")],
}
FRAMES = {"dashscope": DASHSCOPE_FRAME, "openai": OPENAI_FRAME}
ENDINGS = {"lf": "\n", "cr": "\r", "crlf": "\r\n"}


def _decode(chunks: list[bytes]) -> list[SSEEvent]:
    decoder = SSEDecoder()
    events: list[SSEEvent] = []
    for chunk in chunks:
        events.extend(decoder.feed(chunk))
    return events + decoder.flush()


@pytest.mark.parametrize("ending", list(ENDINGS))
@pytest.mark.parametrize("framing", list(FRAMES))
def test_every_split_point_gives_the_same_event(framing: str, ending: str) -> None:
    raw = FRAMES[framing].replace("\n", ENDINGS[ending]).encode()
    for cut in range(len(raw) + 1):
        assert _decode([raw[:cut], raw[cut:]]) == EXPECTED[framing], f"split at byte {cut}"


@pytest.mark.parametrize("ending", list(ENDINGS))
def test_byte_by_byte(ending: str) -> None:
    raw = (DASHSCOPE_FRAME + OPENAI_FRAME).replace("\n", ENDINGS[ending]).encode()
    assert _decode([raw[i : i + 1] for i in range(len(raw))]) == EXPECTED["dashscope"] + [
        SSEEvent(EXPECTED["openai"][0].data, EXPECTED["openai"][0].event, "1")
    ]


def test_utf8_split_inside_a_character() -> None:
    raw = "data:好🌸\n\n".encode()
    for cut in range(len(raw) + 1):
        assert _decode([raw[:cut], raw[cut:]]) == [SSEEvent("好🌸")]


def test_fields_per_the_standard() -> None:
    raw = (
        b": a comment\n"
        b"data\n"  # a field name alone: empty value
        b"data:first\n"
        b"data: second\n"
        b"retry: 1500\n"
        b"retry: soon\n"
        b"unknown: ignored\n"
        b"id: 7\n"
        b"\n"
        b"event: only-event-no-data\n\n"  # no data: not dispatched
        b"data:[DONE]\n\n"
    )
    assert _decode([raw]) == [
        SSEEvent("\nfirst\nsecond", "message", "7", 1500),
        SSEEvent("[DONE]", "message", "7"),
    ]


def test_id_with_nul_is_ignored_and_id_persists() -> None:
    assert _decode([b"id:a\ndata:1\n\nid:b\x00c\ndata:2\n\n"]) == [
        SSEEvent("1", id="a"),
        SSEEvent("2", id="a"),
    ]


def test_missing_final_blank_line_is_delivered_at_eof() -> None:
    assert _decode([b"event:x\ndata:tail"]) == [SSEEvent("tail", "x")]
    assert _decode([b"data:tail\r"]) == [SSEEvent("tail")]


def test_ten_megabyte_event_in_small_chunks() -> None:
    payload = "x" * (10 * 1024 * 1024)
    raw = f"data:{payload}\n\n".encode()
    chunks = [raw[i : i + 65536] for i in range(0, len(raw), 65536)]
    (event,) = _decode(chunks)
    assert len(event.data) == len(payload)


def test_line_decoder_carries_cr_across_chunks() -> None:
    lines = LineDecoder()
    assert lines.feed(b"a\r") == ["a"]
    assert lines.feed(b"\nb") == []  # the LF belongs to the CR before it
    assert lines.feed(b"\r\r") == ["b", ""]
    assert lines.flush() == []


@given(
    st.lists(
        st.fixed_dictionaries(
            {
                "event": st.sampled_from(["response.created", "response.output_text.delta", "x"]),
                "data": st.text(
                    alphabet=st.characters(blacklist_categories=["Cs", "Cc"]), max_size=40
                ),
            }
        ),
        min_size=1,
        max_size=8,
    ),
    st.sampled_from(list(ENDINGS.values())),
    st.lists(st.integers(min_value=0, max_value=10_000), max_size=12),
)
def test_any_chunking_yields_the_same_events(
    events: list[dict[str, str]], ending: str, cuts: list[int]
) -> None:
    text = "".join(f"event:{e['event']}{ending}data: {e['data']}{ending}{ending}" for e in events)
    raw = text.encode()
    points = sorted({c % (len(raw) + 1) for c in cuts})
    chunks = [raw[a:b] for a, b in zip([0, *points], [*points, len(raw)], strict=True)]
    note(f"chunks={chunks!r}")
    expected = [SSEEvent(e["data"], e["event"]) for e in events]
    assert _decode(chunks) == expected
    assert _decode([raw]) == expected


def _encode(event: SSEEvent, ending: str) -> str:
    """A spec encoder, written here so that it shares nothing with the decoder or the mock:
    one ``data:`` line per line of data, then the other fields, then a blank line."""
    # One space after each colon: the decoder strips exactly one, so values may start with one.
    lines = [f"data: {line}" for line in event.data.split("\n")]
    if event.event != "message":
        lines.append(f"event: {event.event}")
    if event.id is not None:
        lines.append(f"id: {event.id}")
    if event.retry is not None:
        lines.append(f"retry:{event.retry}")
    return "".join(line + ending for line in lines) + ending


_FIELD = st.text(
    alphabet=st.characters(blacklist_characters="\r\n\x00", blacklist_categories=["Cs"])
)
_EVENTS = st.lists(
    st.builds(
        SSEEvent,
        data=st.text(
            alphabet=st.characters(blacklist_characters="\r", blacklist_categories=["Cs"])
        ),
        event=_FIELD.filter(lambda s: s != ""),
        id=st.none() | _FIELD,
        retry=st.none() | st.integers(min_value=0, max_value=10**12),
    ),
    min_size=1,
    max_size=6,
)


def _with_ids_carried(events: list[SSEEvent]) -> list[SSEEvent]:
    # The last event id persists across events, as the standard says.
    out, last = [], None
    for event in events:
        last = event.id if event.id is not None else last
        out.append(event._replace(id=last))
    return out


@given(
    _EVENTS, st.lists(st.sampled_from(list(ENDINGS.values())), min_size=1, max_size=4), st.data()
)
def test_encode_then_decode_returns_the_events(
    events: list[SSEEvent], endings: list[str], data: st.DataObject
) -> None:
    # Each event gets its own line ending, so the LF-only fast path and the CR path alternate.
    raw = "".join(_encode(e, endings[n % len(endings)]) for n, e in enumerate(events)).encode()
    cuts = data.draw(st.lists(st.integers(0, len(raw)), max_size=8), label="cuts")
    points = sorted(set(cuts))
    chunks = [raw[a:b] for a, b in zip([0, *points], [*points, len(raw)], strict=True)]
    note(f"chunks={chunks!r}")
    assert _decode(chunks) == _with_ids_carried(events)


@pytest.mark.slow
@settings(max_examples=3000, deadline=None)
@given(
    _EVENTS, st.lists(st.sampled_from(list(ENDINGS.values())), min_size=1, max_size=4), st.data()
)
def test_encode_then_decode_on_thousands_of_examples(
    events: list[SSEEvent], endings: list[str], data: st.DataObject
) -> None:
    test_encode_then_decode_returns_the_events.hypothesis.inner_test(events, endings, data)  # type: ignore[attr-defined]
