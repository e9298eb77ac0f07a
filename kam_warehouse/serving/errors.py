"""Failures of publishing, closing and reporting that a person must act on."""

from __future__ import annotations

from kam_warehouse.errors import KamError


class PublishError(KamError):
    """A publish or rollback failed; the serving warehouse that was published before is unchanged."""


class CloseError(KamError):
    """A month-end close could not freeze the figures (month not complete, figures missing, ...)."""


class ReportError(KamError):
    """The finance report could not be produced from the serving warehouse."""
