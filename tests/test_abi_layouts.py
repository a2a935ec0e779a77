"""The System V, flock and sigaction layouts of fixtures.sysv/locks/signals, per ABI, against
the offsets and sizes glibc gives (offsetof/sizeof from glibc 2.36's headers for each target,
compiled with clang --target=<triple> against Debian's libc6-dev-<arch>-cross), so a 32-bit
or big-endian layout is checked on any host; and this host's ctypes structures against the
pure-Python offsets of its own ABI."""
import ctypes
import shutil
import subprocess
import sys

import pytest

from fixtures import abi, locks, signals, sysv

# glibc 2.36: (sizeof, {member: offsetof}) per structure; 'flock' is struct flock on LP64 and
# struct flock64 on ILP32 (what fixtures.locks passes); F_LK64 = (F_GETLK64, F_SETLK64, F_SETLKW64).
GLIBC = {
    'x86_64': {
        'ipc_perm': (48, {'key': 0, 'uid': 4, 'gid': 8, 'cuid': 12, 'cgid': 16, 'mode': 20, 'seq': 24}),
        'msqid_ds': (120, {'stime': 48, 'rtime': 56, 'ctime': 64, 'cbytes': 72, 'qnum': 80, 'qbytes': 88, 'lspid': 96, 'lrpid': 100}),
        'semid_ds': (104, {'otime': 48, 'ctime': 64, 'nsems': 80}),
        'shmid_ds': (112, {'segsz': 48, 'atime': 56, 'dtime': 64, 'ctime': 72, 'cpid': 80, 'lpid': 84, 'nattch': 88}),
        'shminfo': (72, {'shmmax': 0, 'shmmin': 8, 'shmmni': 16, 'shmseg': 24, 'shmall': 32}),
        'msginfo': (32, {}),
        'seminfo': (40, {}),
        'sigaction': (152, {'sa_handler': 0, 'sa_mask': 8, 'sa_flags': 136}),
        'flock': (32, {'l_type': 0, 'l_whence': 2, 'l_start': 8, 'l_len': 16, 'l_pid': 24}),  # struct flock
        'F_LK64': (5, 6, 7),
    },
    'i386': {
        'ipc_perm': (36, {'key': 0, 'uid': 4, 'gid': 8, 'cuid': 12, 'cgid': 16, 'mode': 20, 'seq': 24}),
        'msqid_ds': (88, {'stime': 36, 'rtime': 44, 'ctime': 52, 'cbytes': 60, 'qnum': 64, 'qbytes': 68, 'lspid': 72, 'lrpid': 76}),
        'semid_ds': (64, {'otime': 36, 'ctime': 44, 'nsems': 52}),
        'shmid_ds': (84, {'segsz': 36, 'atime': 40, 'dtime': 48, 'ctime': 56, 'cpid': 64, 'lpid': 68, 'nattch': 72}),
        'shminfo': (36, {'shmmax': 0, 'shmmin': 4, 'shmmni': 8, 'shmseg': 12, 'shmall': 16}),
        'msginfo': (32, {}),
        'seminfo': (40, {}),
        'sigaction': (140, {'sa_handler': 0, 'sa_mask': 4, 'sa_flags': 132}),
        'flock': (24, {'l_type': 0, 'l_whence': 2, 'l_start': 4, 'l_len': 12, 'l_pid': 20}),  # struct flock64
        'F_LK64': (12, 13, 14),
    },
    'arm': {
        'ipc_perm': (36, {'key': 0, 'uid': 4, 'gid': 8, 'cuid': 12, 'cgid': 16, 'mode': 20, 'seq': 24}),
        'msqid_ds': (88, {'stime': 36, 'rtime': 44, 'ctime': 52, 'cbytes': 60, 'qnum': 64, 'qbytes': 68, 'lspid': 72, 'lrpid': 76}),
        'semid_ds': (64, {'otime': 36, 'ctime': 44, 'nsems': 52}),
        'shmid_ds': (84, {'segsz': 36, 'atime': 40, 'dtime': 48, 'ctime': 56, 'cpid': 64, 'lpid': 68, 'nattch': 72}),
        'shminfo': (36, {'shmmax': 0, 'shmmin': 4, 'shmmni': 8, 'shmseg': 12, 'shmall': 16}),
        'msginfo': (32, {}),
        'seminfo': (40, {}),
        'sigaction': (140, {'sa_handler': 0, 'sa_mask': 4, 'sa_flags': 132}),
        'flock': (32, {'l_type': 0, 'l_whence': 2, 'l_start': 8, 'l_len': 16, 'l_pid': 24}),  # struct flock64
        'F_LK64': (12, 13, 14),
    },
    'aarch64': {
        'ipc_perm': (48, {'key': 0, 'uid': 4, 'gid': 8, 'cuid': 12, 'cgid': 16, 'mode': 20, 'seq': 24}),
        'msqid_ds': (120, {'stime': 48, 'rtime': 56, 'ctime': 64, 'cbytes': 72, 'qnum': 80, 'qbytes': 88, 'lspid': 96, 'lrpid': 100}),
        'semid_ds': (88, {'otime': 48, 'ctime': 56, 'nsems': 64}),
        'shmid_ds': (112, {'segsz': 48, 'atime': 56, 'dtime': 64, 'ctime': 72, 'cpid': 80, 'lpid': 84, 'nattch': 88}),
        'shminfo': (72, {'shmmax': 0, 'shmmin': 8, 'shmmni': 16, 'shmseg': 24, 'shmall': 32}),
        'msginfo': (32, {}),
        'seminfo': (40, {}),
        'sigaction': (152, {'sa_handler': 0, 'sa_mask': 8, 'sa_flags': 136}),
        'flock': (32, {'l_type': 0, 'l_whence': 2, 'l_start': 8, 'l_len': 16, 'l_pid': 24}),  # struct flock
        'F_LK64': (5, 6, 7),
    },
    'riscv64': {
        'ipc_perm': (48, {'key': 0, 'uid': 4, 'gid': 8, 'cuid': 12, 'cgid': 16, 'mode': 20, 'seq': 24}),
        'msqid_ds': (120, {'stime': 48, 'rtime': 56, 'ctime': 64, 'cbytes': 72, 'qnum': 80, 'qbytes': 88, 'lspid': 96, 'lrpid': 100}),
        'semid_ds': (88, {'otime': 48, 'ctime': 56, 'nsems': 64}),
        'shmid_ds': (112, {'segsz': 48, 'atime': 56, 'dtime': 64, 'ctime': 72, 'cpid': 80, 'lpid': 84, 'nattch': 88}),
        'shminfo': (72, {'shmmax': 0, 'shmmin': 8, 'shmmni': 16, 'shmseg': 24, 'shmall': 32}),
        'msginfo': (32, {}),
        'seminfo': (40, {}),
        'sigaction': (152, {'sa_handler': 0, 'sa_mask': 8, 'sa_flags': 136}),
        'flock': (32, {'l_type': 0, 'l_whence': 2, 'l_start': 8, 'l_len': 16, 'l_pid': 24}),  # struct flock
        'F_LK64': (5, 6, 7),
    },
    'ppc64le': {
        'ipc_perm': (48, {'key': 0, 'uid': 4, 'gid': 8, 'cuid': 12, 'cgid': 16, 'mode': 20, 'seq': 24}),
        'msqid_ds': (120, {'stime': 48, 'rtime': 56, 'ctime': 64, 'cbytes': 72, 'qnum': 80, 'qbytes': 88, 'lspid': 96, 'lrpid': 100}),
        'semid_ds': (88, {'otime': 48, 'ctime': 56, 'nsems': 64}),
        'shmid_ds': (112, {'segsz': 72, 'atime': 48, 'dtime': 56, 'ctime': 64, 'cpid': 80, 'lpid': 84, 'nattch': 88}),
        'shminfo': (72, {'shmmax': 0, 'shmmin': 8, 'shmmni': 16, 'shmseg': 24, 'shmall': 32}),
        'msginfo': (32, {}),
        'seminfo': (40, {}),
        'sigaction': (152, {'sa_handler': 0, 'sa_mask': 8, 'sa_flags': 136}),
        'flock': (32, {'l_type': 0, 'l_whence': 2, 'l_start': 8, 'l_len': 16, 'l_pid': 24}),  # struct flock
        'F_LK64': (12, 13, 14),
    },
    's390x': {
        'ipc_perm': (48, {'key': 0, 'uid': 4, 'gid': 8, 'cuid': 12, 'cgid': 16, 'mode': 20, 'seq': 24}),
        'msqid_ds': (120, {'stime': 48, 'rtime': 56, 'ctime': 64, 'cbytes': 72, 'qnum': 80, 'qbytes': 88, 'lspid': 96, 'lrpid': 100}),
        'semid_ds': (88, {'otime': 48, 'ctime': 56, 'nsems': 64}),
        'shmid_ds': (112, {'segsz': 48, 'atime': 56, 'dtime': 64, 'ctime': 72, 'cpid': 80, 'lpid': 84, 'nattch': 88}),
        'shminfo': (72, {'shmmax': 0, 'shmmin': 8, 'shmmni': 16, 'shmseg': 24, 'shmall': 32}),
        'msginfo': (32, {}),
        'seminfo': (40, {}),
        'sigaction': (152, {'sa_handler': 0, 'sa_mask': 24, 'sa_flags': 12}),
        'flock': (32, {'l_type': 0, 'l_whence': 2, 'l_start': 8, 'l_len': 16, 'l_pid': 24}),  # struct flock
        'F_LK64': (5, 6, 7),
    },
}

