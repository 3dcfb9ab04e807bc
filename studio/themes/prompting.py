"""The prompt builder: turns theme templates and what people type into the text Astria receives.

Pure functions. They read settings only for their defaults and touch nothing else, so the
planner, the views and the avatar pipeline all get the same text for the same input.

A template holds the placeholder ``{subject}`` where the trained subject goes; expanding it gives
``<token> <class>`` (``sks woman``, ``ohwx dog``), the pair Astria's fine-tunes are trained on
(ASTRIA-API.md section 6).
"""

import functools
import math
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from studio.themes.exceptions import PromptRejected

SUBJECT = "{subject}"

# Astria's default token per branch: `ohwx` for SDXL and Flux, `sks` for the SD1.5 checkpoints.
_OHWX_BRANCHES = frozenset({"sdxl1", "flux1"})
# The long side (SD1.5) or the side of the square of equal area (SDXL, Flux) a branch renders at.
_BASE_SIZE = {"sdxl1": 1024, "flux1": 1024}
_DEFAULT_BASE_SIZE = 512

ASPECT_RATIOS = ("1:1", "4:5", "5:4", "3:4", "4:3", "2:3", "3:2", "9:16", "16:9")

# What the subject is called in the third person, by class: possessive, object, reflexive.
_PRONOUNS = {
    "man": ("his", "him", "himself"),
    "boy": ("his", "him", "himself"),
    "woman": ("her", "her", "herself"),
    "girl": ("her", "her", "herself"),
}
_NEUTRAL_PRONOUNS = ("their", "them", "themselves")

# Words people use for the subject they photographed, by class ("my daughter", "the puppy").
_CLASS_WORDS = {
    "man": ("man", "guy", "gentleman", "husband", "boyfriend", "dad", "father", "grandpa", "brother"),
    "woman": ("woman", "lady", "wife", "girlfriend", "mum", "mom", "mother", "grandma", "sister"),
    "boy": ("boy", "son", "grandson", "kid", "child", "little brother"),
    "girl": ("girl", "daughter", "granddaughter", "kid", "child", "little sister"),
    "baby": ("baby", "infant", "newborn", "toddler", "son", "daughter"),
    "person": ("person", "friend", "partner"),
    "couple": ("couple", "parents", "grandparents"),
    "dog": ("dog", "puppy", "pup", "doggy", "doggo", "pet"),
    "cat": ("cat", "kitten", "kitty", "pet"),
}
_PARTNERS = r"(?:wife|husband|partner|girlfriend|boyfriend|fianc[eé]e?|spouse)"


@dataclass(frozen=True)
class CustomPromptText:
    """A user's prompt after cleaning: the cleaned words, and the template with ``{subject}``."""

    cleaned: str
    template: str


# --- Subject and token ------------------------------------------------------------------------


def token_for_branch(branch: str) -> str:
    """The rare word a tune of this branch is trained on; the configured one for the active branch."""
    if branch == settings.ASTRIA_BRANCH:
        return settings.ASTRIA_TOKEN
    return "ohwx" if branch in _OHWX_BRANCHES else "sks"


def subject_phrase(*, subject_class: str, token: str) -> str:
    return f"{token} {subject_class}"


_KNOWN_TOKENS = ("sks", "ohwx")
_SUBJECT_CLASSES = ("man", "woman", "boy", "girl", "baby", "person", "couple", "dog", "cat")


def for_customer(text: str, *, name: str) -> str:
    """A prompt as its customer reads it: the trigger word the tune learns the subject by, and
    the class word after it (``sks woman``), become the avatar's name. Customers never see tokens."""
    tokens = sorted({*_KNOWN_TOKENS, settings.ASTRIA_TOKEN} - {""}, key=len, reverse=True)
    pattern = r"\b(?:{})\b(?:\s+(?:{})\b)?".format("|".join(map(re.escape, tokens)), "|".join(_SUBJECT_CLASSES))
    shown = "you" if name.strip().lower() in {"me", "myself"} else name
    return re.sub(pattern, lambda _: shown, text, flags=re.IGNORECASE)


def expand(template: str, *, subject_class: str, token: str) -> str:
    """``{subject}`` becomes ``<token> <class>``."""
    return template.replace(SUBJECT, subject_phrase(subject_class=subject_class, token=token))


