"""``chatwoot-evidence.md``: what each MVP runbook says to capture for an issue, gathered
from the run for every runbook page with a failed check: the job status table and the
scheduler payload (the API answers the checks read), the job and worker error texts, the
project, and the failed ``worker_runs`` rows.

It is built from the run's verdicts, whose evidence is redacted when recorded, so it holds
no cookie, token or key; the controller writes it once, with every worker's verdicts.
"""

from __future__ import annotations

import json
from pathlib import Path

from fixtures import runbooks
from fixtures.outcome import Verdict
from fixtures.profile import Section

FILENAME = "chatwoot-evidence.md"
FAILED = ("failed", "error")
ENTRY_CAP = 4000


def _page(verdict: Verdict) -> str:
    return verdict.anchor.split("#", 1)[0]


def _to_capture(page: str) -> str:
    """The page's own "Evidence to capture" text, as the runbook words it."""
    section = runbooks.sections().get(f"{page}#evidence-to-capture")
    return section.body if section else ""


def _entry(entry: dict) -> list[str]:
    detail = json.dumps(entry.get("detail") or {}, indent=1, ensure_ascii=False)
    if len(detail) > ENTRY_CAP:
        detail = detail[:ENTRY_CAP] + f"\n... [{len(detail) - ENTRY_CAP} more characters]"
    return [f"- {entry.get('summary', '')}", "", "```json", detail, "```", ""]


def render(verdicts: list[Verdict], profile: Section) -> str:
    failed = sorted((v for v in verdicts if v.system == "chatwoot" and v.status in FAILED),
                    key=lambda v: (v.anchor, v.id))
    lines = [f"# Chatwoot/RAG MVP: evidence to capture ({profile.name})", ""]
    if not failed:
        return "\n".join(lines + ["No chatwoot check failed in this run.", ""])
    for page in sorted({_page(v) for v in failed}):
        heading = next((s.title for s in runbooks.sections().values()
                        if s.file == page and s.level == 1), page)
        lines += [f"## {heading}", "", _to_capture(page) or "(the page names no evidence)", ""]
        for verdict in (v for v in failed if _page(v) == page):
            lines += [f"### `{verdict.id}`", "", verdict.condition or verdict.reason, ""]
            for entry in verdict.evidence:
                lines += _entry(entry)
    return "\n".join(lines) + "\n"


def write(run_dir: Path, profile: Section, verdicts: list[Verdict]) -> Path | None:
    if not any(v.system == "chatwoot" for v in verdicts):
        return None
    path = run_dir / FILENAME
    path.write_text(render(verdicts, profile), encoding="utf-8")
    return path
