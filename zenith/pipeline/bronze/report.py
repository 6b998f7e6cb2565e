"""What one bronze load did, as every load (events, customers, products) reports it."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class IngestReport:
    """What one bronze load did: files read, rows written, and rows with a problem by kind."""

    table: str
    files: int
    rows: int
    problems: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    unchanged: bool = False

    @property
    def rows_written(self) -> int:
        """Rows this run wrote: none when the landed files were unchanged."""
        return 0 if self.unchanged else self.rows

    def __str__(self) -> str:
        if self.unchanged:
            return f"{self.table}: {self.files} files unchanged since the last load; nothing written"
        issues = ", ".join(f"{k}={v}" for k, v in self.problems.items()) or "none"
        return (
            f"{self.table}: {self.files} files, {self.rows} rows (problems: {issues}) in {self.seconds:.1f}s"
        )
