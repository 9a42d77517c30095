"""Figures, the table printed on stdout, and the recorded ``docs/benchmarks.md``.

Every measurement is a ``Figure``: an absolute number, the baseline it is
compared with (measured in the same run), the ratio between the two, and the
target with PASS/MISS when the issue sets one. ``--record`` rewrites one
marked block of ``docs/benchmarks.md`` per section, so a partial run
(``--only queries``) updates its own block and leaves the others alone.
"""

from __future__ import annotations

import math
import os
import platform
import re
import sqlite3
import statistics
import subprocess
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

REPO: Final = Path(__file__).resolve().parents[1]
DOC: Final = REPO / "docs" / "benchmarks.md"

RATE_UNITS: Final = frozenset({"events/s", "rows/s", "req/s"})


@dataclass(frozen=True, slots=True)
class Figure:
    """One line of the table.

    ``ratio`` is ``value / baseline`` unless given: a share of the baseline for
    rates (shown as %), a multiple of it for latencies and sizes (shown as ×).
    ``passed`` is None when no target applies.
    """

    section: str
    name: str
    value: float
    unit: str
    baseline: float | None = None
    detail: str = ""
    target: str = ""
    passed: bool | None = None
    ratio: float | None = None
    baseline_name: str = ""

    @property
    def effective_ratio(self) -> float | None:
        if self.ratio is not None:
            return self.ratio
        if self.baseline:
            return self.value / self.baseline
        return None


@dataclass
class Run:
    """Everything one ``python -m bench`` invocation measured."""

    command: str
    started: datetime = field(default_factory=lambda: datetime.now(UTC))
    figures: list[Figure] = field(default_factory=list)
    notes: dict[str, list[str]] = field(default_factory=dict)
    load_before: tuple[float, float, float] = field(default_factory=os.getloadavg)
    load_after: tuple[float, float, float] | None = None
    minutes: float | None = None
    machine: dict[str, str] = field(default_factory=lambda: machine())

    def add(self, figures: Iterable[Figure]) -> None:
        for figure in figures:
            self.figures.append(figure)
            print_figure(figure)

    def note(self, section: str, text: str) -> None:
        self.notes.setdefault(section, []).append(text)
        print(f"  note [{section}]: {text}", flush=True)

    def finish(self, minutes: float) -> None:
        self.load_after = os.getloadavg()
        self.minutes = minutes

    def sections(self) -> list[str]:
        return list(dict.fromkeys([f.section for f in self.figures] + list(self.notes)))


