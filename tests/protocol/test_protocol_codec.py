"""The codec: round trips of every message, and a decoder that only ever fails with its own errors.

The daemon decodes whatever a client sends on the ROUTER socket, and a client decodes whatever
arrives on its SUB socket; in both places a frame that escapes with a foreign exception would take
down the receiving loop instead of producing an ``ErrorReply``. The fuzzers below therefore accept
exactly two outcomes for any input: a message of the right family, or a ``ProtocolError``.
"""

from __future__ import annotations

import json
import typing
from collections.abc import Callable
from typing import Any

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from rustg.protocol import (
    DecodeError,
    LocalProtocolError,
    OversizedFrame,
    ProtocolError,
    UnknownMessageType,
    UnsupportedVersion,
    codec,
    decode_event,
    decode_reply,
    decode_request,
    encode,
    to_builtins,
)
from rustg.protocol import messages as m
from tests.protocol.protocol_samples import (
    ALL_MESSAGES,
    EVENTS,
    FUZZ,
    QUICK,
    REPLIES,
    REQUESTS,
    msgpack_values,
)
from tests.protocol.protocol_samples import events as event_messages
from tests.protocol.protocol_samples import replies as reply_messages
from tests.protocol.protocol_samples import requests as request_messages

Decoder = Callable[[bytes], Any]

FAMILIES: dict[str, tuple[Decoder, Any, list[m.Message]]] = {
    "request": (decode_request, m.AnyRequest, REQUESTS),
    "reply": (decode_reply, m.AnyReply, REPLIES),
    "event": (decode_event, m.AnyEvent, EVENTS),
}
DECODERS = [decode_request, decode_reply, decode_event]
KNOWN_TAGS = sorted(
    t.__struct_config__.tag
    for union in (m.AnyRequest, m.AnyReply, m.AnyEvent)
    for t in typing.get_args(union)
)


def tag(message: m.Message) -> str:
    return str(type(message).__struct_config__.tag)


def family_of(decoder: Decoder) -> tuple[type, ...]:
    union = {decode_request: m.AnyRequest, decode_reply: m.AnyReply, decode_event: m.AnyEvent}
    return typing.get_args(union[decoder])


def decode_or_protocol_error(decoder: Decoder, frame: bytes) -> None:
    """The fuzzers' property: a message of the decoder's family or a ProtocolError, nothing else."""
    try:
        message = decoder(frame)
    except ProtocolError:
        return
    assert isinstance(message, family_of(decoder))
    # Whatever was accepted must survive its own round trip (bytes, not ==: NaN floats).
    assert encode(decoder(encode(message))) == encode(message)


def repack(message: m.Message, **changes: Any) -> bytes:
    raw = msgspec.msgpack.decode(encode(message))
    raw.update(changes)
    return msgspec.msgpack.encode({k: v for k, v in raw.items() if v is not _DROP})


_DROP = object()

# ---------------------------------------------------------------------------------------------
# Round trips


def test_samples_cover_every_message_type() -> None:
    for name, (_, union, samples) in FAMILIES.items():
        assert {type(s) for s in samples} == set(typing.get_args(union)), name


@pytest.mark.parametrize("message", ALL_MESSAGES, ids=tag)
def test_samples_set_every_field(message: m.Message) -> None:
    # A field left at its default would round-trip trivially; a new field must get a sample.
    for info in msgspec.structs.fields(type(message)):
        if info.name == "v":
            continue
        default = (
            info.default if info.default_factory is msgspec.NODEFAULT else info.default_factory()
        )
        assert getattr(message, info.name) != default, f"{tag(message)}.{info.name}"


@pytest.mark.parametrize("message", ALL_MESSAGES, ids=tag)
def test_round_trip_of_every_message_type(message: m.Message) -> None:
    decoder = next(d for d, union, _ in FAMILIES.values() if isinstance(message, union))
    frame = encode(message)
    decoded = decoder(frame)
    assert decoded == message
    assert type(decoded) is type(message)
    assert encode(decoded) == frame


@given(message=request_messages)
@QUICK
def test_generated_requests_round_trip(message: m.Message) -> None:
    assert decode_request(encode(message)) == message


