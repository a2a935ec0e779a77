"""pmq.fd: on Linux an mqd_t is a file descriptor that poll, select and epoll accept, reporting it
readable when a message is queued and writable while there is room."""
import os
import select
import stat

import pytest


def _poll(fd):
    p = select.poll()
    p.register(fd, select.POLLIN | select.POLLOUT)
    ev = dict(p.poll(0)).get(fd, 0)
    return bool(ev & select.POLLIN), bool(ev & select.POLLOUT)


def _select(fd):
    r, w, _ = select.select([fd], [fd], [], 0)
    return fd in r, fd in w


def _epoll(fd):
    ep = select.epoll()
    try:
        ep.register(fd, select.EPOLLIN | select.EPOLLOUT)
        ev = dict(ep.poll(0)).get(fd, 0)
    finally:
        ep.close()
    return bool(ev & select.EPOLLIN), bool(ev & select.EPOLLOUT)


WAYS = {"poll": _poll, "select": _select, "epoll": _epoll}
# (messages queued in a 2-message queue, (readable, writable) expected)
STATES = [(0, (False, True)), (1, (True, True)), (2, (True, False))]


@pytest.mark.claim("pmq.fd")
def test_descriptor_is_a_file(mq, observe):
    """fstat of an mqd_t works: it is a regular file of the mqueue file system."""
    q = mq.create(2, 16)
    st = os.fstat(q.mqd)
    observe("st_mode", oct(st.st_mode))
    assert stat.S_ISREG(st.st_mode), f"expected fstat(mqd) to be a regular file, st_mode is {oct(st.st_mode)}"


@pytest.mark.claim("pmq.fd")
@pytest.mark.parametrize("way", list(WAYS))
def test_readiness_follows_the_queue(mq, observe, way):
    """Empty: writable only; one of two messages: readable and writable; full: readable only."""
    q = mq.create(2, 16)
    seen = []
    for queued, _ in STATES:
        while q.curmsgs() < queued:
            q.send(b"m")
        seen.append(WAYS[way](q.mqd))
    observe("readable, writable", [list(s) for s in seen])
    want = [w for _, w in STATES]
    assert seen == want, (f"expected {way} to report (readable, writable) {want} for 0, 1 and 2 of 2 "
                          f"messages, it reported {seen}")
