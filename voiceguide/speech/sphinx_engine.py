"""PocketSphinx with its bundled English model: listens with no download.

The search is a JSGF grammar of the command phrases (and the numbers 0-10 when a number may be
said, see Spotter.listen_for_numbers); the Spotter rejects whatever is not a whole, short, single phrase. Dither is on because digital
silence (exact zeros) upsets the model's noise and cepstral-mean estimates.

A grammar search has no way to say "none of these": any speech comes out as some phrase.
So every utterance is also decoded as a free loop of phones, and the confidence is how close
the grammar's best path comes to that loop's score, per frame. A real command fits the
grammar about as well as any phone sequence fits; other speech forced onto a command fits far
worse. Both decoders score every senone (compallsen), which makes their scores comparable.

A phone loop fits anything, so a short sentence such as "Release." still scores close enough
to "repeat". A second opinion settles those: the utterance is decoded once more with the
model's own open-vocabulary language model (72,000 words, loaded anyway), and a command must
score within WORD_GAP per frame of the best English words found there. That decode runs only
for an utterance that has passed every other test, so ordinary speech does not pay for it; a
command that does waits for it.
"""

from __future__ import annotations

import math
import os

from voiceguide.commands import utterances
from voiceguide.speech.recognizer import Word

FRAMES_PER_SECOND = 100  # PocketSphinx's default frame rate
# Confidence is a logistic of the per-frame score gap to the phone loop: 0.5 at MIDPOINT.
# Set from scripts/bench_listen.py: at -10 about 99% of commands and a third of forced non-commands
# pass; see the README.
MIDPOINT = -10.0
SCALE = 2.0
# Per-frame score gap to the open-vocabulary decode (same units as MIDPOINT). Set by replaying
# scripts/bench_listen.py's conditions: at -12 it kept 97% of the correct commands and cut false accepts by
# two thirds; see the README.
WORD_GAP = -12.0
SEARCHES = {None: "everything", True: "numbers", False: "commands"}  # grammar searches by listen_for_numbers()
COURTEOUS = "_courteous"  # the name of each search's twin that allows courtesy words
# Pronunciations the model's (American) dictionary lacks: the long a of British "faster", the
# unstressed, non-rhotic ends of "faster" and "slower", the northern English vowel of "up". Over
# 18 voices (espeak-ng's British, Scottish, Lancaster, West Midlands and Caribbean English among
# them), clean, these and "done" as D UH N took 537 of 630 commands right to 550, with no new
# wrong answer. That "done" was dropped: in a session, with the guide's echo cancelled, a Flite
# voice's "ouch" came out as "i'm done", which is stop (it still can: with Flite's kal voice a minute
# into si-joint, in 5 of 6 runs; pyttsx3's rendering of the guide, and so its echo, varies). British
# "back" (B AA K) was not taken either: 10 more right, but "ouch" then came out as "back" in 6 voices.
ACCENTS = (("faster(2)", "F AA S T AH"), ("slower(2)", "S L OW AH"), ("up(2)", "UH P"))