def astria_prompt_text(*, text: str, branch: str, tune_id: int | str) -> str:
    """The text to post to Astria: LoRA branches reference the trained tune inside the text.

    Checkpoint branches post to the tune itself and the text is sent unchanged; LoRA branches
    (flux1) post to the base model's tune and prefix ``<lora:TUNE_ID:1>``.
    """
    if branch in settings.ASTRIA_LORA_BRANCHES:
        return f"<lora:{tune_id}:1> {text}"
    return text


def dimensions(aspect_ratio: str, *, branch: str) -> tuple[int, int]:
    """Width and height (multiples of 64, so of 8) for an aspect ratio such as ``4:5`` on a branch.

    SD1.5 keeps its 512 px short side; SDXL and Flux keep about a megapixel of area.
    """
    ratio_w, ratio_h = (int(part) for part in aspect_ratio.split(":"))
    base = _BASE_SIZE.get(branch, _DEFAULT_BASE_SIZE)

    def snap(value: float) -> int:
        return max(64, round(value / 64) * 64)

    if branch in _BASE_SIZE:
        width = math.sqrt(base * base * ratio_w / ratio_h)
        return snap(width), snap(base * base / width)
    if ratio_w >= ratio_h:
        return snap(base * ratio_w / ratio_h), base
    return base, snap(base * ratio_h / ratio_w)


# --- Cleaning ---------------------------------------------------------------------------------

# Astria reads markup inside the text: <lora:ID:1> and <faceid:ID:1> would pull in another tune,
# `--flags` switch on paid options (wherever they stand: after a comma, in brackets, glued to a
# word), {{placeholders}} are filled from the tune's characteristics.
_MARKUP = re.compile(r"<[^<>]*>|-{2,}[A-Za-z_][\w-]*(?:\s*[=:]?\s*-?\d+(?:[.:]\d+)*)?|[{}<>\\]")
_DASHES = re.compile(r"-{2,}")  # what is left of a flag Astria might still read
_EMPTY_BRACKETS = re.compile(r"\(\s*\)|\[\s*\]")
_REPEATED_COMMAS = re.compile(r"\s*,(?:\s*,)+")
_DASH_LIKE = "\u2010\u2011\u2012\u2013\u2014\u2015\u2212"  # hyphens, dashes and minus: "-" for Astria too
_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"'} | dict.fromkeys(_DASH_LIKE, "-"))


def clean_text(text: str, *, max_chars: int | None = None) -> str:
    """Printable text on one line: control characters, markup and extra whitespace removed.

    Longer text is cut at the last whole word within ``max_chars``.
    """
    max_chars = max_chars or settings.THEMES_CUSTOM_PROMPT_MAX_CHARS
    text = unicodedata.normalize("NFKC", text).translate(_QUOTES)
    # Invisible format characters (zero-width spaces...) go; line breaks and tabs become spaces.
    kept = []
    for char in text:
        category = unicodedata.category(char)
        if category == "Cf" or category in ("Co", "Cs", "Cn"):
            continue
        kept.append(" " if category == "Cc" or category in ("Zl", "Zp") else char)
    text = _MARKUP.sub(" ", "".join(kept))
    text = _EMPTY_BRACKETS.sub(" ", _DASHES.sub("-", text))
    text = _REPEATED_COMMAS.sub(",", " ".join(text.split())).strip(" ,;")
    if len(text) > max_chars:
        cut = text[: max_chars + 1]
        text = (cut.rsplit(" ", 1)[0] if " " in cut else cut[:max_chars]).rstrip(" ,;")
    return text


# --- Forbidden content ------------------------------------------------------------------------

FORBIDDEN_WORDS_FILE = Path(__file__).resolve().parent / "data" / "forbidden_words.txt"

LOOKALIKES_FILE = FORBIDDEN_WORDS_FILE.with_name("lookalikes.txt")


@functools.cache
def _lookalikes() -> dict[int, str]:
    """Letters of other alphabets drawn like Latin ones (data/lookalikes.txt), for str.translate."""
    table: dict[int, str] = {}
    for line in LOOKALIKES_FILE.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            latin, looks = line.split()
            table |= str.maketrans(dict.fromkeys(looks, latin))
    return table


