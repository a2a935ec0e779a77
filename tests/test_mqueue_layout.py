"""struct mq_attr and struct sigevent of fixtures.mqueue, per ABI, against glibc 2.36's offsets and
sizes (offsetof/sizeof compiled with clang --target=<triple> against Debian's
libc6-dev-<arch>-cross), and this process's ctypes structures against them."""
import ctypes

import pytest

from fixtures import abi, mqueue

LP64 = {"mq_attr": (64, {"mq_flags": 0, "mq_maxmsg": 8, "mq_msgsize": 16, "mq_curmsgs": 24}),
        "sigevent": (64, {"sigev_value": 0, "sigev_signo": 8, "sigev_notify": 12,
                          "sigev_notify_function": 16, "sigev_notify_attributes": 24})}
ILP32 = {"mq_attr": (32, {"mq_flags": 0, "mq_maxmsg": 4, "mq_msgsize": 8, "mq_curmsgs": 12}),
         "sigevent": (64, {"sigev_value": 0, "sigev_signo": 4, "sigev_notify": 8,
                           "sigev_notify_function": 12, "sigev_notify_attributes": 16})}
GLIBC = {name: ILP32 if a.ilp32 else LP64 for name, a in abi.ABIS.items()}
LAYOUTS = {"mq_attr": (mqueue.ATTR_LAYOUT, lambda a: 4 * a.long),   # glibc's long __pad[4]
           "sigevent": (mqueue.SIGEVENT_LAYOUT, None)}               # padded to SIGEV_MAX_SIZE
CASES = [(a, s) for a in GLIBC for s in LAYOUTS]


@pytest.mark.parametrize("abi_name,struct", CASES, ids=[f"{a}-{s}" for a, s in CASES])
def test_layout_matches_glibc(abi_name, struct):
    """Every member sits at glibc's offset and the padded struct has glibc's size."""
    want_size, want = GLIBC[abi_name][struct]
    layout, pad = LAYOUTS[struct]
    offsets, size = abi.offsets(layout, abi.ABIS[abi_name])
    size = size + pad(abi.ABIS[abi_name]) if pad else mqueue.SIGEVENT_SIZE
    assert (size, offsets) == (want_size, want), (
        f"{struct} on {abi_name}: glibc has size {want_size} and {want}, ours {size} and {offsets}")


@pytest.mark.skipif(abi.current() is None, reason="this process's ABI is not tabled")
def test_this_process_structures():
    """The ctypes structures this process hands to libc have glibc's size and offsets."""
    want = GLIBC[abi.current().name]
    for struct, ctype in (("mq_attr", mqueue.MqAttr), ("sigevent", mqueue.Sigevent)):
        size, offsets = want[struct]
        got = {name: getattr(ctype, name).offset for name in offsets}
        assert (ctypes.sizeof(ctype), got) == (size, offsets), f"{struct}: {ctypes.sizeof(ctype)} {got}"
