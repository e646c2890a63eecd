"""How a corpus is cut: each input file into partitions of a fixed number of rows (postings and
bad rows alike), in file order. A partition is named by its file's number and its own, so the
same inputs and size always give the same partitions: that is what makes a run resumable.

One pass over each file (on the client, no model needed) counts its rows and notes where each
partition starts (a byte offset for uncompressed CSV/JSONL, a line for gzip, a row for Parquet);
a file error (no text column, broken gzip, bad CSV quoting) fails the run before any mapping.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from competencymap._common.errors import CompetencyMapError
from competencymap.workflows.demand.corpus.inputs import InputFile
from competencymap.workflows.postings_io import Columns, Position, RowError, TooManyRows, read_positioned

DEFAULT_SIZE = 250  # rows per partition


@dataclass(frozen=True)
class Partition:
    """A run of `count` rows of one input file, from `start`."""

    file: int  # InputFile.number
    index: int  # 0-based within the file
    path: str  # absolute path of the file
    name: str  # the file as the user named it (the postings' `source`)
    start: Position
    count: int
    first: int = 0  # 0-based row of the file where it starts
    bad: int = 0  # rows of it that are not postings (the scan's read errors)

    @property
    def id(self) -> str:
        return f"{self.file:04d}-{self.index:05d}"

    @property
    def postings(self) -> int:
        """Its rows that read as postings (what progress counts)."""
        return self.count - self.bad


@dataclass(frozen=True)
class Plan:
    """The partitions of a run, with the rows and bad rows the scan saw in each file."""

    partitions: list[Partition]
    rows: dict[int, int]  # file number -> rows
    bad_rows: dict[int, int]  # file number -> rows that are not postings

    @property
    def total(self) -> int:
        return sum(self.rows.values())

    @property
    def postings(self) -> int:
        """Rows that read as postings, in all."""
        return self.total - sum(self.bad_rows.values())


def plan_partitions(files: Sequence[InputFile], columns: Columns, size: int = DEFAULT_SIZE, *,
                    max_rows: int | None = None) -> Plan:
    """Scan each file once and cut it into partitions of `size` rows; no rows at all is an error,
    and so (:class:`TooManyRows`, the scan stopping there) is a row past `max_rows` in all."""
    if size < 1:
        raise CompetencyMapError("partition size must be at least 1")
    partitions: list[Partition] = []
    rows: dict[int, int] = {}
    bad: dict[int, int] = {}
    seen = 0
    for file in files:
        count = errors = 0
        starts: list[Position] = []
        bad_per_part: list[int] = []
        try:
            for position, item in read_positioned(file.path, columns):
                if count % size == 0:
                    starts.append(position)
                    bad_per_part.append(0)
                count += 1
                seen += 1
                if max_rows is not None and seen > max_rows:
                    raise TooManyRows(max_rows, path=file.name)
                not_posting = isinstance(item, RowError)
                errors += not_posting
                bad_per_part[-1] += not_posting
        except CompetencyMapError as exc:
            if exc.path == file.path:
                exc.path = file.name  # name the file as the user did
            raise
        rows[file.number], bad[file.number] = count, errors
        for index, start in enumerate(starts):
            partitions.append(Partition(file.number, index, file.path, file.name, start,
                                        min(size, count - index * size), index * size, bad_per_part[index]))
    if not partitions:
        if len(files) == 1:
            raise CompetencyMapError("no postings in the file", path=files[0].name)
        raise CompetencyMapError(f"no postings in {', '.join(f.name for f in files)}")
    return Plan(partitions, rows, bad)
