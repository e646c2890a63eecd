"""Statements to ranked competencies: results, pipeline settings, statement vectors, scoring, ranking cache, profiles and the text pipeline."""
