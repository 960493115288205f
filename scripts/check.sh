#!/usr/bin/env bash
# Lint and test: the one command developers and CI run.
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/ruff check voiceguide tests scripts
.venv/bin/python -m pytest "$@"
