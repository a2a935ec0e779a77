"""doors.absent: Solaris doors are not provided on Linux: no door_* calls (nor fattach) in libc, no
door file system in the kernel. The claim holds when they are absent."""
import pytest

import absent_helpers as absent

DOOR_CALLS = ["door_call", "door_create", "door_return", "door_cred", "door_info", "fattach"]


@pytest.mark.claim("doors.absent")
def test_no_door_calls_in_libc(observe, verdict_note):
    """libc (and every library in this process) defines none of the door calls."""
    found = [name for name in DOOR_CALLS if absent.libc_has(name) or absent.process_has(name)]
    observe("door calls defined", found)
    observe("a libdoor library", absent.find_library("door"))
    assert not found, f"expected no door calls on Linux, {absent.libc_version()} defines {found}"
    verdict_note(f"not provided on Linux: {absent.libc_version()} defines none of {', '.join(DOOR_CALLS)}")


@pytest.mark.claim("doors.absent")
def test_no_door_file_system(observe, verdict_note):
    """The kernel registers no door file system (Solaris keeps doors in doorfs)."""
    doorish = [fs for fs in absent.filesystems() if "door" in fs]
    observe("door file systems", doorish)
    assert not doorish, f"expected no door file system on Linux, /proc/filesystems lists {doorish}"
    verdict_note("not provided on Linux: the kernel has no door file system")
