"""pipe.coprocess, pipe.dup2_filter: filters wired to pipes with dup2 — a coprocess talked to
over two pipes, and `ls | wc -l` built from pipe, dup2 and exec."""
import os

import pytest

from fixtures import libc
from fixtures.pipes import close_all, read_line, read_to_eof


def _wire(stdin_fd, stdout_fd: int, *close: int) -> None:
    """Make stdin_fd (unless None) and stdout_fd this process's 0 and 1, and close every other
    copy of the pipe ends."""
    if stdin_fd is not None:
        os.dup2(stdin_fd, 0)
    os.dup2(stdout_fd, 1)
    close_all(*close)


def _python_upcase_filter():
    """A filter that answers each line at once: read(2) byte by byte, write(2) per line."""
    lines = 0
    line = b""
    while byte := libc.read(0, 1):
        line += byte
        if byte == b"\n":
            libc.write(1, line.upper())
            lines, line = lines + 1, b""
    return lines


def _shell_upcase_filter():
    # dash/bash `read` takes stdin a byte at a time, and tr exits (flushing) after each line.
    os.execv("/bin/sh", ["sh", "-c", 'while IFS= read -r l; do printf "%s\\n" "$l" | tr a-z A-Z; done'])


def _coprocess(filter_func, req_r, req_w, ans_r, ans_w):
    _wire(req_r, ans_w, req_r, req_w, ans_r, ans_w)
    return filter_func()


@pytest.mark.claim("pipe.coprocess")
@pytest.mark.parametrize("filter_func", [_python_upcase_filter, _shell_upcase_filter],
                         ids=["python-read-write-loop", "sh-read-tr-loop"])
def test_two_way_dialogue(spawn, observe, filter_func):
    """Each line sent down one pipe comes back upcased on the other while the coprocess keeps running."""
    req_r, req_w = os.pipe()
    ans_r, ans_w = os.pipe()
    answers = []
    try:
        coproc = spawn(_coprocess, filter_func, req_r, req_w, ans_r, ans_w, name="coprocess")
        close_all(req_r, ans_w)  # else the coprocess would never see EOF, nor we
        for word in (b"one", b"two", b"three"):
            coproc.wait_blocked("read", what="coprocess waiting for a request")
            libc.write(req_w, word + b"\n")
            answers.append(read_line(ans_r, what="coprocess"))
        os.close(req_w)
        req_w = None
        tail = read_to_eof(ans_r, what="coprocess after its input closed")
        ended = coproc.result(5)
    finally:
        close_all(*(fd for fd in (req_r, req_w, ans_r, ans_w) if fd is not None))
    observe("answers", [a.decode() for a in answers])
    assert answers == [b"ONE\n", b"TWO\n", b"THREE\n"], (
        f"expected the coprocess to answer ONE, TWO, THREE one by one, it answered {answers}")
    assert tail == b"" and ended.exitcode == 0 and ended.error is None, (
        f"closing the request pipe should end the coprocess cleanly, it {ended} "
        f"(trailing output {tail!r})")


def _exec_filter(argv, stdin_fd, stdout_fd, *close):
    _wire(stdin_fd, stdout_fd, *close)
    os.execvp(argv[0], argv)


@pytest.mark.claim("pipe.dup2_filter")
@pytest.mark.parametrize("entries", [0, 3, 20])
def test_ls_pipe_wc(spawn, ipc, observe, entries):
    """ls writing into a pipe (dup2 onto stdout) and wc -l reading it (dup2 onto stdin) count the entries.

    ls prints one name per line because its stdout is not a terminal."""
    directory = os.path.join(ipc.dir, "listed")
    os.mkdir(directory)
    for i in range(entries):
        open(os.path.join(directory, f"entry-{i}"), "w").close()
    pipe_r, pipe_w = os.pipe()
    out_r, out_w = os.pipe()
    try:
        ls = spawn(_exec_filter, ["ls", directory], None, pipe_w,
                   pipe_r, pipe_w, out_r, out_w, name="ls")
        wc = spawn(_exec_filter, ["wc", "-l"], pipe_r, out_w, pipe_r, pipe_w, out_r, out_w,
                   name="wc -l")
        # The parent's copy of the write end must go too, or wc never sees EOF.
        close_all(pipe_r, pipe_w, out_w)
        counted = read_to_eof(out_r, what="wc -l")
        ls_end, wc_end = ls.result(5), wc.result(5)
    finally:
        close_all(pipe_r, pipe_w, out_r, out_w)
    observe("wc_output", counted.decode().strip())
    assert (ls_end.exitcode, wc_end.exitcode) == (0, 0), f"ls {ls_end}, wc -l {wc_end}"
    assert counted.strip() == str(entries).encode(), (
        f"expected `ls | wc -l` over {entries} entries to print {entries}, it printed {counted!r}")
