"""A scratch catalogue and suite for running the suite's plugins in a pytester subprocess."""
import json
import textwrap

CONFTEST = '''
pytest_plugins = ["fixtures.verdict", "fixtures.kernel", "fixtures.ipc", "fixtures.procs",
                  "fixtures.leaks",
                  "fixtures.privilege", "fixtures.catalogue", "fixtures.record"]
'''

CLAIMS = '''
[[claim]]
id = "demo.holds"
claim = "A claim whose test passes."
sources = [{ document = "Linux IPC Notes", section = "Demo" }]
man = ["pipe(7)"]
severity = "normal"

[[claim]]
id = "demo.violated"
claim = "A claim the kernel contradicts."
sources = [{ document = "APUE Chapter 15 Notes", section = "Demo" }]
man = ["pipe(7)"]
severity = "critical"
erratum = { document = "APUE Chapter 15 Notes", section = "Demo", wording = "the source's words" }

[[claim]]
id = "demo.error"
claim = "A claim whose test breaks."
sources = [{ document = "Linux IPC Notes", section = "Demo" }]
man = ["pipe(7)"]
severity = "normal"

[[claim]]
id = "demo.absent"
claim = "A claim about an absent facility."
sources = [{ document = "Linux IPC Notes", section = "Demo" }]
man = ["pipe(7)"]
severity = "minor"
'''


def make_suite(pytester, tests: str, claims: str = CLAIMS) -> str:
    """Write the scratch suite; returns the suites directory to export as IPCC_SUITES_DIR."""
    pytester.makeconftest(CONFTEST)
    suites = pytester.path / "suites"
    (suites / "demo").mkdir(parents=True)
    (suites / "demo" / "claims.toml").write_text(claims)
    (suites / "demo" / "test_demo.py").write_text(textwrap.dedent(tests))
    return str(suites)


def run(pytester, monkeypatch, suites: str, *args):
    """Run the scratch suite in a subprocess; returns (result, record)."""
    monkeypatch.setenv("IPCC_SUITES_DIR", suites)
    monkeypatch.delenv("IPCC_RUN_TOKEN", raising=False)
    monkeypatch.delenv("IPCC_RUN_DIR", raising=False)
    record = pytester.path / "out" / "record.json"
    result = pytester.runpytest_subprocess("suites", f"--record={record}", "-p",
                                           "no:cacheprovider", *args, timeout=120)
    data = json.loads(record.read_text()) if record.exists() else None
    return result, data
