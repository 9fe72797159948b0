"""Error types that services raise and pages or the CLI turn into messages.

Every error carries a catalogue key and parameters rather than a sentence, so the
same error reads in Japanese or English wherever it is shown.
"""

from __future__ import annotations

from dataclasses import dataclass, field


class ManabiError(Exception):
    """Base for errors a user can act on. `key` names a catalogue message."""

    key = "error.generic"

    def __init__(self, key: str | None = None, **params: object) -> None:
        self.key = key or self.key
        self.params = params
        super().__init__(f"{self.key} {params}" if params else self.key)


class NotFound(ManabiError):
    key = "error.not_found"


class PermissionDenied(ManabiError):
    key = "error.permission_denied"


class InvalidInput(ManabiError):
    key = "error.invalid_input"


class Conflict(ManabiError):
    """Someone else changed the same rows first (a taken slot, the last copy)."""

    key = "error.conflict"


class StoreError(ManabiError):
    key = "error.store"


@dataclass
class Message:
    """A catalogue message not yet put into words: its key and parameters. Given as a
    parameter of another message (an error's, a RowProblem's), the Translator words it in
    the same language first, e.g. a rule broken inside "row 2: not valid: {reason}"."""

    key: str
    params: dict[str, object] = field(default_factory=dict)


@dataclass
class RowProblem:
    """One bad row of an import: its number (1-based, as people count) and why."""

    row: int
    key: str
    params: dict[str, object] = field(default_factory=dict)


class ImportRejected(ManabiError):
    """An all-or-nothing import that stored nothing; every bad row is named."""

    key = "error.import_rejected"

    def __init__(self, problems: list[RowProblem], **params: object) -> None:
        self.problems = problems
        super().__init__(None, count=len(problems), **params)