class SphinxDecoder:
    name = "pocketsphinx"

    def __init__(self, language: str = "en") -> None:
        if language != "en":
            raise ValueError(f"PocketSphinx has a model for English only, not {language!r}; "
                             "use engine: vosk with a Vosk model for that language.")
        from pocketsphinx import Decoder, get_model_path

        # A fixed seed keeps the dither, and so the results, the same from run to run.
        # No lattice rescoring (bestpath): on a grammar it often ends the answer inside a phrase
        # ("that hurts" came back as "that"), which cost 8 points of clean accuracy.
        # fwdflat (the language model's second pass) and maxhmmpf (a cap on the word models alive
        # in a frame) matter only to the second opinion below; the command grammar never comes near
        # the cap. Without the second pass and with the cap, the open-vocabulary decode took 157 ms
        # of CPU a check instead of 350 on 220 benchmark utterances; 2 of the 220 verdicts changed.
        self.decoder = Decoder(loglevel="FATAL", dither=True, seed=1, compallsen=True, bestpath=False, fwdflat=False,
                               maxhmmpf=3000)
        phone_lm = os.path.join(get_model_path(), "en-us", "en-us-phone.lm.bin")
        self.phones = Decoder(loglevel="FATAL", dither=True, seed=1, compallsen=True, allphone=phone_lm)
        missing = sorted({w for p in utterances(language, courteous=True) for w in p.split() if not self.decoder.lookup_word(w)})
        if missing:
            raise ValueError(f"PocketSphinx's dictionary lacks {missing}; change the phrase table.")
        for word, phones in ACCENTS:
            self.decoder.add_word(word, phones, False)  # the searches below are built with them
        # One search for each setting of listen_for_numbers(): every word the grammar allows is
        # one more thing a command can be mistaken for.
        # An alarm may be said over and over ("stop stop stop"): see commands.alarms.
        # Each has a twin with courtesy words for a second decode (see courteous()).
        for numbers, search in SEARCHES.items():
            for name, courteous in ((search, False), (search + COURTEOUS, True)):
                phrases = " | ".join(utterances(language, numbers, courteous))
                self.decoder.add_jsgf_string(name, f"#JSGF V1.0;\ngrammar {name};\npublic <command> = {phrases} ;\n")
        self.search = SEARCHES[None]
        self.decoder.activate_search(self.search)
        self.audio: list[bytes] = []  # the current utterance, for the second opinion
        self.grammar_score = 0.0  # the last utterance's answer, per frame (see _per_frame)
        self.free_score = 0.0  # the free phone loop's, for the same utterance

    def listen_for_numbers(self, on: bool | None) -> None:
        """Between utterances: the grammar of utterances(language, on)."""
        if SEARCHES[on] != self.search:
            self.search = SEARCHES[on]
            self.decoder.activate_search(self.search)

    def start(self) -> None:
        self.audio = []
        self.decoder.start_utt()
        self.phones.start_utt()

    def process(self, pcm: bytes) -> None:
        self.audio.append(pcm)
        self.decoder.process_raw(pcm)
        self.phones.process_raw(pcm)

    def partial(self) -> str:
        hyp = self.decoder.hyp()
        return hyp.hypstr if hyp is not None else ""

    def end(self) -> list[Word]:
        self.decoder.end_utt()
        self.phones.end_utt()
        free = self.phones.hyp()
        self.free_score = _per_frame(free.best_score if free else 0.0, self.decoder.n_frames())
        return self._words()

    def courteous(self) -> list[Word]:
        """The last utterance decoded again with courtesy words allowed around each phrase."""
        mean = self.decoder.get_cmn()  # as the first decode left it: the same audio is not learned twice
        self.decoder.activate_search(self.search + COURTEOUS)
        try:
            self.decoder.start_utt()
            self.decoder.process_raw(b"".join(self.audio))
            self.decoder.end_utt()
            return self._words()
        finally:
            self.decoder.activate_search(self.search)
            self.decoder.set_cmn(mean)

    def _words(self) -> list[Word]:
        """The grammar search's answer for the utterance just ended, each word with the answer's
        confidence (see _confidence)."""
        hyp = self.decoder.hyp()
        if hyp is None:
            return []
        self.grammar_score = _per_frame(hyp.best_score, self.decoder.n_frames())
        confidence = _confidence(self.grammar_score, self.free_score)
        # Alternate pronunciations come back as "word(2)".
        return [Word(s.word.split("(")[0], s.start_frame / FRAMES_PER_SECOND, (s.end_frame + 1) / FRAMES_PER_SECOND, confidence)
                for s in self.decoder.seg() or [] if s.word != "(NULL)"]  # (NULL): a grammar's empty step

    def learned(self) -> list[float]:
        """What the decoder has learned of the voice, microphone and room: its running cepstral mean.
        A session's first command is otherwise decoded against the model's generic mean, and
        espeak-ng's en-us "pain" was then never heard as "pain" (0 of 6 voices; 3 of 6 once the
        same voice's other commands had been heard)."""
        return [float(x) for x in self.decoder.get_cmn().split(",")]

    def adopt(self, learned: list[float]) -> None:
        """Start from what an earlier session learned (see learned())."""
        mean = ",".join(f"{x:g}" for x in learned)
        self.decoder.set_cmn(mean)
        self.phones.set_cmn(mean)

    def plausible(self) -> bool:
        """Whether the last answer holds up against the best English words for the same audio."""
        self.decoder.activate_search("_default")  # the bundled language model
        try:
            self.decoder.start_utt()
            self.decoder.process_raw(b"".join(self.audio))
            self.decoder.end_utt()
            words = self.decoder.hyp()
            frames = self.decoder.n_frames()
        finally:
            self.decoder.activate_search(self.search)
        if words is None or words.best_score <= 0:
            return True
        return self.grammar_score - _per_frame(words.best_score, frames) >= WORD_GAP


def _per_frame(score: float, frames: int) -> float:
    """A best-path score per frame, in the units of MIDPOINT and WORD_GAP; -inf for no path.
    The bindings give scores as exp(log score)."""
    return math.log(score) / max(1, frames) * 1e4 if score > 0 else -math.inf


def _confidence(grammar: float, free: float) -> float:
    """0-1 from the per-frame scores of the grammar's answer and of the free phone loop."""
    if grammar == -math.inf:
        return 0.0
    if free == -math.inf:
        return 1.0
    return 1 / (1 + math.exp(-(grammar - free - MIDPOINT) / SCALE))
