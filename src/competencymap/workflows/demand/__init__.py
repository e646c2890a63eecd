"""Researchers: demand per competency across postings, rolled up, against the supply of credentials (single process or a Dask corpus run)."""
