"""The language of a statement, a line or a whole text, and which of them a model can read.

Detection is py3langid's (a naive Bayes classifier over byte n-grams, the langid.py model, BSD
licence): its model ships inside the package (an ``.npz`` archive read with
``allow_pickle=False``, nothing pickled, nothing downloaded) and classifies a short line in tens
of microseconds. py3langid before 0.4 kept its model in a pickle, hence the lower bound in
pyproject.toml. The classifier is restricted to :data:`CANDIDATES`, the languages of postings and
credentials met in Canada and their neighbours, which makes short lines far more reliable than
choosing among 97 languages.

A statement is judged only when it has enough words to judge (:data:`MIN_WORDS` words of two
letters or more, :data:`MIN_LOWER` of them in lower case: sentences have function words, lists
of names do not) and the classifier is sure (:data:`MIN_CONFIDENCE`); "SQL", "Python", "Java,
Python, SQL", "AWS, GCP, Azure" or "Montréal, QC" are never judged, so they are never flagged. "French is an asset"
is English: the words around the language name decide, not the name.

A statement in a language the model does not read (`Readable`) is not mapped: the mapping puts
it in ``dropped`` with a reason such as "French text: not mapped with the bundled English
model" (`Readable.reason`), so it never comes back as nonsense matches.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from functools import cache
from typing import Any

from competencymap.statements.segment import Statement

ENGLISH = "en"
#: The languages the classifier chooses among (ISO 639-1).
CANDIDATES = ("en", "fr", "es", "pt", "it", "de", "nl", "pl", "ro", "ru", "uk", "tr", "ar", "fa", "hi", "pa",
              "ur", "bn", "ta", "zh", "ja", "ko", "vi", "tl")
MIN_WORDS = 3  # words of two letters or more before a statement is judged
MIN_LOWER = 2  # of which in lower case ("Java, Python, SQL" is a list of names, not a sentence)
MIN_CONFIDENCE = 0.9  # the classifier's probability (over CANDIDATES) needed to name a language

#: English names of the candidate languages (reasons and messages).
NAMES = {"en": "English", "fr": "French", "es": "Spanish", "pt": "Portuguese", "it": "Italian", "de": "German",
         "nl": "Dutch", "pl": "Polish", "ro": "Romanian", "ru": "Russian", "uk": "Ukrainian", "tr": "Turkish",
         "ar": "Arabic", "fa": "Persian", "hi": "Hindi", "pa": "Punjabi", "ur": "Urdu", "bn": "Bengali",
         "ta": "Tamil", "zh": "Chinese", "ja": "Japanese", "ko": "Korean", "vi": "Vietnamese", "tl": "Tagalog"}

_WORD = re.compile(r"[^\W\d_]{2,}")
_SCRIPT_WORDS = re.compile(r"[\u0600-\u06ff\u0900-\u0dff\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]")


@cache
def _identifier() -> Any:
    """py3langid's classifier over :data:`CANDIDATES`, loaded once (about 0.7 s)."""
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    identifier.set_languages(list(CANDIDATES))
    return identifier


def language_name(code: str) -> str:
    """The English name of a language code ("fr" -> "French"; an unknown code as given)."""
    return NAMES.get(code, code)


def judgeable(text: str) -> bool:
    """True when `text` has enough words to judge its language (scripts written without spaces
    count each character as a word)."""
    words = _WORD.findall(text)
    if len(words) >= MIN_WORDS and sum(w.islower() for w in words) >= MIN_LOWER:
        return True
    return len(_SCRIPT_WORDS.findall(text)) >= 2 * MIN_WORDS


def detect(text: str) -> str:
    """The language of `text` (an ISO 639-1 code of :data:`CANDIDATES`), or '' when it is too short
    to judge or the classifier is not sure."""
    if not judgeable(text):
        return ""
    language, confidence = _identifier().classify(text)
    return str(language) if confidence >= MIN_CONFIDENCE else ""


def main_language(statements: Iterable[Statement]) -> str:
    """The language most of the judged text is in (weighted by length), or '' when none was judged."""
    weights: Counter[str] = Counter()
    for statement in statements:
        if statement.language:
            weights[statement.language] += len(statement.text)
    return weights.most_common(1)[0][0] if weights else ""


@dataclass(frozen=True)
class Readable:
    """The languages a model reads (empty: every language) and how a reason names the model."""

    languages: frozenset[str] = frozenset({ENGLISH})
    model: str = "the bundled English model"

    def reads(self, language: str) -> bool:
        """True for a language the model reads, or an undetermined one ('')."""
        return not language or not self.languages or language in self.languages

    def reason(self, language: str) -> str:
        """Why a statement in `language` is not mapped."""
        return f"{language_name(language)} text: not mapped with {self.model}"


def with_languages(statements: Sequence[Statement]) -> list[Statement]:
    """The statements, each with its detected ``language`` ('' when not judged)."""
    return [replace(s, language=detect(s.text)) for s in statements]


def set_aside(statements: Sequence[Statement], readable: Readable) -> tuple[list[Statement], list[Statement]]:
    """(statements the model reads, those it does not, each with its reason); every statement
    comes back with its detected ``language``."""
    kept: list[Statement] = []
    unread: list[Statement] = []
    for statement in with_languages(statements):
        if readable.reads(statement.language):
            kept.append(statement)
        else:
            unread.append(replace(statement, reason=readable.reason(statement.language)))
    return kept, unread
