"""Fetch Debian kernel images for the kernel comparison, without touching the system's apt.

    python -m tools.kernels.fetch [--cache DIR] [5.10 6.1 6.12 sid 6.12-arm64 6.12-arm64-16k ...]

A series name (``SERIES``) says which Debian suites, architecture and flavour it
takes its kernel from: for each, the newest version of the ``linux-image-<flavour>``
metapackage in those suites (``apt-cache madison``), and the image package it
depends on, unsigned when Debian has that (``linux-image-<abi>-<flavour>-unsigned``).
``apt-get download`` fetches it and ``dpkg-deb -x`` unpacks it into
``<cache>/<release>/``, which then holds ``boot/vmlinuz-<release>``,
``boot/config-<release>`` and ``lib/modules/<release>/``.  The vmlinuz paths are
printed one per line on stdout (and nothing else), so they can be handed to the
runner: ``python -m tools.kernels.run $(python -m tools.kernels.fetch)``
(``./ipcc kernels NAME...`` does both).

apt runs with its own sources list (``tools/kernels/apt/<arch>.list``), lists, cache
and an empty dpkg status file under ``<cache>/apt/<arch>/`` (``-o Dir::...``), so
``/etc/apt`` and ``/var/lib/apt`` stay as they are and no root-owned lock of the
system's apt is taken.  The cache defaults to ``$IPC_KERNEL_CACHE`` or
``/var/tmp/ipc-conformance/kernels``; it is outside the work tree on purpose:
kernels are never committed.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import re
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
APT_DIR = HERE / "apt"
DEFAULT_CACHE = Path(os.environ.get("IPC_KERNEL_CACHE", "/var/tmp/ipc-conformance/kernels"))
DEFAULT_SERIES = ("5.10", "6.1", "6.12")


@dataclasses.dataclass(frozen=True)
class Series:
    name: str
    arch: str                 # Debian architecture of the private apt world
    flavour: str              # linux-image-<flavour> is the metapackage
    suites: tuple[str, ...]   # the suites whose versions count
    prefix: str | None        # upstream version prefix ("6.1" is not 6.12); None: the newest
    note: str
    extra_meta: tuple[str, ...] = ()   # more metapackages (a suite's second kernel line)

    @property
    def metapackages(self) -> tuple[str, ...]:
        return (f"linux-image-{self.flavour}", *self.extra_meta)


SERIES = {s.name: s for s in (
    Series("5.10", "amd64", "amd64", ("bullseye", "bullseye-security"), "5.10",
           "Debian 11 (bullseye): CONFIG_MANDATORY_FILE_LOCKING still compiled in"),
    Series("6.1", "amd64", "amd64", ("bookworm", "bookworm-security"), "6.1", "Debian 12 (bookworm)"),
    Series("6.12", "amd64", "amd64", ("bookworm", "bookworm-security", "bookworm-backports"), "6.12",
           "Debian 12's 6.12 (bookworm-security's linux-image-6.12-amd64, or bookworm-backports)",
           ("linux-image-6.12-amd64",)),
    Series("sid", "amd64", "amd64", ("sid",), None, "Debian unstable's newest kernel"),
    Series("6.12-arm64", "arm64", "arm64", ("trixie", "trixie-security"), "6.12",
           "Debian 13 (trixie) for ARMv8, 4 KiB pages"),
    Series("6.12-arm64-16k", "arm64", "arm64-16k", ("trixie", "trixie-security"), "6.12",
           "Debian 13 (trixie) for ARMv8 with 16 KiB pages"),
)}
# kept for callers that read the notes by name
SERIES_NOTES = {name: s.note for name, s in SERIES.items()}


def log(msg: str) -> None:
    print(f"fetch: {msg}", file=sys.stderr, flush=True)


def sources_list(arch: str) -> Path:
    return APT_DIR / f"{arch}.list"


def apt_base(cache: Path, arch: str) -> Path:
    return cache / "apt" / arch


def apt_options(cache: Path, arch: str = "amd64", sources: Path | None = None) -> list[str]:
    """The -o options that give apt a private world under <cache>/apt/<arch>."""
    base = apt_base(cache, arch)
    return [
        "-o", f"Dir::Etc::sourcelist={sources or sources_list(arch)}",
        "-o", f"Dir::Etc::sourceparts={base / 'sources.list.d'}",
        "-o", f"Dir::State::lists={base / 'lists'}",
        "-o", f"Dir::State::status={base / 'status'}",
        "-o", f"Dir::Cache={base / 'cache'}",
        "-o", "Dir::Cache::pkgcache=",
        "-o", "Dir::Cache::srcpkgcache=",
        "-o", "Debug::NoLocking=1",
        "-o", "APT::Get::List-Cleanup=0",
        "-o", f"APT::Architecture={arch}",
        "-o", f"APT::Architectures={arch}",
    ]


def prepare_apt_dirs(cache: Path, arch: str = "amd64") -> None:
    base = apt_base(cache, arch)
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
    """(version, image package) pairs from ``apt-cache show linux-image-<flavour>``."""
    pairs = []
    for stanza in show_output.split("\n\n"):
        version = re.search(r"^Version: (\S+)", stanza, re.M)
        # sid's lists linux-base-<flavour> first: the image is the first linux-image- one
        depends = re.search(r"^Depends:(?:.*?[\s,])?(linux-image-[^\s,(]+)", stanza, re.M)
        if version and depends:
            pairs.append((version.group(1), depends.group(1)))
    return pairs


def parse_madison(output: str) -> list[tuple[str, str]]:
    """(version, suite) pairs from ``apt-cache madison``:
    ``linux-image-arm64-16k | 6.12.118-1 | http://... trixie-security/main arm64 Packages``."""
    pairs = []
    for line in output.splitlines():
        fields = [f.strip() for f in line.split("|")]
        if len(fields) == 3:
            m = re.search(r"\s(\S+?)/\S+\s+\S+\s+Packages$", " " + fields[2])
            if m:
                pairs.append((fields[1], m.group(1)))
    return pairs


