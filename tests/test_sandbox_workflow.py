"""The gVisor job of .github/workflows/conformance.yml runs the one command a user runs."""

from __future__ import annotations

from pathlib import Path

import pytest

yaml = pytest.importorskip("yaml", reason="PyYAML is needed to read the workflows "
                           "(pip install -e '.[dev]'; ./ipcc test does)")

WORKFLOW = Path(__file__).resolve().parents[1] / ".github" / "workflows" / "conformance.yml"


@pytest.fixture(scope="module")
def job() -> dict:
    return yaml.safe_load(WORKFLOW.read_text())["jobs"]["gvisor"]


def run_steps(job: dict) -> str:
    return "\n".join(step.get("run", "") for step in job["steps"])


def test_gvisor_job_runs_ipcc_sandbox_runsc_as_root(job):
    script = run_steps(job)
    assert "sudo env \"PATH=$PATH\" ./ipcc sandbox runsc" in script
    assert "debian-archive-keyring" in script       # the private apt sources are signed by it


def test_gvisor_findings_are_not_a_broken_run(job):
    """Exit 1 (claims violated under gVisor) is a finding; only 2 (set-up failure) fails the job."""
    assert '[ "$status" -le 1 ]' in run_steps(job)


def test_gvisor_record_is_uploaded_even_on_failure(job):
    upload = [s for s in job["steps"] if str(s.get("uses", "")).startswith("actions/upload-artifact")]
    assert upload and upload[0].get("if") == "always()"
    assert upload[0]["with"]["path"].rstrip("/") == "reports/out/sandbox/runsc"
    assert upload[0]["with"]["name"].startswith("record-")   # the compare job's pattern
    assert job["timeout-minutes"] <= 60
