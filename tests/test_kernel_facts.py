"""Self-tests of fixtures/kernel.py: the version a distribution kernel really is, and host facts."""
import pytest

from fixtures.kernel import Kernel, parse_version, upstream_version

DEBIAN_510 = ("Linux version 5.10.0-46-amd64 (debian-kernel@lists.debian.org) (gcc-10 (Debian "
              "10.2.1-6) 10.2.1 20210110, GNU ld (GNU Binutils for Debian) 2.35.2) #1 SMP Debian "
              "5.10.262-1 (2026-07-31)")


@pytest.mark.parametrize("release, build, signature, expected", [
    # Debian names the ABI (5.10.0-46), /proc/version names the upstream sublevel
    ("5.10.0-46-amd64", DEBIAN_510, None, (5, 10, 262)),
    ("6.12.95+deb12-amd64", "Linux version 6.12.95+deb12-amd64 #1 SMP PREEMPT_DYNAMIC Debian "
     "6.12.95-1~bpo12+1 (2026-08-01)", None, (6, 12, 95)),
    # Ubuntu: /proc/version_signature's last field
    ("5.15.0-91-generic", "Linux version 5.15.0-91-generic (buildd@lcy02) #101-Ubuntu SMP",
     "Ubuntu 5.15.0-91.101-generic 5.15.131", (5, 15, 131)),
    # nothing better known: the release's own numbers
    ("6.18.44-fc-v669", "Linux version 6.18.44-fc-v669 (root@build) #1 SMP", None, (6, 18, 44)),
    # a build string of another series is not taken
    ("5.10.0-46-amd64", "Linux version ... #1 SMP Debian 6.1.115-1", None, (5, 10, 0)),
])
def test_upstream_version(release, build, signature, expected):
    assert upstream_version(release, build, signature) == expected
    assert Kernel(release=release, build=build, signature=signature).version == expected


def test_parse_version():
    assert parse_version("6.18.44-fc-v657") == (6, 18, 44)
    with pytest.raises(ValueError):
        parse_version("unknown")


def test_a_virtme_guest_is_not_the_host_container(monkeypatch):
    """The guest sees the host's /.dockerenv through its shared root; it is a VM, not docker."""
    from fixtures import kernel
    monkeypatch.setenv("IPCC_GUEST_KERNEL", "5.10.0-46-amd64")
    assert kernel._container() is None
