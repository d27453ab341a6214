"""Helpers shared by the test suite and the benchmarks (real Rust workspaces, cargo)."""
