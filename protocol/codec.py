"""Frame encoding: one message per frame, MessagePack, version checked before anything else.

Decoding is two-stage so that a peer speaking another version gets ``UnsupportedVersion``
rather than a confusing schema error: first a tolerant header (``v``, ``type``), then the full
typed message.
"""

from __future__ import annotations

from typing import Any, Final, TypeVar

import msgspec

from .errors import DecodeError, OversizedFrame, UnknownMessageType, UnsupportedVersion
from .messages import PROTOCOL_VERSION, AnyEvent, AnyReply, AnyRequest, Message

#: Requests are small; a client that sends more is broken or hostile.
MAX_REQUEST_BYTES: Final = 1 << 20
#: Snapshots of big workspaces with many diagnostics can be large.
MAX_REPLY_BYTES: Final = 256 << 20
MAX_EVENT_BYTES: Final = 64 << 20


class _Header(msgspec.Struct):
    v: int
    type: str


_header_decoder = msgspec.msgpack.Decoder(_Header)
# msgspec raises more than its own DecodeError on hostile input: UnicodeDecodeError (a
# ValueError) for a str that is not UTF-8, RecursionError for deeply nested containers.
_DECODE_FAILURES = (msgspec.DecodeError, msgspec.ValidationError, ValueError, RecursionError)
_encoder = msgspec.msgpack.Encoder()

M = TypeVar("M", bound=Message)


def encode(message: Message) -> bytes:
    return _encoder.encode(message)


class _FamilyDecoder:
    def __init__(self, union: Any, max_bytes: int) -> None:
        self._decoder: msgspec.msgpack.Decoder[Any] = msgspec.msgpack.Decoder(union)
        self._max_bytes = max_bytes
        self.known_types = frozenset(t.__struct_config__.tag for t in union.__args__)

    def __call__(self, frame: bytes) -> Any:
        if len(frame) > self._max_bytes:
            raise OversizedFrame(f"frame of {len(frame)} bytes exceeds limit of {self._max_bytes}")
        try:
            header = _header_decoder.decode(frame)
        except _DECODE_FAILURES as exc:
            raise DecodeError(f"not a protocol frame: {exc}") from None
        if header.v != PROTOCOL_VERSION:
            raise UnsupportedVersion(
                f"peer speaks protocol version {header.v}, this side speaks {PROTOCOL_VERSION}"
            )
        if header.type not in self.known_types:
            raise UnknownMessageType(f"unknown message type {header.type!r}")
        try:
            return self._decoder.decode(frame)
        except _DECODE_FAILURES as exc:
            raise DecodeError(f"malformed {header.type!r} message: {exc}") from None


_decode_request = _FamilyDecoder(AnyRequest, MAX_REQUEST_BYTES)
_decode_reply = _FamilyDecoder(AnyReply, MAX_REPLY_BYTES)
_decode_event = _FamilyDecoder(AnyEvent, MAX_EVENT_BYTES)


def decode_request(frame: bytes) -> AnyRequest:
    result: AnyRequest = _decode_request(frame)
    return result


def decode_reply(frame: bytes) -> AnyReply:
    result: AnyReply = _decode_reply(frame)
    return result


def decode_event(frame: bytes) -> AnyEvent:
    result: AnyEvent = _decode_event(frame)
    return result


def to_builtins(message: msgspec.Struct) -> Any:
    """JSON-ready builtins (used by ``--json`` outputs)."""
    return msgspec.to_builtins(message)