KINDS = {"ipc_perm": "perm", "msqid_ds": "msg", "semid_ds": "sem", "shmid_ds": "shm",
         "shminfo": "shminfo", "msginfo": "msginfo", "seminfo": "seminfo"}


def layout_of(struct: str, a: abi.Abi) -> abi.Layout:
    if struct == "flock":
        return locks.flock_layout(a)
    if struct == "sigaction":
        return signals.sigaction_layout(a)
    return sysv.layouts(a)[KINDS[struct]]


def ours(abi_name: str, struct: str) -> tuple[int, dict]:
    a = abi.ABIS[abi_name]
    offsets, size = abi.offsets(layout_of(struct, a), a)
    return size, offsets


CASES = [(a, s) for a in GLIBC for s in GLIBC[a] if s != "F_LK64"]


@pytest.mark.parametrize("abi_name,struct", CASES, ids=[f"{a}-{s}" for a, s in CASES])
def test_layout_matches_glibc(abi_name, struct):
    """Every member glibc names sits at glibc's offset, and the struct has glibc's size."""
    want_size, want = GLIBC[abi_name][struct]
    size, offsets = ours(abi_name, struct)
    got = {name: offsets.get(name) for name in want}
    assert (size, got) == (want_size, want), (
        f"{struct} on {abi_name}: glibc has size {want_size} and {want}, ours {size} and {got}")


