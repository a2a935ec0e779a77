"""ipc-conformance: the suite's plugins (see fixtures/), loaded for suites/ and tests/ alike."""
# Order matters only for assertion rewriting: a module is listed before any plugin importing it.
pytest_plugins = [
    "fixtures.verdict",
    "fixtures.kernel",
    "fixtures.ipc",
    "fixtures.procs",
    "fixtures.leaks",
    "fixtures.privilege",
    "fixtures.catalogue",
    "fixtures.record",
    "pytester",  # the self-tests run the plugins on scratch suites
]
