"""Command recognition: the Recognizer protocol and the engine-independent spotter.

A person says a command on its own, between pauses; the guide's routines and other speech
contain the same words inside longer sentences ("stop if your knees hurt"). So a command is
obeyed only when a whole stretch of speech, bounded by silence, is one command phrase:

  audio -> voice activity endpointer -> one utterance at a time -> engine decoder
        -> the utterance's words must be exactly one phrase, short enough, confident enough,
           and explain all of its speech.

"All of its speech" runs from where the endpointer found speech starting to the last frame
within 20 dB of the utterance's loudest: a room's reverberant tail fades below that and is not
held against the words, while the rest of a sentence around a command word is.

The endpointer closes an utterance after a short silence (window * ratio, 180 ms), far sooner
than an engine's own end-of-utterance rule, which keeps the delay after the last word small.
While the guide talks, silence is also what falls 30 dB under the utterance's loudest frame,
whatever the voice detector says: its hangover after the last word held a person's "stop" over
the guide's voice back by up to 0.2 s. Only then: with nobody else talking, that hangover is
what keeps a sentence's short pauses inside it (applied everywhere, the rule took false accepts
on the quick benchmark's non-command speech from 6.8 to 152.9 an hour), while over the guide's
voice a person says a command and wants it obeyed at once.
Pain, stop and pause cut the guide's speech, so they are not kept waiting that long: after
`early` seconds of silence the decoder's partial result is read, and if it is one of them the
utterance ends there.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple, Protocol

import numpy as np

from voiceguide.commands import AT_LEISURE, INTERRUPTING, URGENT, CommandEvent, heard_command, phrase_index, plain
from voiceguide.speech.audio import RECOGNIZER_RATE, AudioChunk, DcBlock, amplified, to_int16
from voiceguide.speech.hum import HumFilter

if TYPE_CHECKING:
    from voiceguide.speech.echo import EchoCanceller, Playback

PREROLL = 0.3  # seconds of audio before the detected speech start given to the decoder
SHORT = 0.8  # seconds; speech this short holds no sentence around a command word
TAIL = 1.0  # seconds after an utterance in which its hangover or reverberation may still be heard
# dB under an utterance's loudest frame that is not speech while the guide talks. The words'
# own faint ends lie above it: at 20 dB, a person's "ouch" over the guide at -6 dB was heard as
# "repeat" (scripts/bench_echo.py), at 30 dB as "ouch" in most runs (once as "repeat").
QUIET = 30.0
# steadiness() above which a sound is a held note, not a voice: commands said by the benchmark's
# voices reached 0.59, notes of music 0.96 and more, a struck bell 0.76.
HELD = 0.8
# Refusals after which an utterance is decoded again with courtesy words allowed (see _close).
SECOND_CHANCE = ("outside", "confidence", "fit")
# Seconds of audio given to the decoder (PREROLL, the speech, the pause that ends it) beyond which
# an utterance is not decoded again: a sentence, not a phrase with a courtesy word. Such phrases
# said by Flite's slt and espeak-ng's en-us+f3 (the slowest voices) took 1.2 to 1.9 s. In one
# voice's 15 minutes of prose the second decodes took 22 s of the 97 s of CPU; 9 s with this limit.
COURTEOUS_LONGEST = 2.2


@dataclass(frozen=True)
class Word:
    text: str
    start: float  # seconds from the utterance start
    end: float
    confidence: float


class Decoder(Protocol):
    """One engine, decoding one utterance at a time (16 kHz mono int16 bytes)."""

    name: str

    def start(self) -> None: ...

    def process(self, pcm: bytes) -> None: ...

    def end(self) -> list[Word]: ...

    def partial(self) -> str: ...  # the words of the current utterance so far

    def plausible(self) -> bool: ...  # a second, costlier check of the last utterance's answer

    def courteous(self) -> list[Word]: ...  # the last utterance again, COURTESY words allowed; [] for none

    def learned(self) -> list[float]: ...  # what it has adapted to the voice and room, to keep; [] for nothing

    def adopt(self, learned: list[float]) -> None: ...  # start from what an earlier session learned

    def listen_for_numbers(self, on: bool | None) -> None: ...  # between utterances: grammar of utterances(language, on)


class Recognizer(Protocol):
    """feed() 16 kHz mono chunks in order; get the commands they completed."""

    def feed(self, chunk: AudioChunk) -> list[CommandEvent]: ...

    def finish(self) -> list[CommandEvent]: ...


class Refusal(NamedTuple):
    """Why an utterance's words are not obeyed: `kind` groups the reasons (see SECOND_CHANCE)."""

    said: str
    why: str
    kind: str


