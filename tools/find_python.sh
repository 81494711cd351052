#!/usr/bin/env bash
# Print the path of a Python >= 3.12 interpreter, or explain what is missing.
# Looks at $PYTHON, python3.13, python3.12, pyenv's installed versions, then python3.
set -u
ok() { "$1" -c 'import sys, venv; sys.exit(0 if sys.version_info >= (3, 12) else 1)' >/dev/null 2>&1; }
candidates=()
[ -n "${PYTHON:-}" ] && candidates+=("$PYTHON")
for name in python3.14 python3.13 python3.12; do
  p=$(command -v "$name" 2>/dev/null) && candidates+=("$p")
done
for root in "${PYENV_ROOT:-$HOME/.pyenv}" /root/.pyenv /usr/local/pyenv; do
  for p in "$root"/versions/3.1[2-9]*/bin/python3; do [ -x "$p" ] && candidates+=("$p"); done
done
for p in /usr/local/bin/python3.1[2-9] /usr/bin/python3.1[2-9]; do [ -x "$p" ] && candidates+=("$p"); done
p=$(command -v python3 2>/dev/null) && candidates+=("$p")
for c in "${candidates[@]}"; do
  if ok "$c"; then echo "$c"; exit 0; fi
done
echo "statebiz needs Python >= 3.12 (Mesa 3.5 requires it) with the venv module, and none was found." >&2
echo "Looked at: \$PYTHON, python3.13/3.12 on PATH, pyenv versions under ~/.pyenv, python3 ($(python3 --version 2>&1 || echo absent))." >&2
echo "Install one (e.g. 'pyenv install 3.12', or 'apt-get install python3.12 python3.12-venv') or set PYTHON=/path/to/python3.12." >&2
exit 1
