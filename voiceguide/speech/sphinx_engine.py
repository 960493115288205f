"""PocketSphinx with its bundled English model: listens with no download.

The search is a JSGF grammar of the command phrases and the numbers 0-10; the Spotter
rejects whatever is not a whole, short, single phrase. Dither is on because digital
silence (exact zeros) upsets the model's noise and cepstral-mean estimates.
"""

from __future__ import annotations

from voiceguide.commands import vocabulary
from voiceguide.speech.recognizer import Word

FRAMES_PER_SECOND = 100  # PocketSphinx's default frame rate


class SphinxDecoder:
    name = "pocketsphinx"

    def __init__(self, language: str = "en") -> None:
        if language != "en":
            raise ValueError(f"PocketSphinx has a model for English only, not {language!r}; "
                             "use engine: vosk with a Vosk model for that language.")
        from pocketsphinx import Decoder

        # A fixed seed keeps the dither, and so the results, the same from run to run.
        self.decoder = Decoder(loglevel="FATAL", dither=True, seed=1)
        said = vocabulary(language)
        missing = [w for p in said for w in p.split() if not self.decoder.lookup_word(w)]
        if missing:
            raise ValueError(f"PocketSphinx's dictionary lacks {missing}; change the phrase table.")
        grammar = "#JSGF V1.0;\ngrammar commands;\npublic <command> = " + " | ".join(said) + " ;\n"
        self.decoder.add_jsgf_string("commands", grammar)
        self.decoder.activate_search("commands")

    def start(self) -> None:
        self.decoder.start_utt()

    def process(self, pcm: bytes) -> None:
        self.decoder.process_raw(pcm)

    def partial(self) -> str:
        hyp = self.decoder.hyp()
        return hyp.hypstr if hyp is not None else ""

    def end(self) -> list[Word]:
        self.decoder.end_utt()
        hyp = self.decoder.hyp()
        if hyp is None:
            return []
        confidence = float(hyp.prob)  # posterior of the whole hypothesis, 0-1
        # Alternate pronunciations come back as "word(2)".
        return [Word(s.word.split("(")[0], s.start_frame / FRAMES_PER_SECOND, (s.end_frame + 1) / FRAMES_PER_SECOND, confidence)
                for s in self.decoder.seg() or []]