@pytest.mark.parametrize("abi_name", [a for a in GLIBC if abi.ABIS[a].ilp32])
def test_ilp32_lock_commands_are_the_64_ones(abi_name):
    """On ILP32 F_GETLK/F_SETLK/F_SETLKW go as glibc's F_*LK64, the commands of struct flock64."""
    cmds = locks.lock_commands(abi.ABIS[abi_name])
    got = (cmds[locks.F_GETLK], cmds[locks.F_SETLK], cmds[locks.F_SETLKW])
    assert got == GLIBC[abi_name]["F_LK64"], f"{abi_name}: glibc F_*LK64 {GLIBC[abi_name]['F_LK64']}, ours {got}"


def test_every_tabled_abi_is_checked():
    """Each ABI the suite accepts has glibc's values here."""
    assert set(abi.ABIS) - {"loongarch64"} == set(GLIBC), (
        f"ABIs without glibc offsets: {sorted(set(abi.ABIS) - set(GLIBC))}")


def _native_structs():
    yield "flock", locks.Flock
    yield "ipc_perm", sysv.IpcPerm
    for struct, cls in (("msqid_ds", sysv.MsqidDs), ("semid_ds", sysv.SemidDs), ("shmid_ds", sysv.ShmidDs),
                        ("shminfo", sysv.ShmInfo), ("msginfo", sysv.MsgInfo), ("seminfo", sysv.SemInfo)):
        yield struct, cls


