"""Secret-scanner benchmark: gonogo against detect-secrets, on the same files and cores.

Run by hand from the repository root (not part of the test suite)::

    python3 benchmarks/secrets.py                 # stdlib + git history + labelled corpus
    python3 benchmarks/secrets.py --peer-mb 0     # detect-secrets on the whole corpus (slow)

It measures, in one run:

1. throughput on the CPython standard library of this interpreter (site-packages left out):
   gonogo on all of it with 1 and N workers (N = the cores this process may use), and
   detect-secrets with N processes on a fixed sample of the same files (``--peer-mb``; it
   manages well under 1 MB/s, so the full library would take the better part of an hour),
   which gonogo scans too, so the ratio compares the same bytes;
2. throughput on the full history of the largest git repository found (``--repo``):
   gonogo's ``--history`` path (``git log -p --all``, streamed) and detect-secrets on the same
   added lines written out as files;
3. recall and precision on a labelled corpus: stdlib ``.py`` files copied to a temp folder
   with secrets of many kinds injected at known lines.

``rg`` (ripgrep), when installed, gives the read limit: a case-insensitive fixed-string
search for every rule keyword over the same stdlib files.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from multiprocessing import forkserver
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.secrets.tokens import cases  # noqa: E402

from gonogo.secrets import ScanRequest, run_scan  # noqa: E402
from gonogo.secrets.history import LogReader, scan_history  # noqa: E402
from gonogo.secrets.rules import builtin_rules  # noqa: E402

MB = 1_000_000


def text_files(root: Path) -> list[Path]:
    """Regular text files under ``root`` (no site-packages, no caches), sorted."""
    found = []
    for folder, dirs, names in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in {"site-packages", "__pycache__", ".git"})
        for name in sorted(names):
            path = Path(folder) / name
            if path.is_symlink() or not path.is_file():
                continue
            with path.open("rb") as handle:
                if b"\0" in handle.read(8000):
                    continue
            if path.stat().st_size <= 10 * 1024 * 1024:
                found.append(path)
    return found


def size(paths: Sequence[Path]) -> int:
    """Total bytes of ``paths``."""
    return sum(p.stat().st_size for p in paths)


def sample(paths: Sequence[Path], limit: int) -> list[Path]:
    """Every k-th file, so the sample spreads over the whole corpus, up to ``limit`` bytes."""
    if limit <= 0:
        return list(paths)
    step = max(1, round(size(paths) / limit))
    chosen, total = [], 0
    for path in paths[::step]:
        if total >= limit:
            break
        chosen.append(path)
        total += path.stat().st_size
    return chosen


def _cpu() -> float:
    """CPU seconds of this process and every reaped descendant."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def _reap_workers() -> None:
    """Stop multiprocessing's fork server, so its workers' CPU time is counted as ours."""
    server = getattr(forkserver, "_forkserver", None)
    if server is not None:
        server._stop()


@dataclass(frozen=True)
class Timing:
    """Wall-clock and CPU seconds of one measurement."""

    wall: float
    cpu: float


def timed(work: Callable[[], object]) -> Timing:
    """Wall-clock and CPU seconds (workers included) ``work`` took."""
    _reap_workers()
    cpu, start = _cpu(), time.perf_counter()
    work()
    wall = time.perf_counter() - start
    _reap_workers()
    return Timing(wall, _cpu() - cpu)


def gonogo_files(root: Path, files: Sequence[Path], jobs: int) -> object:
    """gonogo on exactly ``files`` (paths relative to ``root``)."""
    return run_scan(ScanRequest(root=root, paths=tuple(files), jobs=jobs))


def detect_secrets_files(root: Path, files: Sequence[Path], jobs: int) -> list[tuple[str, int]]:
    """detect-secrets (default plugins and filters) on exactly ``files``: (file, line) pairs."""
    from detect_secrets.core.baseline import create  # noqa: PLC0415 - peer, only here
    from detect_secrets.settings import default_settings  # noqa: PLC0415

    with default_settings():
        found = create(
            *[str(f) for f in files],
            should_scan_all_files=True,
            root=str(root),
            num_processors=jobs,
        )
        return [(name, secret.line_number) for name, secret in found]


def ripgrep(files: Sequence[Path]) -> Timing | None:
    """Seconds for ``rg`` to search every rule keyword in ``files``, or None without rg."""
    rg = shutil.which("rg")
    if rg is None:
        return None
    words = sorted({k for r in builtin_rules().rules for k in r.keywords})
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as listing:
        listing.write("\n".join(words) + "\n")

    def search() -> None:
        for i in range(0, len(files), 2000):
            subprocess.run(
                [rg, "-c", "-i", "-F", "-f", listing.name, *map(str, files[i : i + 2000])],
                capture_output=True,
                check=False,
            )

    spent = timed(search)
    os.unlink(listing.name)  # noqa: PTH108
    return spent