# -- numbers ---------------------------------------------------------------------------


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile (p95 of 40 runs is the 38th smallest)."""
    ordered = sorted(values)
    rank = min(len(ordered), max(1, math.ceil(fraction * len(ordered))))
    return ordered[rank - 1]


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def fmt_number(value: float, unit: str) -> str:
    if unit in RATE_UNITS or unit in ("rows", "events"):
        return f"{value:,.0f} {unit}"
    if unit == "ms":
        return f"{value:.3f} ms" if value < 1 else f"{value:,.1f} ms"
    if unit == "µs":
        return f"{value:,.1f} µs"
    if unit == "MiB":
        return f"{value:,.1f} MiB"
    if unit == "B/event":
        return f"{value:.2f} {unit}" if value < 10 else f"{value:,.1f} {unit}"
    if unit == "%":
        return f"{value:.1f} %"
    return f"{value:,.3g} {unit}"


def fmt_ratio(figure: Figure) -> str:
    ratio = figure.effective_ratio
    if ratio is None:
        return ""
    if figure.unit in RATE_UNITS:
        return f"{ratio * 100:.0f} %"
    return f"{ratio:.2f}×"


def status(figure: Figure) -> str:
    if figure.passed is None:
        return ""
    return "PASS" if figure.passed else "MISS"


# -- the table -------------------------------------------------------------------------

_HEADERS: Final = ("section", "measurement", "result", "baseline", "ratio", "target", "")


def _cells(figure: Figure) -> tuple[str, ...]:
    baseline = "" if figure.baseline is None else fmt_number(figure.baseline, figure.unit)
    result = fmt_number(figure.value, figure.unit)
    if figure.detail:
        result = f"{result} ({figure.detail})"
    return (
        figure.section,
        figure.name,
        result,
        baseline,
        fmt_ratio(figure),
        figure.target,
        status(figure),
    )


def print_figure(figure: Figure) -> None:
    cells = _cells(figure)
    line = f"  {cells[1]}: {cells[2]}"
    if cells[3]:
        line += f" | baseline {cells[3]} | ratio {cells[4]}"
    if cells[5]:
        line += f" | target {cells[5]} {cells[6]}"
    print(line, flush=True)


def table(figures: Sequence[Figure]) -> str:
    rows = [_HEADERS, *(_cells(f) for f in figures)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(_HEADERS))]
    lines = []
    for n, row in enumerate(rows):
        lines.append("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
        if n == 0:
            lines.append("  ".join("-" * width for width in widths))
    return "\n".join(line.rstrip() for line in lines)


def markdown_table(figures: Sequence[Figure]) -> str:
    headers = ("Measurement", "Result", "Baseline (same run)", "Ratio", "Target", "")
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    for figure in figures:
        cells = _cells(figure)[1:]
        baseline = cells[2]
        if baseline and figure.baseline_name:
            baseline = f"{baseline} — {figure.baseline_name}"
        row = (cells[0], cells[1], baseline, cells[3], cells[4], f"**{cells[5]}**" * bool(cells[5]))
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in row) + " |")
    return "\n".join(lines)


# -- the machine ---------------------------------------------------------------------------


def machine() -> dict[str, str]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = "unknown"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    except OSError:
        pass
    return {
        "CPU": cpu,
        "cores": str(os.cpu_count()),
        "RAM": ram,
        "OS": f"{platform.system()} {platform.release()}",
        "Python": platform.python_version(),
        "SQLite": sqlite3.sqlite_version,
        "commit": _git_commit(),
    }


def _git_commit() -> str:
    try:
        out = subprocess.run(
            ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return out.stdout.strip()


def _load(values: tuple[float, float, float]) -> str:
    return " / ".join(f"{v:.2f}" for v in values)


# -- docs/benchmarks.md ----------------------------------------------------------------------

_BLOCK: Final = "<!-- bench:{name}:{edge} -->"


def _block(name: str, run: Run, figures: Sequence[Figure], notes: Sequence[str]) -> str:
    info = run.machine
    load_after = run.load_after or os.getloadavg()
    took = "" if run.minutes is None else f", the whole run took {run.minutes:.1f} min"
    lines = [
        _BLOCK.format(name=name, edge="begin"),
        "",
        f"Measured {run.started:%Y-%m-%d %H:%M} UTC with `{run.command}` "
        f"(commit {info['commit']}{took}).",
        f"Machine: {info['CPU']}, {info['cores']} cores, {info['RAM']} RAM, {info['OS']}; "
        f"Python {info['Python']}, SQLite {info['SQLite']}. "
        f"Load average (1/5/15 min) at the start {_load(run.load_before)}, "
        f"at the end {_load(load_after)}.",
        "",
        markdown_table(figures),
        "",
    ]
    if notes:
        lines += [f"- {note}" for note in notes]
        lines.append("")
    lines.append(_BLOCK.format(name=name, edge="end"))
    return "\n".join(lines)


def record(run: Run, path: Path = DOC, *, suffix: str = "") -> None:
    """Replace (or append) each measured section's block in ``docs/benchmarks.md``."""
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    for section in run.sections():
        name = section + suffix
        figures = [f for f in run.figures if f.section == section]
        block = _block(name, run, figures, run.notes.get(section, []))
        begin, end = (_BLOCK.format(name=name, edge=e) for e in ("begin", "end"))
        found = re.search(re.escape(begin) + r".*?" + re.escape(end), text, re.DOTALL)
        if found is not None:
            text = text[: found.start()] + block + text[found.end() :]
        else:
            heading = f"\n## Results: {name}\n\n"
            text = text.rstrip("\n") + "\n" + heading + block + "\n"
    path.write_text(text)


def to_json(run: Run) -> dict[str, Any]:
    return {
        "command": run.command,
        "started": run.started.isoformat(),
        "minutes": run.minutes,
        "machine": run.machine,
        "load_before": run.load_before,
        "load_after": run.load_after,
        "figures": [asdict(f) for f in run.figures],
        "notes": run.notes,
    }


def from_json(document: dict[str, Any]) -> Run:
    """A run as ``to_json`` wrote it, so it can be recorded again without measuring."""

    def load(values: Sequence[float] | None) -> tuple[float, float, float] | None:
        return None if values is None else (values[0], values[1], values[2])

    return Run(
        command=document["command"],
        started=datetime.fromisoformat(document["started"]),
        figures=[Figure(**f) for f in document["figures"]],
        notes={k: list(v) for k, v in document["notes"].items()},
        load_before=load(document["load_before"]) or (0.0, 0.0, 0.0),
        load_after=load(document["load_after"]),
        minutes=document.get("minutes"),
        machine=dict(document["machine"]),
    )
