"""The real suites on simulated platforms (fixtures.simulate): a kernel without /proc/PID/syscall,
without wchan too, a /proc/PID/status without signal masks, no /proc/sys. The same behaviour
must give the same verdicts, with the weaker proof or the documented default recorded."""
import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# blocking claims of several kinds (pipe read/write, FIFO open, msgsnd, fcntl, signals) and
# the ones that read sysctls
SELECTION = ["suites/pipe/test_blocking.py", "suites/fifo/test_fifo_open.py", "suites/psem",
             "suites/sysvmsg/test_sysvmsg_full.py", "suites/lock/test_fcntl_conflict.py",
             "suites/signal", "suites/pipe/test_setpipe_sz.py", "suites/sysvmsg/test_sysvmsg_init.py"]


def _run(tmp_path, simulate: str) -> dict:
    record = tmp_path / "record.json"
    env = dict(os.environ, IPCC_SIMULATE=simulate)
    for name in ("IPCC_RUN_TOKEN", "IPCC_RUN_DIR", "PYTEST_XDIST_WORKER"):
        env.pop(name, None)
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-n", "0", "-p", "no:cacheprovider",
                           f"--record={record}", *SELECTION], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)
    assert record.exists(), proc.stdout[-3000:] + proc.stderr[-2000:]
    return json.loads(record.read_text())


@pytest.mark.timeout(300)  # a whole pytest run of the selection, on a machine that may be busy
@pytest.mark.parametrize("simulate, rung", [
    ("proc-syscall", "wchan"),
    ("proc-syscall,proc-wchan", "sleeping"),
    ("proc-syscall,proc-wchan,status-signals,sysctl", "sleeping"),
], ids=["no-syscall", "no-syscall-no-wchan", "gvisor-like"])
def test_same_verdicts_with_a_weaker_view(tmp_path, simulate, rung):
    record = _run(tmp_path, simulate)
    bad = {c["id"]: c["reason"] for c in record["claims"] if c["verdict"] in ("violated", "error")}
    if "sysctl" in simulate:  # a kernel whose config has CONFIG_SYSVIPC_SYSCTL=y must show them
        bad.pop("sysv.limits", None)
    assert not bad, f"a missing /proc view changed verdicts: {bad}"
    proofs = {v for c in record["claims"] for k, v in c["observed"].items()
              if k.startswith("blocking_proof")}
    assert rung in proofs and "syscall" not in proofs, proofs
    if "sysctl" in simulate:
        reasons = " ".join(c["reason"] for c in record["claims"])
        assert "/proc/sys/fs/pipe-max-size is absent: used the documented default 1048576" in reasons
