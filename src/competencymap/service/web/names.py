"""Competency names in the page's language, where a served framework's data has them.

Skills for Success's file names its nine skills in English and French ("Numeracy" / "Calcul");
a page in French shows the French names. A framework whose data has no labels in the page's
language keeps the names it was loaded with (ESCO ships in English here), and so does a concept
with no label in that language (its name falls back to English when the framework is read).
"""

from __future__ import annotations

import threading

from competencymap._common.errors import CompetencyMapError
from competencymap.service.deps import Service

_lock = threading.Lock()


def localized_names(service: Service, language: str) -> dict[str, str]:
    """IRI -> name in `language`, for the concepts of the served frameworks whose name differs
    there (read once per service and language)."""
    engine = service.engine
    if language == engine.settings.language:
        return {}
    key = f"web.names.{language}"
    with _lock:
        if key not in service.cache:
            service.cache[key] = _names(service, language)
        names: dict[str, str] = service.cache[key]
        return names


def _names(service: Service, language: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for name in service.frameworks:
        try:
            framework = service.engine.framework(name)
            if language not in framework.languages:
                continue
            other = service.engine.store.get(name, language=language)
        except CompetencyMapError:  # a derived framework, or one that cannot be read in that language
            continue
        for iri, concept in other.competencies.items():
            own = framework.competencies.get(iri)
            if own is not None and concept.pref_label and concept.pref_label != own.pref_label:
                out[iri] = concept.pref_label
    return out
