"""Finding candidates: the vector index, the dense view over it, the lexical index and the computed crosswalk."""