@given(message=reply_messages)
@QUICK
def test_generated_replies_round_trip(message: m.Message) -> None:
    assert decode_reply(encode(message)) == message


@given(message=event_messages)
@QUICK
def test_generated_events_round_trip(message: m.Message) -> None:
    assert decode_event(encode(message)) == message


def test_wire_format_is_a_msgpack_map_with_type_and_version() -> None:
    # Pinned bytes: docs/protocol.md shows this frame to plugin authors.
    frame = encode(m.Ping(id=7))
    assert frame.hex(" ") == "83 a4 74 79 70 65 a4 70 69 6e 67 a1 76 01 a2 69 64 07"
    assert msgspec.msgpack.decode(frame) == {"type": "ping", "v": 1, "id": 7}


def test_every_message_carries_the_version() -> None:
    for message in ALL_MESSAGES:
        assert msgspec.msgpack.decode(encode(message))["v"] == m.PROTOCOL_VERSION


def test_enums_travel_as_their_string_values() -> None:
    raw = msgspec.msgpack.decode(encode(EVENTS[2]))
    diag = raw["files"]["crates/app/src/lib.rs"][0]
    assert diag["severity"] == "error"
    assert diag["suggestions"][0]["applicability"] == "machine-applicable"


def test_unknown_fields_are_ignored_for_forward_compatibility() -> None:
    frame = repack(m.Ping(id=3), added_in_a_later_minor_release=[1, 2])
    assert decode_request(frame) == m.Ping(id=3)


def test_omitted_defaults_take_their_default() -> None:
    frame = msgspec.msgpack.encode({"v": 1, "type": "hello"})
    assert decode_request(frame) == m.Hello(id=0, client="")


def test_to_builtins_is_json_ready() -> None:
    for message in ALL_MESSAGES:
        builtins = to_builtins(message)
        assert json.loads(json.dumps(builtins)) == builtins
        assert builtins["type"] == tag(message)
    snapshot = to_builtins(REPLIES[1])
    assert snapshot["diagnostics"][0]["severity"] == "error"
    assert snapshot["jobs"][0]["state"] == "failed"


# ---------------------------------------------------------------------------------------------
# Errors the decoder reports


@pytest.mark.parametrize("decoder", DECODERS)
@pytest.mark.parametrize("version", [0, 2, 99, -1, 2**64 - 1])
def test_wrong_version_is_unsupported_version(decoder: Decoder, version: int) -> None:
    frame = msgspec.msgpack.encode({"v": version, "type": "ping", "id": 1})
    with pytest.raises(UnsupportedVersion) as info:
        decoder(frame)
    assert info.value.code == "unsupported-version"


def test_version_is_checked_before_the_schema() -> None:
    # A future version may change any field; its peer must hear "version", not "bad field".
    frame = msgspec.msgpack.encode({"v": 2, "type": "run-job", "job": {"renamed": True}})
    with pytest.raises(UnsupportedVersion):
        decode_request(frame)


@pytest.mark.parametrize("decoder", DECODERS)
def test_unknown_type_is_unknown_message_type(decoder: Decoder) -> None:
    frame = msgspec.msgpack.encode({"v": 1, "type": "teleport"})
    with pytest.raises(UnknownMessageType) as info:
        decoder(frame)
    assert info.value.code == "unknown-type"


@pytest.mark.parametrize("message", ALL_MESSAGES, ids=tag)
def test_a_message_of_another_family_is_an_unknown_type(message: m.Message) -> None:
    for decoder, union, _ in FAMILIES.values():
        if not isinstance(message, union):
            with pytest.raises(UnknownMessageType):
                decoder(encode(message))


