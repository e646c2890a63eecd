"""Corpus runs: `competencymap demand` over many postings on a Dask cluster, resumable.

One concept per module: :mod:`.inputs` (which files), :mod:`.partitions` (how they are cut),
:mod:`.plugin` (the engine each worker loads once), :mod:`.output` (the output folder: per-posting
Parquet files, errors, the table, the manifest) and :mod:`.run` (the run itself). See
docs/corpus.md.
"""
