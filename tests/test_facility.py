"""Self-tests of fixtures.facility: absence excused only by the documented version or kconfig,
presence always checked (a backport), a refusal where the config says built-in is violated."""
import errno

import pytest

from fixtures import facility
from fixtures.verdict import Violation


class OldKernel:
    release = "3.10.0-1160.el7.x86_64"

    def __init__(self, version, kconfig=None):
        self.version, self._kconfig = version, kconfig

    def at_least(self, *v):
        return self.version >= v

    @property
    def kconfig_known(self):
        return self._kconfig is not None

    def config(self, option):
        return (self._kconfig or {}).get(option)


def _refuse(err):
    def probe():
        raise OSError(err, "refused")
    return probe


def test_backport_is_checked_and_said():
    notes = []
    assert facility.present_since(OldKernel((3, 10)), (3, 15), "F_OFD_SETLK", lambda: None,
                                  note=notes.append)
    assert notes == ["F_OFD_SETLK present before 3.15 (a backport): checked as such"]


def test_documented_absence_on_an_old_kernel():
    assert not facility.present_since(OldKernel((3, 10)), (3, 15), "F_OFD_SETLK",
                                      _refuse(errno.EINVAL))


def test_refusal_on_a_kernel_that_should_have_it_is_the_kernels_answer():
    with pytest.raises(OSError):
        facility.present_since(OldKernel((6, 1)), (3, 15), "F_OFD_SETLK", _refuse(errno.EINVAL))


def test_absent_facility_names_the_option(monkeypatch):
    monkeypatch.setattr(facility, "KERNEL", OldKernel((6, 1), {}))
    reason = facility.absent_reason("POSIX message queues", "CONFIG_POSIX_MQUEUE",
                                    _refuse(errno.ENOSYS))
    assert reason.startswith("POSIX message queues is not in this kernel: kernel gave ENOSYS")
    assert "CONFIG_POSIX_MQUEUE unset" in reason


def test_enosys_where_the_config_has_it_is_violated(monkeypatch):
    monkeypatch.setattr(facility, "KERNEL", OldKernel((6, 1), {"CONFIG_POSIX_MQUEUE": "y"}))
    with pytest.raises(Violation, match="built with CONFIG_POSIX_MQUEUE=y"):
        facility.absent_reason("POSIX message queues", "CONFIG_POSIX_MQUEUE", _refuse(errno.ENOSYS))


def test_any_other_answer_means_present(monkeypatch):
    monkeypatch.setattr(facility, "KERNEL", OldKernel((6, 1), {}))
    assert facility.absent_reason("System V IPC", "CONFIG_SYSVIPC", _refuse(errno.EINVAL)) is None
