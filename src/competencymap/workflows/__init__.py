"""What users do with the engine: tag credentials, match postings to the catalog, count demand, look up concepts. Each takes a `CompetencyMap`."""
