"""The receiving side of unix.scm_rights, run in a forked child or as a program of its own
(`python -I -S unix_fd_receiver.py SOCKET_PATH`: connects there, receives one descriptor,
writes its report back as JSON and exits). Only the standard library: an exec'd receiver has
none of the suite's modules."""
import fcntl
import json
import os
import socket
import sys


def receive_and_report(sock: socket.socket) -> dict:
    """Take one descriptor from an SCM_RIGHTS message on `sock`; say what it refers to, read two
    bytes through it (moving the shared offset) and set O_APPEND on it (a shared status flag)."""
    _, fds, _, _ = socket.recv_fds(sock, 16, 1)
    if len(fds) != 1:
        return {"descriptors": len(fds)}
    fd = fds[0]
    st = os.fstat(fd)
    report = {"descriptors": 1, "fd": fd, "dev": st.st_dev, "ino": st.st_ino,
              "offset": os.lseek(fd, 0, os.SEEK_CUR),
              "nonblock": bool(fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_NONBLOCK)}
    report["read"] = os.read(fd, 2).decode()
    fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) | os.O_APPEND)
    os.close(fd)
    return report


def main(path: str) -> int:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.connect(path)
        sock.sendall(json.dumps(receive_and_report(sock)).encode())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