def history_bytes(repo: Path) -> int:
    """Bytes of ``git log -p --all -U0`` of ``repo`` (0 when it is not a repository)."""
    run = subprocess.run(
        ["git", "-C", str(repo), "log", "-p", "--all", "--no-color", "-U0"],
        capture_output=True,
        check=False,
    )
    return len(run.stdout) if run.returncode == 0 else 0


def largest_repo(candidates: Sequence[Path]) -> Path:
    """The candidate repository with the most history."""
    return max(candidates, key=history_bytes)


def added_lines_as_files(repo: Path, into: Path) -> tuple[list[Path], int]:
    """Each commit's added lines per file, written under ``into`` (detect-secrets' input)."""
    files, total = [], 0
    for i, fragment in enumerate(LogReader(repo).fragments()):
        path = into / f"{i:06}" / fragment.path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(fragment.data)
        files.append(path)
        total += len(fragment.data)
    return files, total


INJECT = {
    "github-pat": 'GITHUB_TOKEN = "{}"',
    "aws-access-key-id": 'AWS_ACCESS_KEY_ID = "{}"',
    "aws-secret-access-key": 'aws_secret_access_key = "{}"',
    "slack-bot-token": 'SLACK_BOT_TOKEN = "{}"',
    "slack-webhook-url": "WEBHOOK = '{}'",
    "stripe-secret-key": 'stripe.api_key = "{}"',
    "gcp-api-key": 'GOOGLE_API_KEY = "{}"',
    "openai-api-key": 'OPENAI_API_KEY = "{}"',
    "npm-access-token": 'NPM_TOKEN = "{}"',
    "sendgrid-api-key": 'SENDGRID_API_KEY = "{}"',
    "twilio-api-key": 'TWILIO_API_KEY = "{}"',
    "gitlab-pat": 'GITLAB_TOKEN = "{}"',
    "pypi-upload-token": 'TWINE_PASSWORD = "{}"',
    "jwt": 'AUTH_HEADER = "Bearer {}"',
    "private-key": 'PRIVATE_KEY = """{}"""',
    "database-url-password": "DATABASE_URL = '{}'",
    "url-credentials": "MIRROR = '{}'",
    "generic-api-key": 'payment_api_key = "{}"',
    "password-assignment": 'db_password = "{}"',
    "mailchimp-api-key": 'MAILCHIMP_KEY = "{}"',
}


def _value(rule: str, rnd: random.Random) -> str:
    """A fresh well-formed secret of kind ``rule`` as it would appear in code."""
    case = cases(rnd)[rule]
    if rule == "slack-webhook-url":
        return case.line.split("hook: ", 1)[1]
    if rule in {"database-url-password", "url-credentials"}:
        return case.line.split("'")[1] if "'" in case.line else case.line.split(" = ", 1)[1]
    if rule == "private-key":
        return case.line
    return case.secret


def labelled_corpus(
    files: Sequence[Path], into: Path, count: int, seed: int
) -> set[tuple[str, int]]:
    """Copy ``files`` under ``into`` and inject ``count`` secrets; returns (file, line) truths."""
    rnd = random.Random(seed)  # noqa: S311 - a repeatable corpus
    copies = []
    for i, source in enumerate(files):
        target = into / f"{i:04}_{source.name}"
        shutil.copyfile(source, target)
        copies.append(target)
    truth: dict[Path, list[tuple[int, str]]] = {}
    kinds = sorted(INJECT)
    for n in range(count):
        target = rnd.choice(copies)
        rule = kinds[n % len(kinds)]
        truth.setdefault(target, []).append((rnd.random(), INJECT[rule].format(_value(rule, rnd))))
    labels = set()
    for target, injections in truth.items():
        lines = target.read_text(encoding="utf-8", errors="surrogateescape").split("\n")
        at_lines = sorted(int(frac * len(lines)) for frac, _ in injections)
        snippets = [s for _, s in injections]
        for offset, (line_index, snippet) in enumerate(zip(at_lines, snippets, strict=True)):
            lines.insert(line_index + offset, snippet)
        target.write_text("\n".join(lines), encoding="utf-8", errors="surrogateescape")
        row = 1
        for text in lines:
            if text in snippets:
                labels.add((target.name, row))
            row += text.count("\n") + 1
    return labels