def pick_package(series: str | Series, pairs: list[tuple[str, str]],
                 suites: list[tuple[str, str]] | None = None) -> str | None:
    """The unsigned image package behind the newest metapackage version of ``series``.

    ``series`` "6.1" matches versions 6.1.x but not 6.12.x.  With ``suites`` (madison's
    (version, suite) pairs) only versions from the series' suites count.
    """
    if isinstance(series, str):
        series = SERIES.get(series) or Series(series, "amd64", "amd64", (), series, series)
    allowed = None
    if suites is not None and series.suites:
        allowed = {v for v, s in suites if s in series.suites}
    found = [(_version_key(v), pkg) for v, pkg in pairs
             if (series.prefix is None or v.startswith(series.prefix + "."))
             and (allowed is None or v in allowed)]
    if not found:
        return None
    return max(found)[1] + "-unsigned"


def find_vmlinuz(root: Path) -> Path | None:
    images = sorted((root / "boot").glob("vmlinuz-*"))
    return images[-1] if images else None


def run(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    log("$ " + " ".join(str(c) for c in cmd))
    return subprocess.run(cmd, check=True, **kw)


def unknown_series(names: list[str]) -> list[str]:
    return [n for n in names if n not in SERIES]


def _download(opts: list[str], pkg: str, debs: Path, *alternatives: str) -> Path:
    """apt-get download pkg, else the first alternative that downloads (the -unsigned
    image, else the signed one: both hold the vmlinuz)."""
    if not alternatives and pkg.endswith("-unsigned"):
        alternatives = (pkg[:-len("-unsigned")],)
    names = (pkg, *alternatives)
    for name in names:
        for old in debs.glob(f"{name}_*.deb"):
            old.unlink()
        try:
            run(["apt-get", *opts, "-q", "download", name], cwd=debs, stdout=sys.stderr)
        except subprocess.CalledProcessError:
            if name == names[-1]:
                raise
            log(f"{name}: not downloadable; trying {names[names.index(name) + 1]}")
            continue
        return sorted(debs.glob(f"{name}_*.deb"))[-1]
    raise FileNotFoundError(pkg)


def split_parts(depends: str, release: str) -> list[tuple[str, ...]]:
    """The parts a split image package (Debian 14 on: linux-image-<release> holds no
    vmlinuz) depends on, each with its alternatives: the unsigned binary before the signed
    one, the modules, the base files (config, System.map)."""
    names = [d.strip().split()[0] for d in re.split(r"[,|]", depends) if d.strip()]
    parts = []
    for name in names:
        if name == f"linux-binary-{release}":
            parts.append((f"linux-binary-unsigned-{release}", name))
        elif name in (f"linux-modules-{release}", f"linux-base-{release}"):
            parts.append((name,))
    return parts


def unpack_image(opts: list[str], pkg: str, release: str, debs: Path, dest: Path) -> None:
    """Download and dpkg-deb -x the image package into dest, and, for a split image
    package, the parts that hold the vmlinuz, modules and config."""
    deb = _download(opts, pkg, debs)
    run(["dpkg-deb", "-x", str(deb), str(dest)])
    if find_vmlinuz(dest) is not None:
        return
    depends = subprocess.run(["dpkg-deb", "-f", str(deb), "Depends"], check=True,
                             capture_output=True, text=True).stdout
    for part in split_parts(depends, release):
        run(["dpkg-deb", "-x", str(_download(opts, *part[:1], debs, *part[1:])), str(dest)])
    classic_boot(dest, release)


def classic_boot(root: Path, release: str) -> None:
    """Give a split package's tree (usr/lib/modules/<release>/{vmlinuz[.unsigned],config,
    System.map}) the classic boot/vmlinuz-<release> and boot/config-<release> the runner
    and the guest read, as hard links (a symlink would resolve back to the unnamed file)."""
    moddir = root / "usr" / "lib" / "modules" / release
    boot = root / "boot"
    pairs = [(next((moddir / n for n in ("vmlinuz", "vmlinuz.unsigned") if (moddir / n).is_file()),
                   None), f"vmlinuz-{release}"),
             (moddir / "config", f"config-{release}"), (moddir / "System.map", f"System.map-{release}")]
    for src, name in pairs:
        if src is not None and src.is_file() and not (boot / name).exists():
            boot.mkdir(exist_ok=True)
            os.link(src, boot / name)


def fetch(series_list: list[str], cache: Path, update: bool = True) -> list[Path]:
    """Fetch and unpack each named series; the vmlinuz paths, in the order asked
    (a series with no kernel in its suites is left out, with a line on stderr)."""
    return list(fetch_named(series_list, cache, update).values())


def fetch_named(series_list: list[str], cache: Path, update: bool = True) -> dict[str, Path]:
    """{series name: vmlinuz} for each named series that could be fetched."""
    bad = unknown_series(series_list)
    if bad:
        raise ValueError("unknown kernel series " + ", ".join(bad) + " (known: "
                         + ", ".join(SERIES) + ")")
    cache.mkdir(parents=True, exist_ok=True)
    images: dict[str, Path] = {}
    meta: dict[tuple[str, str], tuple[list, list]] = {}
    updated: set[str] = set()
    for name in series_list:
        series = SERIES[name]
        prepare_apt_dirs(cache, series.arch)
        opts = apt_options(cache, series.arch)
        lists = apt_base(cache, series.arch) / "lists"
        if series.arch not in updated and (update or not any(lists.glob("*Packages*"))):
            run(["apt-get", *opts, "-q", "update"], stdout=sys.stderr)
            updated.add(series.arch)
        pairs, suites = [], []
        for metapkg in series.metapackages:
            key = (series.arch, metapkg)
            if key not in meta:
                show = subprocess.run(["apt-cache", *opts, "show", metapkg],
                                      capture_output=True, text=True).stdout
                madison = subprocess.run(["apt-cache", *opts, "madison", metapkg],
                                         capture_output=True, text=True).stdout
                meta[key] = (parse_metapackage(show), parse_madison(madison))
            pairs += meta[key][0]
            suites += meta[key][1]
        pkg = pick_package(series, pairs, suites)
        if pkg is None:
            log(f"no {' or '.join(series.metapackages)} for {name} in "
                f"{', '.join(series.suites)}; skipped")
            continue
        release = pkg[len("linux-image-"):-len("-unsigned")]
        root = cache / release
        vmlinuz = find_vmlinuz(root) if root.is_dir() else None
        if vmlinuz is None:
            debs = cache / "debs"
            debs.mkdir(exist_ok=True)
            tmp = cache / f".{release}.partial"
            subprocess.run(["rm", "-rf", str(tmp)], check=True)
            unpack_image(opts, pkg, release, debs, tmp)
            subprocess.run(["rm", "-rf", str(root)], check=True)
            tmp.rename(root)
            vmlinuz = find_vmlinuz(root)
        else:
            log(f"{pkg}: already unpacked in {root}")
        if vmlinuz is None:
            log(f"{pkg}: no boot/vmlinuz-* in the package; skipped")
            continue
        log(f"{name}: {vmlinuz} ({series.note})")
        images[name] = vmlinuz
    return images


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tools.kernels.fetch", description=__doc__.split("\n\n")[0])
    ap.add_argument("series", nargs="*", default=list(DEFAULT_SERIES),
                    help=f"kernel series to fetch (default: {' '.join(DEFAULT_SERIES)}; "
                         f"known: {' '.join(SERIES)})")
    ap.add_argument("--cache", type=Path, default=DEFAULT_CACHE,
                    help=f"cache directory (default: {DEFAULT_CACHE}; env IPC_KERNEL_CACHE)")
    ap.add_argument("--no-update", action="store_true",
                    help="reuse the private package lists if present instead of apt-get update")
    args = ap.parse_args(argv)
    try:
        images = fetch(args.series, args.cache.resolve(), update=not args.no_update)
    except ValueError as exc:
        log(str(exc))
        return 2
    except (subprocess.CalledProcessError, FileNotFoundError) as exc:
        log(f"failed: {exc}")
        return 2
    for image in images:
        print(image)
    return 0 if len(images) == len(args.series) else 1


if __name__ == "__main__":
    sys.exit(main())
