"""Text to samples with pyttsx3 (espeak-ng underneath on Linux).

Rendering to samples, rather than letting pyttsx3 play, is what makes speech stoppable
mid-word: the samples go to a sound device (or a WAV timeline) that can be cut at once.
"""

from __future__ import annotations

import contextlib
import io
import os
import tempfile
from pathlib import Path

from voiceguide.speech.audio import AudioChunk, read_wav


class TTSError(RuntimeError):
    pass


class Renderer:
    """Renders sentences to AudioChunks; remembers each text so counts render once."""

    def __init__(self, language: str = "en", rate_wpm: int = 160) -> None:
        self.language = language
        self.rate_wpm = rate_wpm
        self._engine = None
        self._cache: dict[str, AudioChunk] = {}
        self._dir = tempfile.mkdtemp(prefix="voiceguide-tts-")

    def _init(self):  # noqa: ANN202 - a pyttsx3 engine
        if self._engine is None:
            try:
                import pyttsx3

                engine = pyttsx3.init()
            except Exception as exc:  # pyttsx3 raises bare errors when espeak-ng is missing
                raise TTSError(f"speech output is not available ({exc}). On Debian or Raspberry Pi OS: "
                               "sudo apt-get install espeak-ng libespeak1") from None
            engine.setProperty("rate", self.rate_wpm)
            voice = self._voice_for(engine)
            if voice:
                engine.setProperty("voice", voice)
            self._engine = engine
        return self._engine

    def _voice_for(self, engine) -> str | None:  # noqa: ANN001
        for voice in engine.getProperty("voices"):
            languages = [str(lang).lower().lstrip("\x05") for lang in (voice.languages or [])]
            if self.language in languages or str(voice.id).endswith(f"/{self.language}"):
                return str(voice.id)
        return None

    def render(self, text: str) -> AudioChunk:
        if text not in self._cache:
            engine = self._init()
            path = Path(self._dir) / "utterance.wav"
            with contextlib.redirect_stdout(io.StringIO()):  # the espeak driver prints "Audio saved"
                engine.save_to_file(text, str(path))
                engine.runAndWait()
            if not path.exists():
                raise TTSError(f"speech output produced no audio for {text!r}.")
            self._cache[text] = read_wav(path)
            os.unlink(path)
        return self._cache[text]
