"""config.yaml -> frozen dataclasses, validated; errors name the file, the line and the fix.

Where the file is looked for, first found wins: --config, $VOICEGUIDE_CONFIG, ./config.yaml,
~/.config/voiceguide/config.yaml. With none, the defaults below apply. Relative paths in the
file are relative to the file's own folder.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from voiceguide.commands import LANGUAGES
from voiceguide.yamlfile import FileError, LineDict, line_of, load


def _data_home() -> Path:
    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")


def _config_home() -> Path:
    return Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")


@dataclass(frozen=True)
class Counting:
    beat_seconds: float = 1.0
    slowest_beat: float = 3.0
    fastest_beat: float = 0.5
    step: float = 1.25  # slower multiplies the beat by this, faster divides


@dataclass(frozen=True)
class Audio:
    input_device: str = ""  # substring of the device name; empty: the system default
    output_device: str = ""


@dataclass(frozen=True)
class Recognition:
    engine: str = "auto"  # auto, vosk or pocketsphinx
    threshold: float = 0.5  # minimum confidence to obey a command
    urgent_threshold: float = 0.3  # for pain and stop, which must not be missed
    echo_threshold: float = 0.85  # for a word the guide itself is saying right now
    sphinx_threshold: float = 0.5  # PocketSphinx's fit against a free phone loop; see sphinx_engine
    noise_suppression: str = "auto"  # WebRTC noise suppression: auto (when the room is noisy), always, never
    echo_cancel: bool = True  # subtract the guide's own voice from the microphone signal


@dataclass(frozen=True)
class Config:
    language: str = "en"
    log_dir: Path = field(default_factory=lambda: _data_home() / "voiceguide" / "logs")
    routines_dir: Path = field(default_factory=lambda: _config_home() / "voiceguide" / "routines")
    models_dir: Path = field(default_factory=lambda: Path("vosk_models").resolve())
    voice_rate: int = 160  # words per minute
    pain_rating_timeout: float = 20.0  # seconds
    sessions_per_week: int = 7
    counting: Counting = Counting()
    audio: Audio = Audio()
    recognition: Recognition = Recognition()
    source: Path | None = field(default=None, compare=False)

    def digest(self) -> str:
        """Short hash of the settings, written in each log so a review knows what was used."""
        data = json.dumps(dataclasses.asdict(self), default=str, sort_keys=True)
        return hashlib.sha256(data.encode()).hexdigest()[:12]


_CHOICES = {"language": LANGUAGES, "engine": ("auto", "vosk", "pocketsphinx"),
            "noise_suppression": ("auto", "always", "never")}
_POSITIVE = {"beat_seconds", "slowest_beat", "fastest_beat", "step", "voice_rate", "sessions_per_week"}
_FRACTIONS = {"threshold", "urgent_threshold", "echo_threshold", "sphinx_threshold"}


def find_config(explicit: str | None = None) -> Path | None:
    if explicit:
        return Path(explicit).expanduser()
    env = os.environ.get("VOICEGUIDE_CONFIG")
    for candidate in (env, "config.yaml", _config_home() / "voiceguide" / "config.yaml"):
        if candidate and Path(candidate).expanduser().is_file():
            return Path(candidate).expanduser()
    return None


def load_config(path: Path | None) -> Config:
    if path is None:
        return Config()
    data = load(path)
    if data is None:
        return Config(source=path)
    return _build(Config, data, path, "", path.parent.resolve())


def _build(cls: type, data: Any, path: Path, where: str, base: Path) -> Any:
    if not isinstance(data, LineDict):
        raise FileError(path, getattr(data, "line", None), f"{where or 'the file'} must be a mapping.",
                        "write `key: value` lines.")
    fields = {f.name: f for f in dataclasses.fields(cls) if f.name != "source"}
    values: dict[str, Any] = {}
    for key, value in data.items():
        name = f"{where}{key}"
        line = line_of(data, key)
        if key not in fields:
            raise FileError(path, line, f"unknown setting {name!r}.",
                            f"use one of: {', '.join(sorted(fields))}.")
        default = getattr(cls(), key)
        if dataclasses.is_dataclass(default):
            values[key] = _build(type(default), value, path, f"{name}.", base)
            continue
        values[key] = _value(key, name, value, default, path, line, base)
    if cls is Config:
        values["source"] = path
    config = cls(**values)
    if cls is Counting and not config.fastest_beat <= config.beat_seconds <= config.slowest_beat:
        raise FileError(path, data.line, "counting.beat_seconds must lie between fastest_beat and slowest_beat.",
                        "adjust one of the three.")
    return config


def _value(key: str, name: str, value: Any, default: Any, path: Path, line: int | None, base: Path) -> Any:
    def bad(expected: str, example: str) -> FileError:
        return FileError(path, line, f"{name} must be {expected}; got {value!r}.", f"write e.g. `{key}: {example}`.")

    if isinstance(default, Path):
        if not isinstance(value, str) or not value.strip():
            raise bad("a folder path", str(default))
        folder = Path(os.path.expandvars(value)).expanduser()
        return folder if folder.is_absolute() else (base / folder)
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise bad("true or false", "true")
        return value
    if isinstance(default, (int, float)):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise bad("a number", str(default))
        if key in _POSITIVE and value <= 0 or value < 0:
            raise bad("greater than 0", str(default))
        if key in _FRACTIONS and value > 1:
            raise bad("between 0 and 1", str(default))
        return type(default)(value)
    if value is None:
        value = ""
    if key == "noise_suppression" and isinstance(value, bool):
        value = "always" if value else "never"  # how earlier versions took this setting
    if not isinstance(value, str):
        raise bad("text", repr(default))
    if key in _CHOICES and value not in _CHOICES[key]:
        raise FileError(path, line, f"{name} is {value!r}, which is not known.",
                        f"use one of: {', '.join(_CHOICES[key])}.")
    return value