@pytest.mark.skipif(abi.current() is None, reason="this process's ABI is not tabled")
@pytest.mark.parametrize("struct,cls", list(_native_structs()), ids=lambda v: v if isinstance(v, str) else "")
def test_ctypes_structures_follow_the_layout(struct, cls):
    """This process's ctypes structures put each member where the layout says, with its size
    (before the spare bytes that over-allocate the buffers)."""
    size, offsets = ours(abi.current().name, struct)
    got = {name: getattr(cls, name).offset for name in offsets}
    assert got == offsets, f"{struct}: layout {offsets}, ctypes {got}"
    bare = ctypes.sizeof(abi.ctypes_struct(layout_of(struct, abi.current())))
    assert bare == size, f"{struct}: layout size {size}, ctypes {bare}"


def test_this_process_is_tabled():
    """The host running the self-tests has a layout (the suite would refuse otherwise)."""
    assert abi.current() is not None, abi.unsupported_reason()


def test_unsupported_abi_is_refused(monkeypatch):
    """An ABI without a table gets a reason naming it, and no layout."""
    monkeypatch.setattr(abi, "process_abi", lambda: "mips")
    assert abi.current() is None
    assert "process ABI mips" in abi.unsupported_reason()


def test_elf_class_decides_not_pointer_size_alone(monkeypatch):
    """An i386 ELF with a 64-bit ctypes long is a contradiction: refused, not misread."""
    monkeypatch.setattr(abi, "process_abi", lambda: "i386")
    expect_ok = ctypes.sizeof(ctypes.c_long) == 4 and sys.byteorder == "little"
    assert (abi.current() is not None) == expect_ok


@pytest.mark.parametrize("name,value,compat,seen", [
    ("shmmax", 18446744073692774399, True, 2 ** 31 - 1),
    ("shmall", 18446744073692774399, True, 18446744073692774399 & 0xffffffff),
    ("shmmni", 4096, True, 4096),
    ("shmmax", 18446744073692774399, False, 18446744073692774399),
    ("shmmax", 33554432, True, 33554432),
])
def test_ipc_info_as_a_compat_caller_sees_it(name, value, compat, seen):
    """IPC_INFO clamps shmmax to INT_MAX and cuts shmall to 32 bits for a compat caller only."""
    assert sysv.info_as_seen(name, value, compat) == seen


@pytest.mark.skipif(shutil.which("setarch") is None, reason="needs util-linux's setarch")
def test_linux32_personality_and_kernel_machine():
    """Under linux32 uname says i686, the personality is named and the kernel's machine is still found."""
    code = ("import os; from fixtures import abi; "
            "print(os.uname().machine, abi.personality_name(), abi.kernel_machine(), os.uname().machine)")
    done = subprocess.run(["setarch", "linux32", sys.executable, "-c", code], capture_output=True,
                          text=True, cwd=str(pytest.importorskip("pathlib").Path(__file__).parents[1]))
    if done.returncode and "Operation not permitted" in done.stderr:
        pytest.skip("personality(PER_LINUX32) refused here (seccomp)")
    assert done.returncode == 0, done.stderr
    before, name, machine, after = done.stdout.split()
    if abi.kernel_machine() != "x86_64":
        pytest.skip(f"linux32 changes uname on x86_64 kernels; this one is {abi.kernel_machine()}")
    assert (before, name, machine, after) == ("i686", "linux32", "x86_64", "i686")


def test_a_suite_run_in_an_untabled_abi_refuses_once(pytester, monkeypatch):
    """The suite says at the start that the ABI has no layouts and exits 2, running no test."""
    from tests.scratch import CONFTEST, make_suite, run
    suites = make_suite(pytester, "import pytest\n\n@pytest.mark.claim('demo.holds')\n"
                                  "def test_x():\n    pass\n")
    pytester.makeconftest(CONFTEST + "\nimport fixtures.abi\nfixtures.abi.process_abi = lambda: 'mips'\n")
    monkeypatch.setenv("PYTHONPATH", str(pytest.importorskip("pathlib").Path(__file__).parents[1]))
    result, _ = run(pytester, monkeypatch, suites)
    out, err = result.stdout.str(), result.stderr.str()
    # pytest shows an exit reason on both streams: once each
    assert result.ret == 2 and out.count("process ABI mips") == err.count("process ABI mips") == 1, out + err
    assert "refuses to run" in err and "passed" not in out
