#!/usr/bin/env python3
"""Check that the Simplified Chinese catalogue is complete.

Exits 1 and lists every msgid of ``locale/zh_Hans/LC_MESSAGES/django.po`` whose
translation is empty (any plural form) or marked fuzzy; exits 0 otherwise.
Obsolete entries (``#~``) are ignored. Run it after ``makemessages``:

    python scripts/check_translations.py [path/to/django.po]

No dependency beyond the standard library (a small PO reader, enough for the
files ``makemessages`` writes).
"""

from __future__ import annotations

import ast
import sys
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_PO = Path(__file__).resolve().parent.parent / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"


@dataclass
class Entry:
    line: int
    msgctxt: str | None = None
    msgid: str = ""
    msgid_plural: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)
    references: list[str] = field(default_factory=list)

    @property
    def is_header(self) -> bool:
        return self.msgid == "" and self.msgctxt is None

    @property
    def untranslated(self) -> bool:
        if not self.msgstr:
            return True
        return any(not value for value in self.msgstr.values())

    @property
    def fuzzy(self) -> bool:
        return "fuzzy" in self.flags


def _unquote(text: str) -> str:
    text = text.strip()
    if not (text.startswith('"') and text.endswith('"')):
        raise ValueError(f"not a PO string: {text!r}")
    return ast.literal_eval(text)


def parse_po(text: str) -> list[Entry]:
    """The entries of a PO file (the header first, obsolete entries left out)."""
    entries: list[Entry] = []
    current: Entry | None = None
    target: tuple[str, int | None] | None = None  # which string a continuation line extends

    def finish():
        nonlocal current, target
        if current is not None and (current.msgid or current.msgstr or current.msgctxt is not None):
            entries.append(current)
        current, target = None, None

    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            finish()
            continue
        if line.startswith("#~"):
            continue  # obsolete
        if line.startswith("#"):
            if current is not None and target is not None:
                finish()  # comments start a new entry
            if current is None:
                current = Entry(line=number)
            if line.startswith("#,"):
                current.flags.update(flag.strip() for flag in line[2:].split(","))
            elif line.startswith("#:"):
                current.references.extend(line[2:].split())
            continue
        if current is None:
            current = Entry(line=number)
        if line.startswith("msgctxt "):
            if target is not None:
                finish()
                current = Entry(line=number)
            current.msgctxt = _unquote(line[len("msgctxt ") :])
            target = ("msgctxt", None)
        elif line.startswith("msgid_plural "):
            current.msgid_plural = _unquote(line[len("msgid_plural ") :])
            target = ("msgid_plural", None)
        elif line.startswith("msgid "):
            if target is not None and target[0] != "msgctxt":
                finish()
                current = Entry(line=number)
            current.msgid = _unquote(line[len("msgid ") :])
            target = ("msgid", None)
        elif line.startswith("msgstr["):
            index = int(line[len("msgstr[") : line.index("]")])
            current.msgstr[index] = _unquote(line[line.index("]") + 1 :])
            target = ("msgstr", index)
        elif line.startswith("msgstr "):
            current.msgstr[0] = _unquote(line[len("msgstr ") :])
            target = ("msgstr", 0)
        elif line.startswith('"'):
            if target is None:
                raise ValueError(f"line {number}: continuation outside an entry")
            value = _unquote(line)
            kind, index = target
            if kind == "msgstr":
                current.msgstr[index] += value
            else:
                setattr(current, kind, (getattr(current, kind) or "") + value)
        else:
            raise ValueError(f"line {number}: cannot read {raw!r}")
    finish()
    return entries


def problems(entries: list[Entry]) -> list[str]:
    found = []
    for entry in entries:
        if entry.is_header:
            if entry.fuzzy:
                found.append(f"line {entry.line}: the header is marked fuzzy")
            continue
        label = repr(entry.msgid) + (f" (context {entry.msgctxt!r})" if entry.msgctxt else "")
        where = f" [{entry.references[0]}]" if entry.references else ""
        if entry.fuzzy:
            found.append(f"line {entry.line}: fuzzy: {label}{where}")
        elif entry.untranslated:
            found.append(f"line {entry.line}: untranslated: {label}{where}")
    return found


def main(argv: list[str]) -> int:
    path = Path(argv[1]) if len(argv) > 1 else DEFAULT_PO
    if not path.exists():
        print(f"{path}: missing", file=sys.stderr)
        return 1
    entries = parse_po(path.read_text(encoding="utf-8"))
    found = problems(entries)
    if found:
        print(f"{path}: {len(found)} problem(s) among {len(entries) - 1} messages:")
        for problem in found:
            print("  " + problem)
        return 1
    print(f"{path}: all {len(entries) - 1} messages translated.")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
