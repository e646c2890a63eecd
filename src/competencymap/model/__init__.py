"""The competency model (frameworks, competencies, relations, levels), its graph and the occupations view."""
