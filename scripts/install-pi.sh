#!/usr/bin/env bash
# Install voiceguide on Raspberry Pi OS or Debian for everyday use (no test tools):
# system packages, a virtual environment in this folder, optionally the English Vosk model,
# and a systemd user service so the guide starts with one command (or at boot).
#
#   scripts/install-pi.sh [--with-vosk] [--enable-at-boot]
set -euo pipefail
cd "$(dirname "$0")/.."
HERE="$(pwd)"
WITH_VOSK=0
AT_BOOT=0
for arg in "$@"; do
    case "$arg" in
        --with-vosk) WITH_VOSK=1 ;;
        --enable-at-boot) AT_BOOT=1 ;;
        *) echo "install-pi: unknown option $arg" >&2; exit 2 ;;
    esac
done

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq espeak-ng libespeak1 libportaudio2 python3-venv >/dev/null

python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q .

if [ "$WITH_VOSK" -eq 1 ]; then
    # About 40 MB, checked against a pinned SHA-256; resumes if interrupted.
    .venv/bin/voiceguide model fetch
fi

UNIT_DIR="$HOME/.config/systemd/user"
mkdir -p "$UNIT_DIR"
sed "s|@HERE@|$HERE|g" scripts/voiceguide.service > "$UNIT_DIR/voiceguide.service"
systemctl --user daemon-reload 2>/dev/null || true
if [ "$AT_BOOT" -eq 1 ]; then
    systemctl --user enable voiceguide.service
    $SUDO loginctl enable-linger "$(id -un)"  # user services start at boot, before anyone logs in
fi

.venv/bin/voiceguide doctor || true
echo "install-pi: done. Start a session with: systemctl --user start voiceguide"
echo "            or directly:                $HERE/.venv/bin/voiceguide run si-joint"
