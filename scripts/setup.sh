#!/usr/bin/env bash
# Set up voiceguide from a fresh clone: system packages (Debian / Raspberry Pi OS), then a
# virtual environment in .venv with voiceguide and its test tools.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES="espeak-ng libespeak1 libportaudio2 sox python3-venv"
# Only for the tests and benchmarks: render the HTML report and read the screenshot back;
# Flite's voices (made from recordings of people) next to espeak-ng's for test speech, and
# Festival's for the listening benchmark's unseen voices.
TEST_PACKAGES="chromium tesseract-ocr flite festival festvox-kallpc16k festvox-kdlpc16k festvox-us-slt-hts"
if command -v apt-get >/dev/null 2>&1; then
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $PACKAGES $TEST_PACKAGES >/dev/null
else
    echo "setup: not a Debian system; install these yourself: $PACKAGES" >&2
fi

python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e ".[dev]"
echo "setup: done. Try: .venv/bin/voiceguide run si-joint"