def spoken_words(words: list[Word]) -> list[Word]:
    """The words themselves: no silences (<sil>, <s>), no other speech ([unk])."""
    return [w for w in words if not w.text.startswith(("<", "["))]


@dataclass(frozen=True)
class Thresholds:
    normal: float = 0.5
    urgent: float = 0.3  # pain and stop: missing them costs most
    # A phrase with courtesy words around it ("stop now", "okay next"). Other speech takes those
    # paths far more often than the bare phrases: in one grammar with both and no bar, 53 minutes
    # of four voices' speech set off 34 such false commands at a median confidence of 0.85, 2 of
    # them at 0.98 or more; of 364 said by 13 voices, 354 came out with courtesy words, 331 of
    # them at 0.98 or more.
    courteous: float = 0.98
    max_utterance: float = 1.6  # seconds; longer speech is a sentence, not a command
    coverage: float = 0.6  # the phrase's words must span this share of the utterance
    outside: float = 0.25  # seconds of speech before or after the words that they leave unexplained
    above_echo: float = 10.0  # dB over the guide's residual echo for words said while it talks


class Levels:
    """Frame levels in dBFS and a running background floor (a low percentile of the last 3 s).

    In a noisy room WebRTC's detector calls the noise itself speech, so there a frame must also
    stand MARGIN dB above the floor to count. In a quiet room the detector alone decides: its
    hangover keeps a sentence's short pauses inside the sentence, so no fragment of it passes
    for a command.

    Noise is `steady` (a fan, traffic, hiss) when the median level of those 3 s is within
    STEADY dB of the floor; talk in the room (a TV, other people) rises and falls far more.
    Talk fills its own pauses with other talk, so its loud moments stand MARGIN over the floor
    all the time; there a frame must also stand TALK_MARGIN over the median level, or the talk
    around a command joined its utterance and the command was refused for the speech outside it.
    """

    NOISY = -55.0  # dBFS: a floor this loud is noise, not a quiet room's microphone hiss
    MARGIN = 9.0  # dB over the floor, in a noisy room
    HISTORY = 100  # frames (3 s, with 30 ms frames) behind the floor estimate
    SETTLE = 34  # frames (1 s) heard before there is a floor estimate
    PERCENTILE = 10  # the floor: quieter than 90% of the recent frames
    LOUD = 20.0  # dB under an utterance's peak that still counts as its speech, not its echo
    STEADY = 3.0  # dB from the floor to the median level: white and pink noise 1-2, talk 6-9
    # dB over the median level, in talk. On the quick benchmark's voices in babble at 20, 10 and 5
    # dB SNR, 157 of 432 commands were right without it; 174 with 6 dB, 157 with 8, 154 with 10.
    TALK_MARGIN = 6.0

    def __init__(self) -> None:
        self.history: deque[float] = deque(maxlen=self.HISTORY)
        self.floor = -120.0
        self.known = False  # whether the floor has been measured yet
        self.steady = False  # a noisy floor of steady noise (see STEADY)
        self.talk = False  # a noisy floor of talk: rising and falling (see STEADY)
        self.median = -120.0
        self.frames = 0

    @staticmethod
    def level(frame: bytes) -> float:
        """dBFS of 16-bit samples."""
        samples = np.frombuffer(frame, "<i2").astype(np.float64)
        return float(10 * np.log10(np.mean(samples**2) / 32768**2 + 1e-12))

    def update(self, level: float) -> bool:
        """Add one frame; True when it stands out from the floor."""
        self.history.append(level)
        self.frames += 1
        # Until a second has been heard the floor is unknown and taken for a quiet room's: a
        # recording that opens with the word itself would otherwise make the word its own floor,
        # and a clipped "stop" went unheard.
        if self.frames >= self.SETTLE and self.frames % 5 == 0:  # every 150 ms is often enough
            self.known = True
            self.floor, self.median = (float(x) for x in np.percentile(self.history, (self.PERCENTILE, 50)))
            # Steady or talk only once all 3 s are heard: over the first, noise suppression is
            # still learning the noise, and its output passed for speech in bursts ("five").
            heard = self.frames >= self.HISTORY and self.floor > self.NOISY
            self.steady = heard and self.median - self.floor < self.STEADY
            self.talk = heard and not self.steady
        return self.stands_out(level)

    def stands_out(self, level: float, talk: bool = True) -> bool:
        """Whether a frame at `level` dBFS stands out from the present floor (and, unless told
        that the talk heard is not the room's, from its talk)."""
        if self.talk and talk:
            return level > max(self.floor + self.MARGIN, self.median + self.TALK_MARGIN)
        return self.floor < self.NOISY or level > self.floor + self.MARGIN


