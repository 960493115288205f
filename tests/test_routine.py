"""Routine files: the built-ins load, and broken files are refused with file, line and fix."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import SMALL_ROUTINE

from voiceguide.routine import Sides, find_routine, load_routine, routine_files
from voiceguide.yamlfile import FileError


def test_si_joint_has_the_whole_program():
    routine = load_routine(find_routine("si-joint"))
    ids = [e.id for e in routine.exercises]
    assert ids == ["pelvic-tilt", "pelvic-tilt-marching", "knee-to-chest", "both-knees-to-chest",
                   "inner-thigh-squeeze", "outer-hip", "spinal-twist", "quadriceps", "bridge", "cat-cow",
                   "triangle", "aerobics"]
    bridge = routine.exercise("bridge")
    assert (bridge.reps, bridge.rep[0].hold) == (10, 5)
    assert routine.exercise("pelvic-tilt").rep[0].hold == 5
    assert routine.exercise("quadriceps").optional
    assert routine.exercise("triangle").sides is Sides.ALTERNATING
    assert any("knee" in c for c in routine.exercise("cat-cow").cautions)


def test_floor_routine_keeps_only_lying_moves():
    floor = load_routine(find_routine("si-joint-floor"))
    ids = {e.id for e in floor.exercises}
    assert "cat-cow" not in ids and "triangle" not in ids and "bridge" in ids
    assert floor.exercise("bridge") == load_routine(find_routine("si-joint")).exercise("bridge")


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "mine.yaml"
    path.write_text(text)
    return path


@pytest.mark.parametrize(("old", "new", "line", "words"), [
    ("    reps: 2\n", "    reps: -3\n", 11, "reps must be a whole number"),
    ("    sides: both\n", "    sides: three\n", 24, "not known. Fix: use one of: one, both, alternating"),
    ("    kind: stretch\n", "", 17, "missing `kind`"),
    ("        hold: 3\n", "        hold: three\n", 14, "hold must be a whole number"),
    ("    rest_between_reps: 4\n", "    rest_between_reps: 4\n    colour: red\n", 17, "unknown key 'colour'"),
    ("  - id: twist\n", "  - id: lift\n", 17, "used twice"),
    ("    steps:\n      - Twist gently.\n", "    steps:\n      - Twist gently.\n     bad: [\n", 23, "not valid YAML"),
    ("    name: Lift\n", "    name: Lift\n    name: Lift twice\n", 6, "`name` is given twice here. Fix: keep one of them (the other is on line 5)"),
    ("name: Small routine\n", "name: Petite s\xe9ance\n", 2, "not UTF-8 text (byte 0xe9). Fix: save the file as UTF-8."),
])
def test_broken_routine_names_file_line_and_fix(tmp_path, old, new, line, words):
    assert old in SMALL_ROUTINE
    path = tmp_path / "mine.yaml"
    path.write_bytes(SMALL_ROUTINE.replace(old, new, 1).encode("latin-1"))  # one case is not UTF-8
    with pytest.raises(FileError) as info:
        load_routine(path)
    message = str(info.value)
    assert message.startswith(f"{path}:{line}: ")
    assert words in message
    assert "Fix:" in message


def test_empty_and_missing_files(tmp_path):
    with pytest.raises(FileError, match="empty"):
        load_routine(write(tmp_path, ""))
    with pytest.raises(FileError, match="not found"):
        load_routine(tmp_path / "nope.yaml")


def test_users_folder_overrides_builtins_and_derived_routines_check_ids(tmp_path):
    (tmp_path / "si-joint.yaml").write_text(SMALL_ROUTINE)
    assert routine_files((tmp_path,))["si-joint"] == tmp_path / "si-joint.yaml"
    bad = write(tmp_path, "id: x\nname: X\nbased_on: small\nonly:\n  - lift\n  - jump\n")
    (tmp_path / "small.yaml").write_text(SMALL_ROUTINE)
    with pytest.raises(FileError) as info:
        load_routine(bad, (tmp_path,))
    assert f"{bad}:6:" in str(info.value) and "'jump'" in str(info.value)


def test_the_guide_never_says_a_command_on_its_own():
    """Its own voice reaches the microphone; a lone "Next:" or ", stop." would pass for a person's command."""
    from voiceguide.commands import lone_phrase
    from voiceguide.plan import lone_commands
    from voiceguide.texts import TEXTS

    assert lone_phrase("Next: Bridge.", "en") == "next" and lone_phrase("If it hurts, stop.", "en") == "stop"
    assert lone_phrase("Say next when you are ready. Rep 2 of 3. Two.", "en") is None
    for language, table in TEXTS.items():
        assert [t for t in table.values() if lone_phrase(t, language)] == [], language
    for name in ("si-joint", "si-joint-floor"):
        assert lone_commands(load_routine(find_routine(name))) == [], name
