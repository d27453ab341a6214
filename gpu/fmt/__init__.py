"""The formatter: rustfmt-identical output from a native pretty printer plus rustfmt delegation.

``config`` resolves rustfmt.toml; ``driver`` splits files into top-level items, merges native
and rustfmt output, and checks every result through the token-stream safety net.
"""
