"""lock.mandatory.mode_bits: the mandatory-locking marker is set-group-ID with group-execute off;
GNU ls -l shows it as 'S' in the group-execute position, and GNU chmod has no 'l' mode letter.
ERRATUM (UNP Volume 2 Notes): ls shows 'l'/'L' and chmod accepts 'l' only on System V systems."""
import os
import shutil
import stat
import subprocess

import pytest

from fixtures.expect import succeeds
from mandlock_helpers import MODE_MANDATORY

ENV = {"LC_ALL": "C", "PATH": "/usr/bin:/bin"}


def _ls_and_chmod(path):
    """In a child (its group dies at teardown): `ls -l` the file, then try `chmod +l` on it."""
    ls = subprocess.run(["ls", "-l", path], capture_output=True, text=True, env=ENV, timeout=5)
    chmod = subprocess.run(["chmod", "+l", path], capture_output=True, text=True, env=ENV, timeout=5)
    return ls.stdout.strip(), chmod.returncode, chmod.stderr.strip()


@pytest.mark.claim("lock.mandatory.mode_bits")
def test_marker_bits_and_their_display(ipc, spawn, observe):
    """Mode 02644 keeps S_ISGID without S_IXGRP; ls -l prints 'S' there; chmod +l is rejected."""
    for tool in ("ls", "chmod"):
        if shutil.which(tool, path=ENV["PATH"]) is None:
            pytest.skip(f"needs the {tool} command (GNU coreutils) to show how the marker is displayed")
    path = ipc.path("mandatory")
    os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644))
    succeeds(os.chmod, path, MODE_MANDATORY, what="chmod 02644")
    mode = stat.S_IMODE(os.stat(path).st_mode)
    listing, chmod_status, chmod_error = spawn.run(_ls_and_chmod, path, timeout=10).unwrap()
    mode_after = stat.S_IMODE(os.stat(path).st_mode)
    observe("mode", oct(mode))
    observe("ls_line", listing, run_specific=True)
    observe("chmod_plus_l_status", chmod_status)
    observe("chmod_plus_l_error", chmod_error)
    assert mode & stat.S_ISGID and not mode & stat.S_IXGRP, f"expected set-group-ID without group-execute, mode is {oct(mode)}"
    assert listing[6:7] == "S", f"expected 'S' in the group-execute column of ls -l, got {listing!r}"
    assert chmod_status != 0 and mode_after == mode, (
        f"expected chmod to reject the mode letter 'l' and leave {oct(mode)}, "
        f"it exited {chmod_status} and the mode is {oct(mode_after)}")
