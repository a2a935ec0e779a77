"""Run the conformance suite in other userspaces of the running kernel (debootstrap chroots).

``python -m tools.userspace.run debian:11 debian:13 debian:12/i386 [-- pytest args]``
(or ``./ipcc userspace ...``): builds each chroot once, runs the README's two commands
inside a private mount and IPC namespace, writes one record each and the comparison.
"""
