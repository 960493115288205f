"""config.yaml: the shipped file is valid, and mistakes name the file, the line and the fix."""

from __future__ import annotations

import pytest
from conftest import ROOT, run_cli

from voiceguide.config import load_config
from voiceguide.yamlfile import FileError


def test_shipped_config_is_valid_and_matches_the_defaults():
    config = load_config(ROOT / "config.yaml")
    assert config.counting.beat_seconds == 1.0 and config.recognition.engine == "auto"
    assert config.models_dir == ROOT / "vosk_models"


@pytest.mark.parametrize(("text", "line", "words"), [
    ("language: en\ncounting:\n  beat_seconds: fast\n", 3, "counting.beat_seconds must be a number"),
    ("language: fr\n", 1, "language is 'fr', which is not known. Fix: use one of: en, ko"),
    ("voice_rate: 160\nvolume: 11\n", 2, "unknown setting 'volume'"),
    ("recognition:\n  threshold: 1.5\n", 2, "between 0 and 1"),
    ("counting:\n  beat_seconds: 5\n", 2, "between fastest_beat and slowest_beat"),
    ("recognition:\n  noise_suppression: sometimes\n", 2, "use one of: auto, always, never"),
])
def test_bad_settings_are_refused(tmp_path, text, line, words):
    path = tmp_path / "config.yaml"
    path.write_text(text)
    with pytest.raises(FileError) as info:
        load_config(path)
    assert str(info.value).startswith(f"{path}:{line}: ") and words in str(info.value)


def test_cli_uses_the_config_log_dir_and_reports_errors(tmp_path):
    config = tmp_path / "config.yaml"
    config.write_text("log_dir: mylogs\n")
    script = tmp_path / "s.txt"
    script.write_text("1 stop\n")
    result = run_cli("--config", str(config), "run", "--input", f"script:{script}", "--voice", "print")
    assert result.returncode == 0, result.stderr
    assert len(list((tmp_path / "mylogs").glob("*.jsonl"))) == 1
    config.write_text("log_dir: [\n")
    result = run_cli("--config", str(config), "log", "list")
    assert result.returncode == 2 and f"{config}:" in result.stderr and "not valid YAML" in result.stderr


def test_noise_suppression_takes_a_choice_or_the_earlier_true_or_false(tmp_path):
    path = tmp_path / "config.yaml"
    for written, meant in (("auto", "auto"), ("always", "always"), ("never", "never"), ("true", "always"), ("false", "never")):
        path.write_text(f"recognition:\n  noise_suppression: {written}\n")
        assert load_config(path).recognition.noise_suppression == meant