@pytest.mark.parametrize(
    "frame",
    [
        b"",
        b"\xc1",  # never used in msgpack
        b"\x93\x01\x02\x03",  # an array, not a map
        msgspec.msgpack.encode({"type": "ping"}),  # no version
        msgspec.msgpack.encode({"v": 1}),  # no type
        msgspec.msgpack.encode({"v": "1", "type": "ping"}),  # version of the wrong type
        msgspec.msgpack.encode({"v": 1, "type": 7}),
        msgspec.msgpack.encode({"v": True, "type": "ping"}),
        encode(m.Ping(id=1))[:-1],  # truncated
        encode(m.Ping(id=1)) + b"\x00",  # trailing garbage
    ],
    ids=repr,
)
def test_garbage_is_a_plain_decode_error(frame: bytes) -> None:
    with pytest.raises(DecodeError) as info:
        decode_request(frame)
    assert type(info.value) is DecodeError
    assert info.value.code == "bad-frame"


@pytest.mark.parametrize(
    "fields",
    [
        {"type": "run-job"},  # required field missing
        {"type": "run-job", "job": 3},  # wrong field type
        {"type": "ping", "id": -1},  # fine for msgspec's int: see the next test
        {"type": "hello", "id": "one"},
    ],
    ids=repr,
)
def test_malformed_known_type(fields: dict[str, Any]) -> None:
    frame = msgspec.msgpack.encode({"v": 1, **fields})
    try:
        message = decode_request(frame)
    except DecodeError as exc:
        assert type(exc) is DecodeError
        assert repr(fields["type"]) in str(exc)
    else:
        assert fields == {"type": "ping", "id": -1}
        assert message == m.Ping(id=-1)


def test_enum_values_are_validated() -> None:
    frame = repack(EVENTS[3], level="catastrophe")
    with pytest.raises(DecodeError, match="notice"):
        decode_event(frame)


def _padded_hello(size: int) -> bytes:
    """A valid Hello frame of exactly ``size`` bytes."""
    overhead = len(encode(m.Hello(client="x" * 70_000))) - 70_000  # str32 header at this length
    frame = encode(m.Hello(client="x" * (size - overhead)))
    assert len(frame) == size
    return frame


def test_request_at_the_limit_is_accepted_one_byte_more_is_oversized() -> None:
    limit = codec.MAX_REQUEST_BYTES
    at_limit = decode_request(_padded_hello(limit))
    assert isinstance(at_limit, m.Hello)
    assert len(encode(at_limit)) == limit
    with pytest.raises(OversizedFrame) as info:
        decode_request(_padded_hello(limit + 1))
    assert info.value.code == "oversized-frame"
    assert str(limit) in str(info.value)


@pytest.mark.parametrize(
    ("decoder", "limit"),
    [(decode_reply, codec.MAX_REPLY_BYTES), (decode_event, codec.MAX_EVENT_BYTES)],
)
def test_oversized_is_checked_before_anything_else(decoder: Decoder, limit: int) -> None:
    # Garbage, wrong version and all: the size alone decides, without parsing a byte.
    frame = msgspec.msgpack.encode({"v": 99, "type": "?"}) + bytes(limit)
    with pytest.raises(OversizedFrame):
        decoder(frame)


def test_limits_are_ordered_sensibly() -> None:
    assert codec.MAX_REQUEST_BYTES == 1 << 20
    assert codec.MAX_REQUEST_BYTES < codec.MAX_EVENT_BYTES < codec.MAX_REPLY_BYTES


@pytest.mark.parametrize("decoder", DECODERS)
def test_deeply_nested_frame_is_a_decode_error(decoder: Decoder) -> None:
    # 100 kB of nested one-element arrays under an unknown key: small, and legal msgpack.
    frame = b"\x83\xa1v\x01\xa4type\xa4ping\xa1x" + b"\x91" * 100_000 + b"\xc0"
    with pytest.raises(DecodeError):
        decoder(frame)


@pytest.mark.parametrize("where", ["header", "body"])
@pytest.mark.parametrize("decoder", DECODERS)
def test_invalid_utf8_is_a_decode_error(decoder: Decoder, where: str) -> None:
    # Found by test_fuzz_mutated_valid_frames: one flipped bit in a str's first byte.
    if where == "header":
        frame = b"\x82\xa1v\x01\xa4type\xa4\xffing"
    else:  # a known type of the decoder's family, with a bad str in one of its fields
        good = {decode_request: REQUESTS[0], decode_reply: REPLIES[-1], decode_event: EVENTS[3]}
        raw = msgspec.msgpack.decode(encode(good[decoder]))
        text_field = {"hello": "client", "error": "message", "notice": "message"}[raw["type"]]
        raw[text_field] = "@@"
        frame = msgspec.msgpack.encode(raw).replace(b"\xa2@@", b"\xa2\xc3\x28")
    with pytest.raises(DecodeError):
        decoder(frame)


