"""Exceptions of the protocol layer.

    ProtocolError                 anything that went wrong speaking the protocol
    ├── DecodeError               a frame we received cannot be turned into a message
    │   ├── OversizedFrame        larger than the configured limit
    │   ├── UnsupportedVersion    a peer speaking another protocol version
    │   └── UnknownMessageType    a well-formed frame whose ``type`` we do not know
    └── LocalProtocolError        *we* were asked to do something illegal in the current state

A client state machine that raised ``LocalProtocolError`` stays in its error state (sticky), as
h11 does: continuing after a broken invariant would hide the bug.
"""

from __future__ import annotations


class ProtocolError(Exception):
    """Base of every error raised by ``rustg.protocol``."""

    #: Stable machine-readable code, also used in ``ErrorReply.code``.
    code = "protocol-error"


class DecodeError(ProtocolError):
    code = "bad-frame"


class OversizedFrame(DecodeError):
    code = "oversized-frame"


class UnsupportedVersion(DecodeError):
    code = "unsupported-version"


class UnknownMessageType(DecodeError):
    code = "unknown-type"


class LocalProtocolError(ProtocolError):
    code = "local-protocol-error"
