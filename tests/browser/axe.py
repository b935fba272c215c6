"""axe-core in the browser suite (test tooling only: never served by the app).

``vendor/axe.min.js`` is the file of ``npm pack axe-core@4.14.1`` (pinned in ``vendor/package.json`` with
its checksum), committed so the suite needs no network. It is injected into the page with Playwright's
``add_script_tag``; the audit's browser context bypasses the app's Content-Security-Policy
(``bypass_csp=True``) so the injected script may run — the app's own pages still load under their CSP.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

VENDOR = Path(__file__).resolve().parent / "vendor"
AXE_JS = VENDOR / "axe.min.js"
FAILING_IMPACTS = ("critical", "serious")


def axe_sha256() -> str:
    return hashlib.sha256(AXE_JS.read_bytes()).hexdigest()


def pinned() -> dict:
    return json.loads((VENDOR / "package.json").read_text())


def audit(page) -> list[dict]:
    """Run axe-core on the loaded page; the critical and serious violations, each with its nodes."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE_JS))
    result = page.evaluate(
        """async () => {
            const r = await axe.run(document, {resultTypes: ["violations"]});
            return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map(n => n.target.join(" ")).slice(0, 8), count: v.nodes.length}));
        }"""
    )
    return [v for v in result if v["impact"] in FAILING_IMPACTS]


def describe(found: dict[str, list[dict]]) -> str:
    lines = []
    for where, violations in found.items():
        for v in violations:
            lines.append(f"{where}: {v['impact']} {v['id']} ×{v['count']} ({v['help']}): {', '.join(v['nodes'])}")
    return "\n".join(lines)
