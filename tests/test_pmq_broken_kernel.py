"""The pmq claims on a kernel whose mq_unlink, mq_notify or priorities do nothing (simulated
by tests/broken_mqueue.py): each matching claim is violated, with a reason, and nothing hangs."""
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# one test of each claim that a do-nothing mq_unlink, mq_notify or priority must break
SELECTION = {
    "pmq.unlink_refcount": "suites/pmq/test_pmq_unlink_refcount.py::test_name_goes_at_once_queue_keeps_working",
    "pmq.notify.empty": "suites/pmq/test_pmq_notify_empty.py::test_fires_on_arrival_at_empty_queue",
    "pmq.notify.one": "suites/pmq/test_pmq_notify_one.py::test_second_process_gets_ebusy",
    "pmq.priority": "suites/pmq/test_pmq_priority.py::test_receive_order_is_priority_then_age",
}
BOUND = 60  # seconds (a hang is a TimeoutExpired): each notification wait is bounded by 2 s


def test_do_nothing_kernel_calls_are_violations(tmp_path):
    record = tmp_path / "record.json"
    env = dict(os.environ, IPCC_BROKEN_MQUEUE="unlink,notify,prio")
    for name in ("IPCC_RUN_TOKEN", "IPCC_RUN_DIR", "PYTEST_XDIST_WORKER"):
        env.pop(name, None)
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-n", "0", "-p", "no:cacheprovider",
                           "-p", "tests.broken_mqueue", f"--record={record}",
                           *[f"{path}[{cid}]" for cid, path in SELECTION.items()]],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=BOUND)
    assert record.exists(), proc.stdout[-3000:] + proc.stderr[-2000:]
    claims = {c["id"]: c for c in json.loads(record.read_text())["claims"]}
    verdicts = {cid: claims[cid]["verdict"] for cid in SELECTION if cid in claims}
    assert verdicts == {cid: "violated" for cid in SELECTION}, (verdicts, proc.stdout[-3000:])
    assert all(claims[cid]["reason"] for cid in SELECTION)
