"""The SSE decoder: spec line rules, and the same events however the bytes are split."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from extractor.wire.sse import ServerSentEvent, SSEDecoder


def decode(*chunks: bytes) -> list[ServerSentEvent]:
    decoder = SSEDecoder()
    events: list[ServerSentEvent] = []
    for chunk in chunks:
        events.extend(decoder.feed(chunk))
    events.extend(decoder.close())
    return events


STREAM = (
    "\ufeff: keep-alive comment\r\n"
    "event: update\r\n"
    "id: 7\r\n"
    "retry: 1500\r\n"
    'data: {"a": "é€😀",\r\n'
    'data:  "b": 1}\r\n'
    "\r\n"
    ":another comment\n"
    "data\n"
    "\n"
    "data: cr only\r"
    "\r"
    "data: [DONE]\n\n"
).encode()

EXPECTED = [
    ServerSentEvent(data='{"a": "é€😀",\n "b": 1}', event="update", id="7", retry=1500),
    ServerSentEvent(data="", event="message", id="7", retry=1500),
    ServerSentEvent(data="cr only", event="message", id="7", retry=1500),
    ServerSentEvent(data="[DONE]", event="message", id="7", retry=1500),
]


def test_whole_stream() -> None:
    assert decode(STREAM) == EXPECTED


def test_split_at_every_offset() -> None:
    for cut in range(len(STREAM) + 1):
        assert decode(STREAM[:cut], STREAM[cut:]) == EXPECTED, cut


def test_byte_at_a_time() -> None:
    assert decode(*(STREAM[i : i + 1] for i in range(len(STREAM)))) == EXPECTED


@given(st.lists(st.integers(min_value=0, max_value=len(STREAM)), max_size=12))
def test_split_anywhere(cuts: list[int]) -> None:
    points = [0, *sorted(cuts), len(STREAM)]
    assert decode(*(STREAM[a:b] for a, b in itertools.pairwise(points))) == EXPECTED


def test_crlf_split_between_reads_is_one_line_end() -> None:
    # "data: a\r" | "\ndata: b" must stay one event: the LF is not a blank line.
    assert decode(b"data: a\r", b"\ndata: b\r\n\r\n") == [ServerSentEvent(data="a\nb")]


def test_blank_line_without_data_dispatches_nothing_and_resets_event_type() -> None:
    assert decode(b"event: x\n\ndata: y\n\n") == [ServerSentEvent(data="y")]


def test_only_one_leading_space_is_stripped() -> None:
    assert decode(b"data:  two\n\ndata:none\n\n") == [
        ServerSentEvent(data=" two"),
        ServerSentEvent(data="none"),
    ]


def test_unknown_fields_and_bad_retry_are_ignored() -> None:
    assert decode(b"foo: bar\nretry: 1x\nid: a\0b\ndata: z\n\n") == [ServerSentEvent(data="z")]


def test_byte_order_mark_only_at_start() -> None:
    assert decode(b"data: \xef\xbb\xbfx\n\n") == [ServerSentEvent(data="\ufeffx")]


def test_last_event_without_blank_line_is_dispatched_at_close() -> None:
    assert decode(b'data: {"x": 1}\n\ndata: [DONE]') == [
        ServerSentEvent(data='{"x": 1}'),
        ServerSentEvent(data="[DONE]"),
    ]


def test_invalid_utf8_is_replaced_not_fatal() -> None:
    assert decode(b"data: \xff\n\n") == [ServerSentEvent(data="\ufffd")]


@pytest.mark.parametrize("separator", [b"\n", b"\r", b"\r\n"])
def test_line_separators(separator: bytes) -> None:
    body = separator.join([b"data: 1", b"", b"data: 2", b"data: 3", b"", b""])
    assert decode(body) == [ServerSentEvent(data="1"), ServerSentEvent(data="2\n3")]


def test_unicode_line_separators_inside_data_are_not_line_ends() -> None:
    # str.splitlines would break on these; the event-stream format does not.
    assert decode("data: a\u2028b\x0bc\x1cd\n\n".encode()) == [
        ServerSentEvent(data="a\u2028b\x0bc\x1cd")
    ]


def test_one_event_per_read_matches_the_general_path() -> None:
    # The shape of nearly every read of a completion stream takes a fast path; it must give
    # what the line-by-line path gives, also around pending fields and partial lines.
    reads = [
        b"data: first\n\n",
        b"event: update\n",
        b"data: second\n\n",
        b"id: 9\n\ndata: third\n\n",
        b"data: fou",
        b"rth\n\n",
        b"data: fifth\r\n",
        b"\n",
        b"data: sixth\n\n",
        b"data: \xc3\xa9\n\n",
    ]
    one_by_one = decode(b"", *reads)
    assert one_by_one == decode(b"".join(reads))
    assert [e.data for e in one_by_one] == ["first", "second", "third", "fourth", "fifth",
                                            "sixth", "é"]  # fmt: skip
    assert one_by_one[1].event == "update" and one_by_one[2].event == "message"
    assert one_by_one[3].id == "9" and one_by_one[-1].id == "9"
