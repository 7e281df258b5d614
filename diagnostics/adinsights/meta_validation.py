"""``meta-validation.md``: the validation evidence the operations runbook asks to keep for
staging and test-app runs (``docs/project/evidence/meta-validation/<timestamp>.md``).

It is built from the run's verdicts, which are redacted when recorded, so it holds no
token or secret. Only a run in which at least one Meta check reported writes it, and only
the controller writes it (the verdicts of every xdist worker reach it).
"""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

from fixtures.outcome import Verdict
from fixtures.profile import Section

FILENAME = "meta-validation.md"
RUNBOOK_SOURCE = "adinsights-operations-runbook.md › Meta Marketing API direct-sync operations"


def _is_meta(verdict: Verdict) -> bool:
    return verdict.system == "adinsights" and verdict.area == "meta"


def _reason(verdict: Verdict) -> str:
    if verdict.status == "passed":
        return "as expected"
    text = verdict.condition or verdict.reason or verdict.status
    return " ".join(text.split())[:200].replace("|", "\\|")


def render(verdicts: list[Verdict], profile: Section, run_dir: Path, stamp: str) -> str:
    meta = sorted((v for v in verdicts if _is_meta(v)), key=lambda v: v.id)
    tally = Counter(v.status for v in meta)
    lines = [
        f"# Meta validation: {stamp}",
        "",
        f"- Timestamp: {stamp}",
        f"- Environment: `{profile.name}`" + (" (production)" if profile.production else ""),
        f"- Run: `{run_dir.name}`",
        f"- Result: {', '.join(f'{n} {s}' for s, n in sorted(tally.items()))}",
        "",
        "## Results",
        "",
        "| Check | Status | Reason |",
        "|---|---|---|",
    ]
    lines += [f"| `{v.id}` | {v.status} | {_reason(v)} |" for v in meta]
    anchors = sorted({(v.anchor, v.link) for v in meta})
    lines += ["", "## Evidence links", "", "- HTML report: [report.html](report.html)",
              "- Summary: [summary.md](summary.md)", f"- Runbook source: {RUNBOOK_SOURCE}"]
    lines += [f"- Runbook: [{anchor}]({link})" for anchor, link in anchors]
    return "\n".join(lines) + "\n"


def write(run_dir: Path, profile: Section, verdicts: list[Verdict]) -> Path | None:
    if not any(_is_meta(v) for v in verdicts):
        return None
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    path = run_dir / FILENAME
    path.write_text(render(verdicts, profile, run_dir, stamp), encoding="utf-8")
    return path
