"""Fetch Debian kernel images for the kernel comparison, without touching the system's apt.

    python -m tools.kernels.fetch [--cache DIR] [5.10 6.1 6.12 ...]

For each wanted series it takes the newest version of the ``linux-image-amd64``
metapackage in that series known to the private apt sources, and downloads the
unsigned image package it depends on (``linux-image-<abi>-amd64-unsigned``);
the sources are ``tools/kernels/apt/sources.list`` (Debian 11 for 5.10,
Debian 12 for 6.1, bookworm-backports for 6.12).  ``apt-get download`` fetches
it and ``dpkg-deb -x`` unpacks it with ``dpkg-deb -x`` into
``<cache>/<release>/``, which then holds ``boot/vmlinuz-<release>``,
``boot/config-<release>`` and ``lib/modules/<release>/``.  The vmlinuz paths are
printed one per line on stdout (and nothing else), so they can be handed to the
runner: ``python -m tools.kernels.run $(python -m tools.kernels.fetch)``.

apt runs with its own sources list, lists, cache and an empty dpkg status file
under ``<cache>/apt/`` (``-o Dir::...``), so ``/etc/apt`` and ``/var/lib/apt``
stay as they are and no root-owned lock of the system's apt is taken.
The cache defaults to ``$IPC_KERNEL_CACHE`` or ``/var/tmp/ipc-conformance/kernels``;
it is outside the work tree on purpose: kernels are never committed.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SOURCES_LIST = HERE / "apt" / "sources.list"
DEFAULT_CACHE = Path(os.environ.get("IPC_KERNEL_CACHE", "/var/tmp/ipc-conformance/kernels"))
DEFAULT_SERIES = ("5.10", "6.1", "6.12")
ARCH = "amd64"

# series -> why it is in the default set
SERIES_NOTES = {
    "5.10": "Debian 11 (bullseye): CONFIG_MANDATORY_FILE_LOCKING still compiled in",
    "6.1": "Debian 12 (bookworm)",
    "6.12": "bookworm-backports",
}


def log(msg: str) -> None:
    print(f"fetch: {msg}", file=sys.stderr, flush=True)


def apt_options(cache: Path, sources: Path = SOURCES_LIST) -> list[str]:
    """The -o options that give apt a private world under <cache>/apt."""
    base = cache / "apt"
    return [
        "-o", f"Dir::Etc::sourcelist={sources}",
        "-o", f"Dir::Etc::sourceparts={base / 'sources.list.d'}",
        "-o", f"Dir::State::lists={base / 'lists'}",
        "-o", f"Dir::State::status={base / 'status'}",
        "-o", f"Dir::Cache={base / 'cache'}",
        "-o", "Dir::Cache::pkgcache=",
        "-o", "Dir::Cache::srcpkgcache=",
        "-o", "Debug::NoLocking=1",
        "-o", "APT::Get::List-Cleanup=0",
        "-o", f"APT::Architecture={ARCH}",
        "-o", f"APT::Architectures={ARCH}",
    ]


def prepare_apt_dirs(cache: Path) -> None:
    base = cache / "apt"
    for sub in ("sources.list.d", "lists/partial", "cache/archives/partial"):
        (base / sub).mkdir(parents=True, exist_ok=True)
    (base / "status").touch()


def _version_key(text: str) -> tuple:
    """Good-enough Debian version order for kernel versions (numbers compare as numbers, ~ sorts first)."""
    parts = []
    for tok in re.split(r"(\d+)", text):
        if tok.isdigit():
            parts.append((1, int(tok), ""))
        elif tok:
            parts.append((0 if tok.startswith("~") else 2, 0, tok))
    return tuple(parts)


def parse_metapackage(show_output: str) -> list[tuple[str, str]]:
    """(version, image package) pairs from ``apt-cache show linux-image-amd64``."""
    pairs = []
    for stanza in show_output.split("\n\n"):
        version = re.search(r"^Version: (\S+)", stanza, re.M)
        depends = re.search(r"^Depends: (linux-image-[^\s,(]+)", stanza, re.M)
        if version and depends:
            pairs.append((version.group(1), depends.group(1)))
    return pairs


def pick_package(series: str, pairs: list[tuple[str, str]]) -> str | None:
    """The unsigned image package behind the newest ``linux-image-amd64`` of ``series``.

    ``series`` "6.1" matches versions 6.1.x but not 6.12.x.
    """
    found = [(_version_key(v), pkg) for v, pkg in pairs if v.startswith(series + ".")]
    if not found:
        return None
    return max(found)[1] + "-unsigned"


def find_vmlinuz(root: Path) -> Path | None:
    images = sorted((root / "boot").glob("vmlinuz-*"))
    return images[-1] if images else None


def run(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    log("$ " + " ".join(str(c) for c in cmd))
    return subprocess.run(cmd, check=True, **kw)


def fetch(series_list: list[str], cache: Path, update: bool = True) -> list[Path]:
    cache.mkdir(parents=True, exist_ok=True)
    prepare_apt_dirs(cache)
    opts = apt_options(cache)
    if update or not any((cache / "apt" / "lists").glob("*Packages*")):
        run(["apt-get", *opts, "-q", "update"], stdout=sys.stderr)
    pairs = parse_metapackage(subprocess.run(
        ["apt-cache", *opts, "show", f"linux-image-{ARCH}"],
        check=True, capture_output=True, text=True,
    ).stdout)
    debs = cache / "debs"
    debs.mkdir(exist_ok=True)
    images = []
    for series in series_list:
        pkg = pick_package(series, pairs)
        if pkg is None:
            log(f"no linux-image-{ARCH} {series}.x in the private sources; skipped")
            continue
        release = pkg[len("linux-image-"):-len("-unsigned")]
        root = cache / release
        vmlinuz = find_vmlinuz(root) if root.is_dir() else None
        if vmlinuz is None:
            for old in debs.glob(f"{pkg}_*.deb"):
                old.unlink()
            run(["apt-get", *opts, "-q", "download", pkg], cwd=debs, stdout=sys.stderr)
            deb = sorted(debs.glob(f"{pkg}_*.deb"))[-1]
            tmp = cache / f".{release}.partial"
            subprocess.run(["rm", "-rf", str(tmp)], check=True)
            run(["dpkg-deb", "-x", str(deb), str(tmp)])
            tmp.rename(root)
            vmlinuz = find_vmlinuz(root)
        else:
            log(f"{pkg}: already unpacked in {root}")
        if vmlinuz is None:
            log(f"{pkg}: no boot/vmlinuz-* in the package; skipped")
            continue
        log(f"{series}: {vmlinuz} ({SERIES_NOTES.get(series, pkg)})")
        images.append(vmlinuz)
    return images


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tools.kernels.fetch", description=__doc__.split("\n\n")[0])
    ap.add_argument("series", nargs="*", default=list(DEFAULT_SERIES),
                    help=f"kernel series to fetch (default: {' '.join(DEFAULT_SERIES)})")
    ap.add_argument("--cache", type=Path, default=DEFAULT_CACHE,
                    help=f"cache directory (default: {DEFAULT_CACHE}; env IPC_KERNEL_CACHE)")
    ap.add_argument("--no-update", action="store_true",
                    help="reuse the private package lists if present instead of apt-get update")
    args = ap.parse_args(argv)
    try:
        images = fetch(args.series, args.cache.resolve(), update=not args.no_update)
    except (subprocess.CalledProcessError, FileNotFoundError) as exc:
        log(f"failed: {exc}")
        return 2
    for image in images:
        print(image)
    return 0 if len(images) == len(args.series) else 1


if __name__ == "__main__":
    sys.exit(main())
