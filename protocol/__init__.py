"""rustg's wire protocol: typed messages, their encoding, and the client sync state machine.

Sans-I/O: nothing here touches sockets, files, clocks or threads (docs/protocol.md).
"""

from .client import Applied, ClientSync, RequestSnapshot, Synced, SyncState
from .codec import decode_event, decode_reply, decode_request, encode, to_builtins
from .errors import (
    DecodeError,
    LocalProtocolError,
    OversizedFrame,
    ProtocolError,
    UnknownMessageType,
    UnsupportedVersion,
)
from .messages import *  # noqa: F403  (the message types are the package's vocabulary)
from .messages import PROTOCOL_VERSION
from .state import WorkspaceState

__all__ = [
    "PROTOCOL_VERSION",
    "Applied",
    "ClientSync",
    "DecodeError",
    "LocalProtocolError",
    "OversizedFrame",
    "ProtocolError",
    "RequestSnapshot",
    "SyncState",
    "Synced",
    "UnknownMessageType",
    "UnsupportedVersion",
    "WorkspaceState",
    "decode_event",
    "decode_reply",
    "decode_request",
    "encode",
    "to_builtins",
]