# Digits and symbols written for letters ("nud3", "p0rn", "n@ked"). "1" and "|" stand for "i" or "l".
_LEET_DIGITS = str.maketrans("0134578", "oieastb")
_LEET_SYMBOLS = {"@": "a", "$": "s", "!": "i", "|": "i"}
_WORD_CHARS = r"[^\W_]"  # letters and digits: "_" and punctuation separate words


@dataclass(frozen=True)
class _Skeleton:
    """Text reduced to plain lower-case Latin letters for matching, with where each character came
    from, so a match can be shown to the user as they typed it."""

    texts: tuple[str, ...]  # one per reading of "1" and "|" (as i, then as l)
    origin: tuple[int, ...]  # index in the original text of each character of the skeleton


def _skeleton(text: str) -> _Skeleton:
    chars: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(text):
        base = "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))
        for c in base.translate(_lookalikes()).casefold():
            chars.append(c)
            origin.append(index)
    plain = "".join(chars)
    read_as_i = list(plain)
    for token in re.finditer(r"[\w@$!|]+(?:[.\-*'][\w@$!|]+)*", plain):
        if not re.search(r"[^\W\d_]", token.group(0)):
            continue  # no letter at all: a number ("2024"), never leetspeak
        start, end = token.span()
        for position in range(start, end):
            char = plain[position]
            if char.isdigit():
                read_as_i[position] = char.translate(_LEET_DIGITS)
            elif char in _LEET_SYMBOLS and _in_word(plain, position, start, end):
                read_as_i[position] = _LEET_SYMBOLS[char]
    first = "".join(read_as_i)
    read_as_l = "".join(
        "l" if plain[i] in "1|" and first[i] == "i" else c for i, c in enumerate(first)
    )
    texts = (first,) if read_as_l == first else (first, read_as_l)
    return _Skeleton(texts=texts, origin=tuple(origin))


def _in_word(text: str, position: int, start: int, end: int) -> bool:
    # "!" or "|" stand for a letter only between two others ("s!lk"); "@" and "$" also at the
    # start of a word ("$ex"). At the end of a word they are punctuation ("naked!").
    follows = position + 1 < end
    if text[position] in "@$":
        return follows
    return follows and position > start


def _entry_pattern(entry: str) -> str | None:
    """The regex for one list entry: a word or phrase, ``word*`` for a stem, ``*word*`` for a
    part of words. Every letter may be repeated ("sexx", "nuuude") and one punctuation mark may
    split a word ("top-less"); the words of a phrase may be joined by anything but letters."""
    entry = entry.strip()
    stem, inside = entry.endswith("*"), entry.startswith("*")
    words = [_letters(word) for word in _skeleton(entry.strip("*")).texts[0].split()]
    words = [word for word in words if word]
    if not words:
        return None
    joiner = r"(?:[^\w\s]|_)?"
    body = r"[\W_]*".join(joiner.join(f"{re.escape(c)}+" for c in word) for word in words)
    before = rf"{_WORD_CHARS}*" if inside else rf"(?<!{_WORD_CHARS})"
    after = rf"{_WORD_CHARS}*" if stem else rf"(?:e?s)?(?!{_WORD_CHARS})"
    return before + body + after


@dataclass(frozen=True)
class _ForbiddenList:
    pattern: re.Pattern[str] | None
    entries: tuple[str, ...]  # for the letter-by-letter check
    innocent: frozenset[str]  # "!word" entries: words never refused, whatever they look like


@functools.lru_cache(maxsize=8)
def _forbidden_list(words: tuple[str, ...]) -> _ForbiddenList:
    entries = tuple(word.strip() for word in words if word.strip() and not word.strip().startswith("!"))
    innocent = frozenset(
        _letters(_skeleton(word.strip()[1:]).texts[0]) for word in words if word.strip().startswith("!")
    )
    alternatives = [pattern for entry in entries if (pattern := _entry_pattern(entry))]
    pattern = re.compile("|".join(f"(?:{a})" for a in alternatives)) if alternatives else None
    return _ForbiddenList(pattern=pattern, entries=entries, innocent=innocent)


