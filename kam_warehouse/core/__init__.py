"""The core every other package builds on: errors, settings, configuration, and table comments.

Rule (tests/foundation/test_imports.py): modules in `kam_warehouse.core` import only the standard
library, third-party packages and each other — never another `kam_warehouse` module, `ingest` or
`expectations`. Every other package may import the core.
"""
