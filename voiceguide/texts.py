"""What the guide says of its own (not routine text), per language. Short sentences for the ear.

None of them says a command phrase on its own between pauses (see commands.lone_phrase).
"""

from __future__ import annotations

from voiceguide.commands import NUMBERS, phrases

TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "first": "We begin with {name}.",  # "First:" alone, before a pause, was heard as "faster"
        # "Next:" alone, before a pause, is a command; "Coming up:" alone was taken for "repeat",
        # "continue", "go on" and "that hurts" (20 times in 468 readings over 13 voices; this, 0).
        "next_up": "Time for {name}.",
        "optional": "This one is optional. Say skip to leave it out.",
        "position": "Start position. {position}",
        "reps_one": "We will do {reps} reps.",
        "reps_both": "{reps} reps on each side. Left side first.",
        "reps_alternating": "{reps} reps on each side, taking turns.",
        "rep": "Rep {rep} of {reps}.",
        "rep_side": "Rep {rep} of {reps}, {side}.",
        "other_side": "Now the other side.",
        "rest": "Well done. Rest for {seconds} seconds.",
        "skipping": "Skipping {name}.",
        "pain_ask": "Stopping now. How bad is the pain, from zero to ten?",
        "pain_thanks": "Thank you. Rest on your back. Say next when you are ready to go on.",
        "pain_rest": "Rest on your back. Say next when you are ready to go on.",
        "paused": "Paused. Say resume when you are ready.",
        "paused_lost": "I can no longer hear you: the microphone is disconnected. Paused until it is back.",
        "paused_muted": "The microphone is muted. Paused until you unmute it.",
        "resuming": "Resuming.",
        "paused_silent": "The loudspeaker is disconnected, and you cannot hear me. Paused until it is back.",
        "resuming_back": "I can hear you again. Resuming.",
        "resuming_unmuted": "I can hear you again. Resuming.",
        "resuming_sounding": "The loudspeaker is back. Resuming.",
        "trouble_band": "This microphone sounds like a telephone line, and I may mishear you. A better one would help.",
        "trouble_clipping": "The microphone is too loud, and I may mishear you. Please turn its volume down.",
        "slower": "Counting slower.",
        "faster": "Counting faster.",
        "status": "{name}, {where}. {left} moves left after this one.",
        "status_rep": "rep {rep} of {reps}",
        "status_intro": "getting ready",
        "status_none": "We are just starting. {left} moves to go.",
        "summary": "You finished {done} of {total} moves.",
        "summary_pain": " Pain during the {name}{at}.",
        "summary_pain_rep": ", rep {rep}",
        "side_left": "left",
        "side_right": "right",
        "goodbye": "Session over. Take care.",
    },
    "ko": {
        "first": "첫 번째 동작: {name}.",
        "next_up": "다음 동작: {name}.",
        "optional": "선택 동작입니다. 건너뛰려면 건너뛰기라고 말하세요.",
        "position": "시작 자세. {position}",
        "reps_one": "{reps}회 합니다.",
        "reps_both": "한쪽에 {reps}회씩 합니다. 왼쪽부터.",
        "reps_alternating": "양쪽 번갈아 {reps}회씩 합니다.",
        "rep": "{reps}회 중 {rep}회.",
        "rep_side": "{reps}회 중 {rep}회, {side}.",
        "other_side": "이제 반대쪽입니다.",
        "rest": "잘했어요. {seconds}초 쉬세요.",
        "skipping": "{name} 건너뜁니다.",
        "pain_ask": "멈춥니다. 통증은 영에서 십 중 얼마인가요?",
        "pain_thanks": "고마워요. 누워서 쉬세요. 준비되면 다음이라고 말하세요.",
        "pain_rest": "누워서 쉬세요. 준비되면 다음이라고 말하세요.",
        "paused": "일시정지했습니다. 준비되면 계속이라고 말하세요.",
        "paused_lost": "마이크 연결이 끊겨 들을 수 없습니다. 다시 연결될 때까지 일시정지합니다.",
        "paused_muted": "마이크가 음소거되었습니다. 음소거를 해제할 때까지 일시정지합니다.",
        "resuming": "계속합니다.",
        "paused_silent": "스피커 연결이 끊겨 제 말이 들리지 않습니다. 다시 연결될 때까지 일시정지합니다.",
        "resuming_back": "다시 들립니다. 계속합니다.",
        "resuming_unmuted": "다시 들립니다. 계속합니다.",
        "resuming_sounding": "스피커가 다시 연결되었습니다. 계속합니다.",
        "trouble_band": "이 마이크는 전화 음질이라 잘못 알아들을 수 있습니다. 더 좋은 마이크를 쓰세요.",
        "trouble_clipping": "마이크 소리가 너무 커서 잘못 알아들을 수 있습니다. 마이크 음량을 줄여 주세요.",
        "slower": "천천히 셉니다.",
        "faster": "빨리 셉니다.",
        "status": "{name}, {where}. 이후 {left}개 동작 남았습니다.",
        "status_rep": "{reps}회 중 {rep}회",
        "status_intro": "준비 중",
        "status_none": "이제 시작합니다. {left}개 동작 남았습니다.",
        "summary": "{total}개 중 {done}개 동작을 마쳤습니다.",
        "summary_pain": " {name}{at}에서 통증.",
        "summary_pain_rep": " {rep}회",
        "side_left": "왼쪽",
        "side_right": "오른쪽",
        "goodbye": "세션을 마칩니다.",
    },
}


class Texts:
    """Formats the guide's own sentences in one language."""

    def __init__(self, language: str) -> None:
        phrases(language)  # raises UnknownLanguage for a language with no phrase table
        self.language = language
        self.table = TEXTS.get(language, TEXTS["en"])

    def __call__(self, key: str, **values: object) -> str:
        return self.table[key].format(**values)

    def count(self, n: int) -> str:
        words = NUMBERS[self.language]
        return words[n] if n < len(words) else str(n)

    def side(self, side: str) -> str:
        return self.table.get(f"side_{side}", side)