def _letters(text: str) -> str:
    return re.sub(r"[\W_]", "", text)


def forbidden_words() -> tuple[str, ...]:
    """THEMES_FORBIDDEN_WORDS when it is set, otherwise the list in data/forbidden_words.txt."""
    if settings.THEMES_FORBIDDEN_WORDS is not None:
        return tuple(settings.THEMES_FORBIDDEN_WORDS)
    return _forbidden_words_file()


@functools.cache
def _forbidden_words_file() -> tuple[str, ...]:
    lines = FORBIDDEN_WORDS_FILE.read_text(encoding="utf-8").splitlines()
    return tuple(line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#"))


# Three or more single letters or digits with separators between them: "n.u.d.e", "n u d e", "n-u-d-e".
_SPELLED_OUT = re.compile(r"(?<!\w)\w(?:[\s.\-_*·•/|+]+\w(?!\w)){2,}")


def _spelled_out_match(text: str, entries: Iterable[str]) -> tuple[int, int] | None:
    """A forbidden word spelled out letter by letter to slip past the whole-word check."""
    compact = [_letters(_skeleton(entry.strip("*")).texts[0]) for entry in entries]
    for spelled in _SPELLED_OUT.finditer(text):
        joined = _letters(spelled.group(0))
        if any(word and word in joined for word in compact):
            return spelled.span()
    return None


def forbidden_match(text: str, *, words: Iterable[str] | None = None) -> str | None:
    """The forbidden word or phrase in the text, as the user typed it, or None."""
    forbidden = _forbidden_list(tuple(forbidden_words() if words is None else words))
    skeleton = _skeleton(text)
    for reading in skeleton.texts:
        matches = forbidden.pattern.finditer(reading) if forbidden.pattern else ()
        span = next((m.span() for m in matches if _letters(m.group(0)) not in forbidden.innocent), None)
        span = span or _spelled_out_match(reading, forbidden.entries)
        if span:
            start, end = span
            return text[skeleton.origin[start] : skeleton.origin[end - 1] + 1]
    return None


def forbidden_reason(text: str, *, words: Iterable[str] | None = None) -> str | None:
    """Why the text is refused, in plain words, or None when it is acceptable."""
    found = forbidden_match(text, words=words)
    if found is None:
        return None
    return (
        f"“{found}” is not allowed: this studio only makes pictures you could show anyone. "
        "Please describe a different picture."
    )


# --- Subject insertion ------------------------------------------------------------------------


def _pronouns(subject_class: str) -> tuple[str, str, str]:
    return _PRONOUNS.get(subject_class, _NEUTRAL_PRONOUNS)


@functools.lru_cache(maxsize=16)
def _subject_patterns(subject_class: str) -> tuple[re.Pattern[str], ...]:
    words = "|".join(
        re.escape(word) for word in sorted(_CLASS_WORDS.get(subject_class, ()), key=len, reverse=True)
    )
    patterns = [
        r"@me\b",
        # "I am a pirate" reads as "<subject> as a pirate"; "I'm surfing" as "<subject> surfing".
        r"\b(?:I\s+am|I'm|we\s+are|we're)\b",
        r"\b(?:me|myself|ourselves|(?-i:[Uu]s))\b",
    ]
    if subject_class == "couple":
        patterns += [
            rf"\b(?:me|I)\s+and\s+my\s+{_PARTNERS}\b",
            rf"\bmy\s+{_PARTNERS}\s+and\s+(?:me|I)\b",
            r"\bthe\s+two\s+of\s+us\b",
        ]
    if words:
        patterns.append(rf"\b(?:(?:my|our|a|an|the)\s+)?(?:{words})\b")
    return tuple(re.compile(pattern, re.IGNORECASE) for pattern in patterns)


_AFTER_BE = re.compile(r"\s+(?=(?:a|an|the)\b)", re.IGNORECASE)
_BE = re.compile(r"^(?:I\s+am|I'm|we\s+are|we're)$", re.IGNORECASE)


def insert_subject(text: str, *, subject_class: str) -> str:
    """The template for a cleaned prompt: ``{subject}`` where the user referred to the subject.

    The first mention ("me", "myself", "of me", "I am", "my dog", "the puppy", "us"...) becomes the
    subject; later "my", "me" and "myself" become the subject's pronouns. With no mention at all,
    the subject goes in front.
    """
    text = text.translate(_QUOTES)
    matches = [m for pattern in _subject_patterns(subject_class) for m in pattern.finditer(text)]
    if not matches:
        return f"{SUBJECT}, {text}"
    first = min(matches, key=lambda m: (m.start(), -len(m.group(0))))
    before, after = text[: first.start()], text[first.end() :]
    replacement = SUBJECT
    if _BE.match(first.group(0)):
        replacement = f"{SUBJECT} as" if _AFTER_BE.match(after) else SUBJECT
    possessive, objective, reflexive = _pronouns(subject_class)
    after = re.sub(r"\b(?:my|our)\b", possessive, after, flags=re.IGNORECASE)
    after = re.sub(r"\b(?:myself|ourselves)\b", reflexive, after, flags=re.IGNORECASE)
    after = re.sub(r"\b(?:me|(?-i:us))\b", objective, after, flags=re.IGNORECASE)
    return f"{before}{replacement}{after}"


def clean_user_text(
    text: str,
    *,
    max_chars: int | None = None,
    forbidden_words: Iterable[str] | None = None,
    empty: str = "Describe the picture you want in a few words.",
) -> str:
    """Anything a user writes for Astria (a custom prompt, a touch-up instruction): cleaned by
    `clean_text`, refused when empty (`empty` says what to write) or forbidden.

    Raises PromptRejected with a reason a user can act on.
    """
    cleaned = clean_text(text, max_chars=max_chars)
    if not re.search(r"\w", cleaned):
        raise PromptRejected(empty)
    if reason := forbidden_reason(cleaned, words=forbidden_words):
        raise PromptRejected(reason)
    return cleaned


def build_custom_prompt(
    text: str,
    *,
    subject_class: str,
    max_chars: int | None = None,
    forbidden_words: Iterable[str] | None = None,
) -> CustomPromptText:
    """Clean a user's prompt, refuse forbidden content, and place the subject in it.

    Raises PromptRejected with a reason a user can act on.
    """
    cleaned = clean_user_text(text, max_chars=max_chars, forbidden_words=forbidden_words)
    template = insert_subject(cleaned, subject_class=subject_class)
    if not re.search(r"\w", template.replace(SUBJECT, "")):
        raise PromptRejected("Say a little more: a place, an outfit, a style or a mood.")
    return CustomPromptText(cleaned=cleaned, template=template)


# --- Final text -------------------------------------------------------------------------------


def _terms(text: str) -> list[str]:
    return [term.strip() for term in text.split(",") if term.strip()]


def with_quality_suffix(text: str, *, suffix: str | None = None) -> str:
    """Append the quality terms the text does not already contain."""
    suffix = settings.THEMES_QUALITY_SUFFIX if suffix is None else suffix
    lowered = text.lower()
    missing = [term for term in _terms(suffix) if term.lower() not in lowered]
    return ", ".join([text.rstrip(" ,.;"), *missing]) if missing else text


def negative_prompt(
    theme_negative: str = "", *, default: str | None = None, safety: str | None = None
) -> str:
    """A theme's negative prompt (or the default one) plus the safety terms, without repeats."""
    default = settings.THEMES_DEFAULT_NEGATIVE_PROMPT if default is None else default
    safety = settings.THEMES_SAFETY_NEGATIVE_PROMPT if safety is None else safety
    seen: set[str] = set()
    terms = []
    for term in _terms(theme_negative or default) + _terms(safety):
        if term.lower() not in seen:
            seen.add(term.lower())
            terms.append(term)
    return ", ".join(terms)


def custom_prompt_final_text(template: str, *, subject_class: str, token: str) -> str:
    return with_quality_suffix(expand(template, subject_class=subject_class, token=token))


def short_label(text: str, *, words: int = 6) -> str:
    """The first few words of a prompt, for a gallery caption."""
    parts = text.replace(SUBJECT, "").strip(" ,").split()
    label = " ".join(parts[:words]).rstrip(" ,.;")
    return f"{label}…" if len(parts) > words else label
