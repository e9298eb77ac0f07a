"""The core every other package builds on: errors (`errors`), where state lives (`settings`), the
configuration schema and its readers (`configuration`), and comments on Python-created tables (`comments`).

Rule (tests/foundation/test_imports.py): modules in `kam_warehouse.core` import only the standard
library, third-party packages and each other — never another `kam_warehouse` module, `ingest` or
`expectations`. Every other package may import the core.
"""
