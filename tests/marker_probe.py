"""A pytest plugin for tests/test_catalogue.py: after collection, write every test's
facility markers as JSON to $IPCC_MARKER_PROBE ({nodeid: [facility, ...]})."""
import json
import os

from fixtures import catalogue


def pytest_collection_finish(session):
    facilities = set(catalogue.facilities())
    with open(os.environ["IPCC_MARKER_PROBE"], "w") as f:
        json.dump({item.nodeid: sorted(m.name for m in item.iter_markers() if m.name in facilities)
                   for item in session.items}, f, indent=1)
