"""Vosk, restricted to the command phrases (plus `[unk]` where the model has it).

Pitfalls handled here: the grammar is JSON with real UTF-8 (escaped words are silently
dropped as out of vocabulary); when AcceptWaveform() returns true the utterance so far is
read with Result(), because FinalResult() only returns what came after it.
"""

from __future__ import annotations

import json
from collections import deque
from pathlib import Path

import numpy as np

from voiceguide.commands import utterances
from voiceguide.speech.audio import amplified
from voiceguide.speech.recognizer import Levels, Word

RATE = 16000
NO_UNK = {"ko"}  # models known to have no [unk] word; the Spotter's other checks must do
# dBFS of the loudest 30 ms of an utterance, where the Korean model hears as it does at an ordinary
# level. It is far more sensitive to level than PocketSphinx: one voice's 25 commands at -60 dBFS,
# lifted back by 20, 30 and 40 dB, gave 4, 7 and 10 right (10 at the ordinary level). The
# Spotter's gain lifts a quiet microphone only as far as its hiss allows, so a quiet voice is
# lifted here again, by what the last utterances' loudest frames fell short of this.
LOUD = -15.0
MOST = 30.0  # dB


def model_vocabulary(model_dir: Path) -> set[str] | None:
    """Words the model knows (from graph/words.txt), or None when the model does not list them."""
    for candidate in (model_dir / "graph" / "words.txt", model_dir / "words.txt"):
        if candidate.is_file():
            return {line.split()[0] for line in candidate.read_text(encoding="utf-8").splitlines() if line.strip()}
    return None


class VoskDecoder:
    name = "vosk"

    def __init__(self, model_dir: Path, language: str) -> None:
        import vosk

        vosk.SetLogLevel(-1)
        self.model = vosk.Model(str(model_dir))
        known = model_vocabulary(model_dir)
        unk = (known is None and language not in NO_UNK) or (known is not None and "[unk]" in known)

        def grammar(numbers: bool | None) -> str:
            said = [p for p in utterances(language, numbers)
                    if known is None or all(w in known for w in p.split())]
            return json.dumps(said + (["[unk]"] if unk else []), ensure_ascii=False)  # [unk]: other speech

        # One grammar for each setting of listen_for_numbers(): every word the grammar allows is
        # one more thing a command can be mistaken for. A model with no [unk] keeps the numbers,
        # though: they are then what other speech comes out as, and on the Korean model without
        # them false accepts went from 150 to 290 an hour (scripts/bench_listen.py), all of them
        # commands, for 45 to 57% clean.
        self.grammars = {None: grammar(None), True: grammar(True), False: grammar(False if unk else None)}
        self.grammar = self.grammars[None]
        self.recognizer = vosk.KaldiRecognizer(self.model, RATE, self.grammar)
        self.recognizer.SetWords(True)
        self._words: list[Word] = []
        self._fed = 0.0  # seconds given to the recogniser since it was made
        self._offset = 0.0  # where the current utterance began; Vosk's word times count from 0
        self._peaks: deque[float] = deque(maxlen=5)  # the loudest frame of each recent utterance, dBFS
        self._peak = -120.0  # of the current utterance
        self._lift = 0.0  # dB, for the current utterance (see LOUD)

    def listen_for_numbers(self, on: bool | None) -> None:
        """Between utterances: the grammar of utterances(language, on)."""
        if self.grammars[on] != self.grammar:
            self.grammar = self.grammars[on]
            self.recognizer.SetGrammar(self.grammar)

    def start(self) -> None:
        self.recognizer.Reset()
        self._words = []
        self._offset = self._fed
        self._peak = -120.0
        self._lift = float(np.clip(LOUD - max(self._peaks), 0.0, MOST)) if self._peaks else 0.0

    def process(self, pcm: bytes) -> None:
        self._fed += len(pcm) / 2 / RATE
        self._peak = max(self._peak, Levels.level(pcm))
        if self._lift:
            pcm = amplified(pcm, self._lift)
        if self.recognizer.AcceptWaveform(pcm):
            self._collect(self.recognizer.Result())

    def partial(self) -> str:
        said = " ".join(w.text for w in self._words)
        return f"{said} {json.loads(self.recognizer.PartialResult()).get('partial', '')}".strip()

    def plausible(self) -> bool:
        return True  # the grammar's [unk] already stands for every other word

    def courteous(self) -> list[Word]:
        # Not tried with Vosk: Korean has no courtesy words, and no English Vosk model was at hand
        # to measure one with. There "please" or "okay" around a phrase is [unk], other speech.
        return []

    def learned(self) -> list[float]:
        return []  # Vosk adapts its feature normalisation inside each utterance and shows none of it

    def adopt(self, learned: list[float]) -> None:
        pass

    def end(self) -> list[Word]:
        self._collect(self.recognizer.FinalResult())
        self._peaks.append(self._peak)
        return self._words

    def _collect(self, result: str) -> None:
        data = json.loads(result)
        for w in data.get("result", []):
            start, end = float(w["start"]) - self._offset, float(w["end"]) - self._offset
            self._words.append(Word(w["word"], start, end, float(w.get("conf", 1.0))))
