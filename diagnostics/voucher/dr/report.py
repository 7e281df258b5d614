"""The tabletop report as the runbook asks for it: a date, the participants, the
templates' links and findings with action owners and due dates. Markdown, read by its
``##`` sections and their list items."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

DATED = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
DATE_LINE = re.compile(r"^Date:\s*(\d{4}-\d{2}-\d{2})", re.MULTILINE)
OWNER = re.compile(r"\bOwner:\s*\S", re.IGNORECASE)
DUE = re.compile(r"\bDue:\s*\d{4}-\d{2}-\d{2}", re.IGNORECASE)


@dataclass
class Report:
    name: str
    text: str
    sections: dict[str, list[str]] = field(default_factory=dict)  # title -> list items

    @property
    def date(self) -> str:
        found = DATE_LINE.search(self.text)
        return found.group(1) if found else ""

    def items(self, title: str) -> list[str]:
        return next((v for k, v in self.sections.items() if k.lower() == title.lower()), [])


def dated_reports(folder: Path) -> list[tuple[date, Path]]:
    """The folder's reports with a valid date in their file name, oldest first."""
    found = []
    for path in (folder.iterdir() if folder.is_dir() else []):
        match = DATED.search(path.name)
        if path.is_file() and match:
            try:
                found.append((date(*map(int, match.groups())), path))
            except ValueError:
                continue
    return sorted(found)


def parse(name: str, text: str) -> Report:
    report, current = Report(name, text), None
    for line in text.splitlines():
        if line.startswith("## "):
            current = line[3:].strip()
            report.sections[current] = []
        elif current and line.lstrip().startswith(("- ", "* ")):
            report.sections[current].append(line.strip()[2:].strip())
    return report


def unowned(findings: list[str]) -> list[str]:
    """Findings without an action owner or a due date (``Owner: ...``, ``Due: YYYY-MM-DD``)."""
    return [item for item in findings if not (OWNER.search(item) and DUE.search(item))]
