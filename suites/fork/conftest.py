"""The fork suite's objects (fork_helpers.Inherited), each closed at teardown."""
import pytest


@pytest.fixture
def made(ipc):
    """made(obj): obj, closed at teardown (before ipc removes the objects)."""
    objects = []
    yield objects.append
    for obj in reversed(objects):
        obj.close()