class Gain:
    """Lifts a quiet microphone before anything listens. WebRTC's voice detector ignores quiet
    frames, and PocketSphinx starts from the cepstral mean of speech at an ordinary level: a
    person heard at -60 dBFS over a clean microphone (hiss at -87) had 17 of 32 commands taken,
    27 with only the voice detector's input lifted, and all 32 lifted by 20 dB.

    The gain aims the loudest frame of the last 30 s at TARGET, but lifts the background no
    higher than FLOOR, so a quiet room stays quiet to the level detector (Levels.NOISY) and a
    hissing microphone is left as it is. It moves only between utterances (hold), so no word is
    heard at two gains; within one it may only fall, to keep a sudden loud word from clipping.
    It rises slowly and takes no measure from digital silence: a muted microphone's zeros had it
    lift the hiss that followed by 24 dB into a noisy room, and the next "stop" went unheard.
    """

    TARGET = -20.0  # dBFS: ordinary speech close to a microphone peaks at -15 to -10 in 30 ms frames
    # dBFS: the highest the background is lifted to. Below the hiss of most microphones (-72 and
    # up), which are left as they are.
    FLOOR = -75.0
    MOST = 24.0  # dB
    RISE = 1.0  # dB at most per update (150 ms): a moment's quiet does not turn the room up at once
    SILENT = -100.0  # dBFS: digital silence (a muted device), no measure of the room
    HEADROOM = 0.9  # of full scale: the most a lifted sample may reach
    PEAK_FRAMES = 1000  # 30 s of 30 ms frames
    FLOOR_FRAMES = Levels.HISTORY

    def __init__(self) -> None:
        self.heard: deque[float] = deque(maxlen=self.PEAK_FRAMES)  # frame levels before the gain, dBFS
        self.frames = 0
        self.db = 0.0
        self.measured = False  # the first measure is taken at once, later ones at RISE

    def process(self, frame: bytes, hold: bool) -> bytes:
        level = Levels.level(frame)
        if level > self.SILENT:
            self.heard.append(level)
        self.frames += 1
        if not hold and len(self.heard) >= Levels.SETTLE and self.frames % 5 == 0:
            floor = float(np.percentile(list(self.heard)[-self.FLOOR_FRAMES:], Levels.PERCENTILE))
            wanted = float(np.clip(min(self.TARGET - max(self.heard), self.FLOOR - floor), 0.0, self.MOST))
            self.db = min(wanted, self.db + self.RISE) if self.measured else wanted
            self.measured = True
        if not self.db:
            return frame
        peak = float(np.abs(np.frombuffer(frame, "<i2").astype(np.float64)).max()) or 1.0
        self.db = max(0.0, min(self.db, 20 * np.log10(self.HEADROOM * 32767 / peak)))
        return amplified(frame, self.db)


def loud_end_of(levels: list[tuple[float, float]], below_peak: float) -> float:
    """End time of the last frame within `below_peak` dB of the loudest; levels: (end, dB)."""
    peak = max(level for _, level in levels)
    return next(t for t, level in reversed(levels) if level >= peak - below_peak)


NOTE_WINDOW = 1024  # samples (64 ms) of each spectrum that steadiness() and HeldNotes look at
NOTE_LAG = 0.1  # seconds between the two spectra compared


