#!/usr/bin/env bash
# One-time (idempotent) set-up of a fresh Debian machine for rustg devtools:
# Debian packages (Redis for the shared cache tier, Debian's Rust crate sources as an
# offline registry and test corpus), a virtualenv with the project and its dev tools.
# Safe to re-run: each step is skipped when already done.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=${RUSTG_VENV:-.venv}
PY=${PYTHON:-python3}

apt_packages=(redis-server)
while read -r pkg; do
  [[ -z "$pkg" || "$pkg" == \#* ]] || apt_packages+=("$pkg")
done < scripts/debian-crates.txt

missing=()
for pkg in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  echo "setup: installing Debian packages: ${missing[*]}"
  SUDO=""; [[ $(id -u) -eq 0 ]] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [[ ! -x "$VENV/bin/python" ]]; then
  echo "setup: creating $VENV"
  "$PY" -m venv "$VENV"
  "$VENV/bin/pip" install -q --upgrade pip
fi
stamp="$VENV/.rustg-installed"
if [[ ! -f "$stamp" || pyproject.toml -nt "$stamp" ]]; then
  echo "setup: installing rustg-devtools and dev tools into $VENV"
  "$VENV/bin/pip" install -q -e '.[dev]'
  touch "$stamp"
fi
# numba's on-disk caches: a cold compile of the CPU kernels takes about a minute, which the
# daemon's first parse (and every job of the next save, queued behind it) would otherwise pay.
warm_stamp="$VENV/.rustg-warm"
# Again after a reinstall (numba or Python upgraded) or a change to gpu/.
if [[ ! -f "$warm_stamp" || "$stamp" -nt "$warm_stamp" ]] \
  || [[ -n "$(find gpu -name '*.py' -newer "$warm_stamp" -print -quit)" ]]; then
  echo "setup: compiling the CPU kernels into numba's cache (about a minute, once)"
  "$VENV/bin/python" -m rustg.gpu.warmup
  touch "$warm_stamp"
fi
