"""The base of every expected failure, and the configuration error every package can raise.

The pipeline's own errors (a locked warehouse, a failed step, a blocked gate) subclass KamError in
kam_warehouse.errors; ingest's subclass it in ingest.errors.
"""

from __future__ import annotations


class KamError(Exception):
    """Base of every expected pipeline failure; `kam` prints it as one paragraph and exits non-zero."""


class ConfigError(KamError):
    """A configuration file is missing or invalid; the message names the file, the key and what is allowed."""
