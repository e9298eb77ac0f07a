"""The quality gate: GX 1.x suites as code run against the build warehouse (see docs/quality-and-tiers.md).

Nothing heavy is imported here; Great Expectations is imported only inside `expectations.gx_runner`.
"""
