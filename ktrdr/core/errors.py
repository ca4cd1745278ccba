"""One exception hierarchy for every error ktrdr raises on purpose.

    KtrdrError
    ├── InvalidInputError      bad input; ``field`` names where (YAML path, CSV line, parameter)
    │   └── InvalidDocumentError   a strategy or CSV, every problem listed in ``issues``
    ├── NotFoundError          no such operation, series, model, strategy, worker
    ├── ConflictError          the current state forbids it (already cancelled, exists, busy)
    └── AuthError              a credential is missing (401) or wrong (403)

The API maps each branch to one status code and the CLI prints the message and exits 1;
anything else that escapes is a bug, answered as a 500 with a request id. Each class also
derives from the builtin it replaces (ValueError, LookupError, ...), so callers that catch
those keep working.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Issue:
    """One problem in a document: where (``path``: a dotted YAML path or ``line N``) and what."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class KtrdrError(Exception):
    """Root of ktrdr's errors; the message is written for the person who caused it."""

    code = "error"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    def __str__(self) -> str:
        return self.message

    @property
    def headline(self) -> str:
        """One line saying what went wrong; ``issues`` say where."""
        return self.message.splitlines()[0] if self.message else type(self).__name__

    @property
    def issues(self) -> list[Issue]:
        """Every problem found, with where it is (one, unless a subclass collects more)."""
        return [Issue(self.field or "", self.message)]


class InvalidInputError(KtrdrError, ValueError):
    code = "invalid_input"


class InvalidDocumentError(InvalidInputError):
    """A whole document (strategy YAML, CSV) was checked; ``issues`` lists every problem."""

    code = "invalid_document"


class DocumentIssuesError(InvalidDocumentError):
    """A YAML document (``source``: what it is) with every issue found in it."""

    def __init__(self, issues: list[Issue], source: str) -> None:
        self.source = source
        self._issues = list(issues)
        super().__init__(
            f"{source} is invalid:\n" + "\n".join(f"  - {i}" for i in issues),
            field=issues[0].path if issues else None,
        )

    @property
    def headline(self) -> str:
        return f"{self.source} is invalid"

    @property
    def issues(self) -> list[Issue]:
        return self._issues


class NotFoundError(KtrdrError, LookupError):
    code = "not_found"


class ConflictError(KtrdrError):
    code = "conflict"


class AuthError(KtrdrError):
    """A credential is missing or wrong: 401 (``forbidden`` False) asks for it, 403 refuses."""

    code = "unauthorized"

    def __init__(self, message: str, *, forbidden: bool = False) -> None:
        super().__init__(message)
        self.forbidden = forbidden
        if forbidden:
            self.code = "forbidden"