def combs(frames: np.ndarray) -> np.ndarray:
    """Each row of `frames` (NOTE_WINDOW samples) as its spectrum's fine structure, 80-3000 Hz:
    the log spectrum less its envelope (a moving average over 200 Hz), which leaves the comb of
    a sound's harmonics; each row scaled to zero mean and unit length, so that the dot product
    of two is their correlation."""
    bins = slice(80 * NOTE_WINDOW // RECOGNIZER_RATE, 3000 * NOTE_WINDOW // RECOGNIZER_RATE)
    spectrum = np.log(np.abs(np.fft.rfft(frames * np.hanning(NOTE_WINDOW), axis=1))[:, bins] + 1e-3)
    width = 13
    summed = np.cumsum(np.pad(spectrum, ((0, 0), (width // 2, width // 2)), mode="edge"), axis=1)
    envelope = (summed[:, width - 1 :] - np.pad(summed, ((0, 0), (1, 0)))[:, :-width]) / width
    comb = spectrum - envelope
    comb -= comb.mean(axis=1, keepdims=True)
    return comb / (np.linalg.norm(comb, axis=1, keepdims=True) + 1e-12)


def steadiness(samples: np.ndarray) -> float:
    """How alike the spectrum's fine structure (its harmonics) stays from one moment to the
    next, NOTE_LAG later, over the loud part of a sound: the median correlation, 0-1.

    A voice's pitch and formants never hold still that long: over the commands of the 13
    benchmark voices the highest was 0.59, most near 0. A note of music holds its harmonics
    where they are, 0.96 and more for plucked strings, chords, organ or synthesiser tones.
    Music passes the voice detector as speech, and a grammar of short words takes a note for
    "ow": plucked chords at -41 dBFS made 54 pains in 30 s.
    """
    hop = RECOGNIZER_RATE // 100
    lag = round(NOTE_LAG * RECOGNIZER_RATE / hop)
    if len(samples) < NOTE_WINDOW + lag * hop:
        return 0.0
    frames = np.lib.stride_tricks.sliding_window_view(samples.astype(np.float64), NOTE_WINDOW)[::hop]
    power = np.mean(frames**2, axis=1)
    loud = power > power.max() / 10**1.5  # within 15 dB of the loudest frame
    comb = combs(frames)
    pairs = loud[:-lag] & loud[lag:]
    if not pairs.any():
        return 0.0
    return float(np.median(np.sum(comb[:-lag] * comb[lag:], axis=1)[pairs]))


class HeldNotes:
    """Frame by frame, whether what is heard is a held note of music (see steadiness), so that
    music between a person's words does not join them into one long utterance: commands over
    plucked chords 20 dB down went from 16 of 32 heard to 26. A frame counts as a note when its
    harmonics match those NOTE_LAG before it better than STILL, and for HANG frames after: they
    do not, for a moment, as one chord gives way to the next.
    """

    # Steadier than HELD, which is for a whole utterance: single frames of a long vowel reached
    # 0.8 (0.3% of the benchmark voices' loud frames; one cost Flite slt's "help") and none 0.9.
    # 42% of a tune's frames pass 0.9.
    STILL = 0.9
    HANG = 3

    def __init__(self, frame_seconds: float) -> None:
        self.lag = max(1, round(NOTE_LAG / frame_seconds))
        self.heard = np.zeros(NOTE_WINDOW)
        self.earlier: deque[np.ndarray] = deque(maxlen=self.lag + 1)
        self.hang = 0

    def held(self, frame: bytes) -> bool:
        samples = np.frombuffer(frame, "<i2").astype(np.float64)
        self.heard = np.concatenate([self.heard, samples])[-NOTE_WINDOW:]
        self.earlier.append(combs(self.heard[None, :])[0])
        still = len(self.earlier) > self.lag and float(self.earlier[0] @ self.earlier[-1]) > self.STILL
        self.hang = self.HANG if still else max(0, self.hang - 1)
        return self.hang > 0


class Fading:
    """Frame by frame, whether what is heard is a room's reverberation dying away after words:
    in a room that reverberates, for HANG frames in a row, BELOW dB or more under the loudest of
    the last RECENT frames, not rising (by more than RISE), and yet over the floor. To the voice
    detector the tail is speech until it has sunk into the floor, 0.6 s after a word in the
    benchmark's room, and only then did the endpointer begin to close the utterance.

    A room reverberates when the sounds heard lately died away slowly: from their last frame
    within LOUD dB of the loudest into the floor, SLOW dB a frame or less (median of the last
    ENDINGS). In the benchmark's room three in four endings fall 3.2 dB a frame or less (a
    reverberation time near 1 s); a voice in a dry room falls a median 8 to 25, but one in ten of
    its endings (a sentence trailing off) falls under 3 to 9. With the median of five at 6 dB,
    Festival ked's dry reading was taken for a room 42% of the time, and 10 more false commands
    came of it in its 14 minutes. In a dry room nothing changes: there a voice's own fading into a
    pause was taken for a tail, and sentences split into pieces ("Rep 1 of 3." heard as "where am
    i"). A dry room's pause falls straight to the floor and is left to the detector, whose
    hangover keeps a sentence's short pauses inside the sentence; HANG frames of a tail are kept
    as speech for the same reason.
    """

    BELOW = 25.0  # dB
    OVER_FLOOR = 6.0  # dB: nearer the floor than this, it is the floor
    HANG = 3  # frames
    RECENT = 25  # frames (0.75 s)
    # dB over the last three frames that is still the tail: it wavers by a few dB as it dies
    # away, where the next word's onset rises by 10 to 20 in a frame or two.
    RISE = 5.0
    LOUD = 15.0  # dB
    SOUND = 20.0  # dB over the floor: a sound whose dying away is measured, not the floor's wavering
    SLOW = 3.5  # dB a frame (117 dB a second: a reverberation time of 0.5 s)
    ENDINGS = 7  # sounds' endings the room is judged by

    def __init__(self) -> None:
        self.levels: deque[float] = deque(maxlen=self.RECENT)
        self.run = 0
        self.loud: tuple[float, int] | None = None  # the last loud frame's level, and frames since
        self.rates: deque[float] = deque(maxlen=self.ENDINGS)  # dB a frame the latest sounds died away at

    @property
    def reverberant(self) -> bool:
        return len(self.rates) >= 3 and float(np.median(self.rates)) <= self.SLOW

    def fading(self, level: float, floor: float) -> bool:
        recent = list(self.levels)
        self.levels.append(level)
        loudest = max(recent, default=level)
        if level >= loudest - self.LOUD and level > floor + self.SOUND:
            self.loud = (level, 0)
        elif self.loud is not None:
            self.loud = (self.loud[0], self.loud[1] + 1)
        if level <= floor + self.OVER_FLOOR and self.loud is not None:
            self.rates.append((self.loud[0] - level) / self.loud[1])
            self.loud = None
        tail = (self.reverberant and len(recent) > 3 and level < loudest - self.BELOW
                and level > floor + self.OVER_FLOOR and level <= max(recent[-3:]) + self.RISE)
        self.run = self.run + 1 if tail else 0
        return self.run > self.HANG


class NoiseCleaner:
    """WebRTC noise suppression (webrtc-noise-gain) on 10 ms frames.

    It makes steady noise (a fan, traffic) far easier on both the voice detector and the
    decoder, but costs a little accuracy in a quiet room; so unless told to clean `always`, its
    output is used only while the background floor is above NOISY. It runs all the time either
    way, to keep its noise estimate current. Automatic gain stays off: on the benchmark it cost
    accuracy in quiet conditions.
    """

    FRAME = RECOGNIZER_RATE // 100 * 2  # bytes in 10 ms

    def __init__(self, always: bool = False, suppression: int = 2) -> None:
        from webrtc_noise_gain import AudioProcessor

        self.processor = AudioProcessor(0, suppression)
        self.always = always
        self.background = Levels()

    def process(self, frame: bytes) -> bytes:
        """The frame to hear: cleaned, or as it was in a quiet room. Whole 10 ms frames only."""
        cleaned = b"".join(self.processor.Process10ms(frame[i : i + self.FRAME]).audio
                           for i in range(0, len(frame), self.FRAME))
        if self.always:
            return cleaned
        self.background.update(Levels.level(frame))
        return cleaned if self.background.floor > Levels.NOISY else frame


class Endpoint:
    """Where speech starts and ends, from one speech/non-speech decision per frame: it starts when
    `ratio` of the last `frames` frames are speech (`loose_ratio` when told to start loosely), and
    ends when `ratio` of them are not."""

    def __init__(self, frames: int, ratio: float, frame_seconds: float, loose_ratio: float = 0.5) -> None:
        self.flags: deque[tuple[bool, float]] = deque(maxlen=frames)  # (speech?, frame end)
        self.need = max(1, round(ratio * frames))
        self.loose_need = max(1, round(loose_ratio * frames))
        self.frame_seconds = frame_seconds
        self.in_speech = False
        self.speech_start = 0.0

    def update(self, speech: bool, frame_end: float, loose: bool = False) -> None:
        self.flags.append((speech, frame_end))
        voiced = sum(flag for flag, _ in self.flags)
        if not self.in_speech and voiced >= (self.loose_need if loose else self.need):
            self.in_speech = True
            self.speech_start = next(end for flag, end in self.flags if flag) - self.frame_seconds
        elif self.in_speech and len(self.flags) - voiced >= self.need:
            self.in_speech = False


class Spotter:
    """Finds whole-utterance commands in a stream, with any Decoder."""

    def __init__(self, decoder: Decoder, language: str, thresholds: Thresholds = Thresholds(),
                 window: float = 0.24, ratio: float = 0.75, early: float = 0.09,
                 cleaner: NoiseCleaner | None = None, canceller: EchoCanceller | None = None) -> None:
        from pocketsphinx import Vad

        self.decoder = decoder
        self.dc_block = DcBlock()
        self.hum = HumFilter()
        self.gain = Gain()
        self.cleaner = cleaner
        self.canceller = canceller  # removes the guide's own voice; set when something is played
        self.playback: Playback | None = None  # what the guide plays, when known (with or without cancelling)
        self.language = language
        self.index = phrase_index(language)
        self.at_leisure = frozenset(AT_LEISURE[language])
        self.thresholds = thresholds
        self.vad = Vad(2, RECOGNIZER_RATE)  # WebRTC's voice activity detector, 30 ms frames
        self.frame_bytes = self.vad.frame_bytes
        self.endpointer = Endpoint(round(window / self.vad.frame_length), ratio, self.vad.frame_length)
        self.endpointer_tail = window * ratio  # silence that closes an utterance, seconds
        self.early_frames = max(1, round(early / self.vad.frame_length))
        self._quiet_frames = 0  # non-speech frames in a row inside the current utterance
        self._pending = b""
        self.levels = Levels()
        self.notes = HeldNotes(self.vad.frame_length)
        self.fading = Fading()
        self._utt_levels: list[tuple[float, float]] = []  # (frame end, dB) of the current utterance
        self._utt_audio: list[bytes] = []  # its frames, as the decoder had them
        self._loud = (-120.0, 0.0)  # (dB, until): the last utterance's loudest frame, and when its tail is over
        self._recent: deque[tuple[float, bytes, float]] = deque(maxlen=int((window + PREROLL) * 40) + 4)
        self._consumed = 0.0  # seconds of audio fed so far
        self._start = 0.0  # clock time of audio second 0
        self._in_utterance = False
        self._restart_at_next_speech = False  # skip the rest of this speech (too long, or cut early)
        self._noise_only = False  # the current utterance is known to be the room's noise
        self._utt_origin = self._speech_start = 0.0  # the decoder's first sample and where speech began, audio s
        self.rejected: list[tuple[str, str]] = []  # (text, why), for benchmarks and debugging
        self._adopt: list[float] | None = None  # an earlier session's learning, for the next utterance
        self._numbers: bool | None = None  # see listen_for_numbers(): wanted from the next utterance on

    def learned(self) -> list[float]:
        """What the decoder has adapted to this voice, microphone and room; [] for nothing to keep."""
        return self.decoder.learned()

    def adopt(self, learned: list[float]) -> None:
        """Start from an earlier session's learned(). Taken up as the next utterance starts, on
        whichever thread decodes, so a microphone's decoding thread is never raced."""
        self._adopt = learned

    def listen_for_numbers(self, on: bool | None) -> None:
        """Whether a number may be said: True, the numbers 0-10 are among the answers and the
        phrases easily taken for them are not (LIKE_NUMBERS); False, no numbers; None, the
        default, every phrase and number (as `voiceguide listen` hears). A session wants numbers
        for a pain rating, and while the guide itself says one (see Runner); anywhere else a
        command misheard as a number is a command lost. Taken up as the next utterance starts,
        like adopt()."""
        self._numbers = on

    def feed(self, chunk: AudioChunk) -> list[CommandEvent]:
        if chunk.rate != RECOGNIZER_RATE or chunk.channels != 1:
            raise ValueError("Spotter takes 16 kHz mono audio; convert with to_recognizer_format()")
        chunk = AudioChunk(to_int16(self.dc_block.process(chunk.samples)), RECOGNIZER_RATE, 1, chunk.timestamp)
        if self.canceller is not None:
            chunk = self.canceller.process(chunk)
        # After the canceller: the guide's voice as played has no hum, and a notch on the
        # microphone's side alone would be one more thing for the canceller to learn.
        chunk = AudioChunk(to_int16(self.hum.process(chunk.samples)), RECOGNIZER_RATE, 1, chunk.timestamp)
        if not self._consumed and not self._pending:
            self._start = chunk.timestamp
        pcm = chunk.samples.astype("<i2").tobytes()
        data = self._pending + pcm
        events: list[CommandEvent] = []
        usable = len(data) - len(data) % self.frame_bytes
        for i in range(0, usable, self.frame_bytes):
            events += self._frame(data[i : i + self.frame_bytes])
        self._pending = data[usable:]
        return events

    def finish(self) -> list[CommandEvent]:
        events: list[CommandEvent] = []
        tail = self._pending + b"\0" * (self.frame_bytes - len(self._pending))
        if self._in_utterance:
            self.decoder.process(tail)
            events += self._close(self._now())
        self._pending = b""
        return events

    def _now(self) -> float:
        return self._start + self._consumed

    @property
    def _utt_start(self) -> float:
        """Clock time of the current utterance's first sample given to the decoder."""
        return self._start + self._utt_origin

    def _frame(self, frame: bytes) -> list[CommandEvent]:
        self._consumed += len(frame) / 2 / RECOGNIZER_RATE
        frame = self.gain.process(frame, hold=self._in_utterance)
        if self.cleaner is not None:
            frame = self.cleaner.process(frame)
        level = Levels.level(frame)
        known = self.levels.known
        stands_out = self.levels.update(level)
        if self.levels.talk and self.canceller is None and self.playback is not None and self.playback.sounding(
                self._now() - Levels.HISTORY * self.vad.frame_length, self._now()):
            # The talk of the last 3 s was the guide's own, uncancelled: held to its median, its
            # sentences were cut into loud fragments, heard as "ow" and "it hurts".
            stands_out = self.levels.stands_out(level, talk=False)
        if (not known and self.levels.known and self._in_utterance
                and not any(self.levels.stands_out(earlier) for _, earlier in self._utt_levels)):
            # Speech begun while the floor was unknown (taken for a quiet room's) that does not
            # stand out of the floor now measured was the room's noise: pink noise at a session's
            # start was otherwise heard as "five". It is still decoded to its end, since what the
            # decoder learns of the noise there helps it with the words that follow.
            self._noise_only = True
        note = self.notes.held(frame)
        fading = self.fading.fading(level, self.levels.floor)
        speech = self.vad.is_speech(frame) and stands_out and not note and not fading
        if self._in_utterance:
            self._loud = (max(self._loud[0], level), self._consumed + TAIL)
        if (speech and level < self._loud[0] - QUIET and self._consumed < self._loud[1]
                and self.canceller is not None and self.canceller.talking(self._now())):
            speech = False  # the voice detector's hangover, or the room's reverberation of the words
        self._recent.append((self._consumed, frame, level))
        was_in = self._in_utterance
        if speech and self.canceller is not None and self.canceller.only_guide(self._now() - self.vad.frame_length, self._now()):
            speech = False  # what is left of the guide's own voice after cancelling is not a person
        # In steady noise only the loud middle of a short word stands MARGIN dB out of the floor:
        # "stop" in white noise at 10 dB SNR gave 5 such frames, one short of the 6 in 8 that
        # start speech, and went unheard. Steady noise does not pass for speech in bursts, so half
        # the window is enough there; talk in the room does, and keeps the full count.
        self.endpointer.update(speech, self._consumed, loose=self.levels.steady)
        if self._restart_at_next_speech and not self.endpointer.in_speech:
            self._restart_at_next_speech = False
        if not was_in and self.endpointer.in_speech and not self._restart_at_next_speech:
            # The endpointer decides a moment after speech began; hand the decoder the audio
            # from a little before its start too, since the model needs the onset and some silence.
            self._in_utterance = True
            self._noise_only = False
            first = self.endpointer.speech_start - PREROLL
            self._speech_start, self._utt_origin = self.endpointer.speech_start, max(0.0, first)
            if self._adopt is not None:
                self.decoder.adopt(self._adopt)
                self._adopt = None
            self.decoder.listen_for_numbers(self._numbers)  # a no-op when unchanged
            self.decoder.start()
            self._quiet_frames = 0
            self._utt_levels, self._utt_audio = [], []
            self._loud = (-120.0, 0.0)
            for end, old, old_level in self._recent:
                if end > first:
                    self.decoder.process(old)
                    self._utt_levels.append((end, old_level))
                    self._utt_audio.append(old)
        elif was_in:
            self.decoder.process(frame)
            self._utt_levels.append((self._consumed, level))
            self._utt_audio.append(frame)
            if not self.endpointer.in_speech:
                return self._close(self._now())
            self._quiet_frames = 0 if speech else self._quiet_frames + 1
            if self._quiet_frames == self.early_frames and self._interrupting(self.decoder.partial()):
                self._restart_at_next_speech = True  # the endpointer is still in this speech
                return self._close(self._now())
            if self._now() - self._utt_start > self.thresholds.max_utterance + PREROLL + 1.0:
                # Endless speech (a room full of talk) is never a command: drop it and start afresh.
                self.decoder.end()
                self.rejected.append(("", "speech without a pause"))
                self._in_utterance = False
                self._restart_at_next_speech = True
        return []

    def _interrupting(self, said: str) -> bool:
        found = self.index.get(plain(said, self.language))
        return found is not None and found[0] in INTERRUPTING

    def _close(self, now: float) -> list[CommandEvent]:
        self._in_utterance = False
        words = self.decoder.end()
        if self._noise_only:
            return []
        verdict = self._judge(words, now)
        if not isinstance(verdict, Refusal):
            return verdict
        heard_for = len(self._utt_audio) * self.vad.frame_length  # with PREROLL before it and the pause after
        if verdict.kind in SECOND_CHANCE and not self.fading.reverberant and heard_for <= COURTEOUS_LONGEST:
            # Words around a phrase ("okay next", "stop now") were refused as speech outside it, or
            # forced onto a longer phrase that fits badly: asked again, allowed such words.
            # Only then: in the one grammar, those paths cost 35 of 1322 commands in the quick
            # benchmark's conditions (babble most), and 8 more false commands in a room. Not in a
            # reverberant room: there four voices' 53 minutes of speech came out as such phrases 9
            # times, at confidences of 0.983 to 0.99997; at a bar of 0.999, 2 of them still passed,
            # and 89 of the 266 such commands said there that passed 0.98 were lost.
            again = self.decoder.courteous()
            said = " ".join(w.text for w in spoken_words(again))
            if said and plain(said, self.language) != said:
                second = self._judge(again, now)
                if not isinstance(second, Refusal):
                    return second
        self.rejected.append((verdict.said, verdict.why))  # the first decode's: the words taken without courtesy
        return []

    def _judge(self, words: list[Word], now: float) -> list[CommandEvent] | Refusal:
        """The command in an utterance's words, or why they are refused."""
        spoken = spoken_words(words)
        text = " ".join(w.text for w in words if w.text not in ("<s>", "</s>", "<sil>")).strip()
        if not spoken:
            return []
        if any(w.text.startswith("[") for w in words):
            return Refusal(text, "other speech", "other")
        said = " ".join(w.text for w in spoken)
        heard = heard_command(said, self.language)
        if heard is None:
            return Refusal(said, "not one phrase", "other")
        command, value = heard
        # From the start of speech to the end of its loud part (a room's reverberant tail is not
        # speech), in the decoder's time.
        speech_from = self._speech_start - self._utt_origin
        loud_end = max(spoken[-1].end, loud_end_of(self._utt_levels, Levels.LOUD) - self._utt_origin)
        utterance = loud_end - speech_from
        covered = spoken[-1].end - spoken[0].start
        too_sparse = utterance > SHORT and covered < self.thresholds.coverage * utterance
        before = max(0.0, spoken[0].start - speech_from)
        unexplained = before + (loud_end - spoken[-1].end)
        if unexplained > self.thresholds.outside:
            return Refusal(said, f"{unexplained:.2f} s of speech outside the words", "outside")
        # A run of alarms ("stop stop stop") takes longer to say than one phrase.
        longest = self.thresholds.max_utterance * (1 if said in self.index else 2)
        if utterance > longest or too_sparse:
            # A sentence that merely contains a command word decodes as that word plus silence.
            return Refusal(said, f"{covered:.2f} s of words in {utterance:.2f} s of speech", "outside")
        if self.canceller is not None:
            start, end = self._utt_start + spoken[0].start, self._utt_start + spoken[-1].end
            above = self.canceller.above_echo(start, end)
            if above is not None and above < self.thresholds.above_echo:
                return Refusal(said, f"{above:.0f} dB above the guide's residual echo", "echo")
            if self.canceller.changing_path(start, end):
                return Refusal(said, "heard while the echo path was changing", "echo")
        if steadiness(np.frombuffer(b"".join(self._utt_audio), "<i2")) > HELD:
            return Refusal(said, "a held note of music, not a voice", "music")
        confidence = min(w.confidence for w in spoken)
        bare = plain(said, self.language)
        at_leisure = bare in self.at_leisure  # a stop that is no alarm: treated as any other command
        bar = self.thresholds.urgent if command in URGENT and not at_leisure else self.thresholds.normal
        if bare != said:
            bar = max(bar, self.thresholds.courteous)
        if confidence < bar:
            return Refusal(said, f"confidence {confidence:.2f} < {bar}", "confidence")
        if (command not in INTERRUPTING or at_leisure) and not self.decoder.plausible():
            # Pain, stop and pause cut the guide's speech at once; they do not wait for this
            # second decode (about 0.2 s of CPU), and missing pain or stop costs most. Every other
            # command asks, however confident: without echo cancelling, skipping it for a
            # confidence of 0.99 or more let the guide's own voice set off 12 commands in a routine.
            return Refusal(said, "other words fit better", "fit")
        word_end = min(now, self._utt_start + spoken[-1].end)
        return [CommandEvent(command, said, confidence, round(word_end, 3), round(now, 3), value)]


def energy(chunk: AudioChunk) -> float:
    """RMS level of a chunk in dBFS (for telling silence from a dead microphone)."""
    if not len(chunk.samples):
        return -120.0
    rms = float(np.sqrt(np.mean(chunk.samples.astype(np.float64) ** 2)))
    return 20 * np.log10(max(rms, 1e-9) / 32768)