def score(found: set[tuple[str, int]], labels: set[tuple[str, int]]) -> tuple[float, float]:
    """Recall and precision of (file, line) findings against the labels."""
    hits = found & labels
    recall = len({lbl for lbl in labels if lbl in hits}) / len(labels)
    precision = len(hits) / len(found) if found else 1.0
    return recall, precision


def main(argv: Sequence[str] | None = None) -> int:  # noqa: PLR0915 - one report
    """Run every measurement and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--peer-mb", type=float, default=12, help="detect-secrets sample (MB; 0 = all)"
    )
    parser.add_argument("--repo", type=Path, action="append", help="git repositories to consider")
    parser.add_argument("--labelled-files", type=int, default=400)
    parser.add_argument("--secrets", type=int, default=200)
    args = parser.parse_args(argv)
    cores = len(os.sched_getaffinity(0))
    print(f"cores: {cores}; load average at start: {os.getloadavg()[0]:.1f}")

    stdlib = Path(sysconfig.get_paths()["stdlib"])
    files = text_files(stdlib)
    total = size(files)
    print(f"corpus A: {stdlib} ({len(files)} text files, {total / MB:.1f} MB)")
    one = timed(lambda: gonogo_files(stdlib, files, 1))
    many = timed(lambda: gonogo_files(stdlib, files, cores))
    rg = ripgrep(files)
    peer = sample(files, int(args.peer_mb * MB))
    peer_bytes = size(peer)
    gonogo_peer = timed(lambda: gonogo_files(stdlib, peer, cores))
    ds_peer = timed(lambda: detect_secrets_files(stdlib, peer, cores))

    repos = args.repo or [ROOT, Path.home() / ".pyenv"]
    repo = largest_repo([r for r in repos if (r / ".git").exists()])
    commits = subprocess.run(
        ["git", "-C", str(repo), "rev-list", "--all", "--count"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    with tempfile.TemporaryDirectory() as tmp:
        hist_files, hist_bytes = added_lines_as_files(repo, Path(tmp))
        g_hist = timed(lambda: scan_history(repo, builtin_rules(), jobs=cores))
        d_hist = timed(lambda: detect_secrets_files(Path(tmp), hist_files, cores))

    py_files = [f for f in files if f.suffix == ".py"]
    rnd = random.Random(7)  # noqa: S311 - a repeatable sample
    chosen = rnd.sample(py_files, min(args.labelled_files, len(py_files)))
    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp)
        labels = labelled_corpus(chosen, corpus, args.secrets, seed=11)
        copies = sorted(corpus.iterdir())
        result = run_scan(ScanRequest(root=corpus, paths=tuple(copies), jobs=cores))
        g_found = {(f.path, f.line) for f in result.findings}
        d_found = {(Path(n).name, line) for n, line in detect_secrets_files(corpus, copies, cores)}
        g_recall, g_precision = score(g_found, labels)
        d_recall, d_precision = score(d_found, labels)

    def rate(nbytes: int, spent: Timing) -> str:
        return f"{nbytes / MB / spent.wall:.2f} MB/s ({nbytes / MB / spent.cpu:.2f} MB/cpu-s)"

    def ratio(peer: Timing, ours: Timing) -> str:
        return f"{peer.wall / ours.wall:.0f}x ({peer.cpu / ours.cpu:.0f}x per cpu-s)"

    print()
    print("| measurement | gonogo | detect-secrets | ratio |")
    print("| --- | --- | --- | --- |")
    print(
        f"| stdlib sample, {peer_bytes / MB:.1f} MB in {len(peer)} files, {cores} cores "
        f"| {rate(peer_bytes, gonogo_peer)} | {rate(peer_bytes, ds_peer)} "
        f"| {ratio(ds_peer, gonogo_peer)} |"
    )
    print(
        f"| git history of {repo.name} ({commits} commits, {hist_bytes / MB:.1f} MB added), "
        f"{cores} cores | {rate(hist_bytes, g_hist)} | {rate(hist_bytes, d_hist)} "
        f"| {ratio(d_hist, g_hist)} |"
    )
    print(f"| whole stdlib, {total / MB:.1f} MB, 1 worker | {rate(total, one)} | | |")
    print(
        f"| whole stdlib, {cores} workers | {rate(total, many)} | | "
        f"scaling 1 to {cores}: {one.wall / many.wall:.2f}x wall |"
    )
    if rg is not None:
        print(f"| ripgrep, same keywords, whole stdlib (read limit) | {rate(total, rg)} | | |")
    print(
        f"| labelled corpus ({len(chosen)} files, {len(labels)} secrets): recall "
        f"| {g_recall:.1%} | {d_recall:.1%} | |"
    )
    print(f"| labelled corpus: precision | {g_precision:.1%} | {d_precision:.1%} | |")
    print(f"\nload average at end: {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
