#!/usr/bin/env bash
# The engine's real-world corpus: every .rs file of Debian's librust-*-dev crate sources
# (scripts/debian-crates.txt installs them). Prints one absolute path per line, sorted
# (byte order, so every machine agrees), symlinks followed. `--stats` prints a summary instead;
# `--tar FILE` packs the corpus (for the GPU machine, which has no Debian registry).
set -euo pipefail
REGISTRY=${RUSTG_CORPUS_ROOT:-/usr/share/cargo/registry}
[[ -d "$REGISTRY" ]] || { echo "corpus: $REGISTRY not found (run scripts/setup.sh)" >&2; exit 1; }
list() { find -L "$REGISTRY" -type f -name '*.rs' | LC_ALL=C sort; }
case "${1:-}" in
  "") list ;;
  --stats)
    list | tr '\n' '\0' | xargs -0 stat -L -c %s |
      awk '{n++; s+=$1; if ($1>m) m=$1} END {printf "files %d\nbytes %d\nmax_file_bytes %d\n", n, s, m}' ;;
  --tar)
    [[ -n "${2:-}" ]] || { echo "usage: corpus.sh --tar OUT.tar.xz" >&2; exit 2; }
    list | sed "s|^$REGISTRY/||" | tar -C "$REGISTRY" -cJf "$2" --dereference -T - ;;
  *) echo "usage: corpus.sh [--stats | --tar OUT.tar.xz]" >&2; exit 2 ;;
esac
