"""sysv.limits: the limits in /proc/sys/kernel agree with IPC_INFO and with ipcs -l."""
import shutil

import pytest

import sysv_helpers as sv
from fixtures import sysv
from fixtures.verdict import Violation

PROC = ("msgmax", "msgmnb", "msgmni", "sem", "shmmax", "shmall", "shmmni")


def _proc(kernel):
    values = {name: kernel.sysctl(f"kernel/{name}") for name in PROC}
    missing = [n for n, v in values.items() if v is None]
    if len(missing) == len(PROC):
        value = kernel.config("CONFIG_SYSVIPC_SYSCTL")
        if kernel.kconfig_known and value == "y":
            raise Violation("expected the System V limits in /proc/sys/kernel (this kernel has "
                            "CONFIG_SYSVIPC_SYSCTL=y), none of msgmax ... shmmni is there")
        pytest.skip("/proc/sys/kernel has no System V limits, which CONFIG_SYSVIPC_SYSCTL provides: "
                    + ("it is unset in this kernel" if kernel.kconfig_known else
                       "the kconfig is unreadable here, so whether it is set cannot be told"))
    assert not missing, f"expected every limit readable in /proc/sys/kernel, missing {missing}"
    semmsl, semmns, semopm, semmni = (int(x) for x in values.pop("sem").split())
    out = {k: int(v) for k, v in values.items()}
    out.update(semmsl=semmsl, semmns=semmns, semopm=semopm, semmni=semmni)
    return out


@pytest.mark.claim("sysv.limits")
def test_proc_matches_ipc_info(kernel, observe, verdict_note):
    """msgctl/semctl/shmctl(IPC_INFO) report the same limits as /proc/sys/kernel (as the caller's ABI sees them)."""
    proc = _proc(kernel)
    for name, value in proc.items():
        observe(name, value)
    msg, sem, shm = sysv.ipc_info("msg"), sysv.ipc_info("sem"), sysv.ipc_info("shm")
    info = {"msgmax": msg.msgmax, "msgmnb": msg.msgmnb, "msgmni": msg.msgmni,
            "semmsl": sem.semmsl, "semmns": sem.semmns, "semopm": sem.semopm, "semmni": sem.semmni,
            "shmmax": shm.shmmax, "shmall": shm.shmall, "shmmni": shm.shmmni}
    # a 32-bit caller on a 64-bit kernel: shmmax clamped to INT_MAX, shmall cut to 32 bits
    want = {k: sysv.info_as_seen(k, proc[k]) for k in info}
    by_abi = {k: (proc[k], want[k]) for k in info if want[k] != proc[k]}
    if by_abi:
        observe("compat_ipc_info", by_abi)
        verdict_note(f"expected by ABI: this {sysv.ABI.name} process on a 64-bit kernel gets the compat "
                     f"IPC_INFO, (proc, seen) {by_abi}")
    differ = {k: (want[k], v) for k, v in info.items() if want[k] != v}
    assert not differ, f"expected IPC_INFO to equal /proc/sys/kernel, (expected, IPC_INFO) differ: {differ}"


@pytest.mark.claim("sysv.limits")
def test_proc_matches_ipcs(kernel, spawn, observe):
    """ipcs -l shows the /proc/sys/kernel values (shmmax in kbytes)."""
    if shutil.which("ipcs") is None:
        pytest.skip("needs util-linux's ipcs (not installed on this host)")
    proc = _proc(kernel)
    status, out, err = spawn.run(sv.run_tool, ["ipcs", "-l"], name="ipcs").unwrap()
    assert status == 0, f"ipcs -l failed with status {status}: {err.strip()}"
    shown = sv.parse_ipcs_limits(out)
    want = {k: proc[k] for k in ("msgmax", "msgmnb", "msgmni", "shmmni", "semmni", "semmsl", "semmns", "semopm")}
    want["shmmax_kb"] = proc["shmmax"] // 1024
    differ = {k: (v, shown.get(k)) for k, v in want.items() if shown.get(k) != v}
    observe("ipcs_shmall_kb", shown.get("shmall_kb"))
    assert not differ, f"expected ipcs -l to show the /proc values, (proc, ipcs) differ: {differ}"