def test_error_codes_are_stable_and_distinct() -> None:
    # These strings travel in ErrorReply.code and are documented in docs/protocol.md.
    codes = {
        ProtocolError: "protocol-error",
        DecodeError: "bad-frame",
        OversizedFrame: "oversized-frame",
        UnsupportedVersion: "unsupported-version",
        UnknownMessageType: "unknown-type",
        LocalProtocolError: "local-protocol-error",
    }
    assert {cls: cls.code for cls in codes} == codes
    for cls in codes:
        assert issubclass(cls, ProtocolError)
    for cls in (OversizedFrame, UnsupportedVersion, UnknownMessageType):
        assert issubclass(cls, DecodeError)


# ---------------------------------------------------------------------------------------------
# Fuzzing: nothing but ProtocolError escapes


@pytest.mark.parametrize("decoder", DECODERS)
@given(frame=st.binary(max_size=200))
@FUZZ
def test_fuzz_arbitrary_bytes(decoder: Decoder, frame: bytes) -> None:
    decode_or_protocol_error(decoder, frame)


@st.composite
def mutated_frames(draw: st.DrawFn) -> bytes:
    frame = bytearray(encode(draw(st.sampled_from(ALL_MESSAGES))))
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        kind = draw(st.sampled_from(["flip", "set", "insert", "delete", "truncate"]))
        at = draw(st.integers(min_value=0, max_value=max(0, len(frame) - 1)))
        if kind == "flip" and frame:
            frame[at] ^= 1 << draw(st.integers(min_value=0, max_value=7))
        elif kind == "set" and frame:
            frame[at] = draw(st.integers(min_value=0, max_value=255))
        elif kind == "insert":
            frame[at:at] = draw(st.binary(min_size=1, max_size=4))
        elif kind == "delete":
            del frame[at : at + draw(st.integers(min_value=1, max_value=4))]
        else:
            del frame[at:]
    return bytes(frame)


@pytest.mark.parametrize("decoder", DECODERS)
@given(frame=mutated_frames())
@FUZZ
def test_fuzz_mutated_valid_frames(decoder: Decoder, frame: bytes) -> None:
    decode_or_protocol_error(decoder, frame)


# Field names of every message and every nested struct, so random maps hit real fields.
FIELD_NAMES = sorted(
    {
        field
        for cls in (*map(type, ALL_MESSAGES), m.Span, m.Suggestion, m.Diagnostic, m.JobInfo)
        for field in cls.__struct_fields__
    }
    | {"type", "v"}
)


@st.composite
def maps_with_valid_header(draw: st.DrawFn) -> bytes:
    body = draw(
        st.dictionaries(
            st.sampled_from(FIELD_NAMES) | st.text(max_size=4), msgpack_values, max_size=8
        )
    )
    body["v"] = m.PROTOCOL_VERSION
    body["type"] = draw(st.sampled_from(KNOWN_TAGS))
    return msgspec.msgpack.encode(body)


@st.composite
def samples_with_one_field_replaced(draw: st.DrawFn) -> bytes:
    raw = msgspec.msgpack.decode(encode(draw(st.sampled_from(ALL_MESSAGES))))
    key = draw(st.sampled_from(sorted(set(raw) - {"v", "type"}) or ["id"]))
    raw[key] = draw(msgpack_values)
    return msgspec.msgpack.encode(raw)


@pytest.mark.parametrize("decoder", DECODERS)
@given(frame=maps_with_valid_header() | samples_with_one_field_replaced())
@FUZZ
def test_fuzz_random_maps_with_a_valid_header(decoder: Decoder, frame: bytes) -> None:
    decode_or_protocol_error(decoder, frame)
