"""Every user-facing string is translatable (DESIGN §7): templates and the Chinese catalogue.

The template check is a heuristic parser: it removes comments, scripts, styles, everything inside
`{% translate %}`/`{% blocktranslate %}`, every other template tag and variable, and then looks for
letters left in the visible text or in visible attributes (placeholder, title, aria-label, alt, value of
buttons). Technical words that are the same in every language are allowed explicitly.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Words shown as they are in every language (file formats, codes, the brand mark).
ALLOWED = {"CSV", "Excel", "OD", "EN", "INV", "order_ref"}

COMMENT_BLOCK = re.compile(r"{%\s*comment\s*%}.*?{%\s*endcomment\s*%}", re.S)
BLOCKTRANS = re.compile(r"{%\s*blocktrans(?:late)?\b.*?%}.*?{%\s*endblocktrans(?:late)?\s*%}", re.S)
TEMPLATE_TAG = re.compile(r"{%.*?%}|{{.*?}}|{#.*?#}", re.S)
SCRIPT_STYLE = re.compile(r"<(script|style)\b[^>]*>.*?</\1\s*>", re.S | re.I)
HTML_COMMENT = re.compile(r"<!--.*?-->", re.S)
TAG = re.compile(r"<[^>]+>", re.S)
VISIBLE_ATTR = re.compile(r"""\b(placeholder|title|aria-label|alt|label)\s*=\s*("([^"]*)"|'([^']*)')""", re.I)
WORD = re.compile(r"[A-Za-z\u4e00-\u9fff](?:[A-Za-z\u4e00-\u9fff_'’-]*[A-Za-z\u4e00-\u9fff_])?")


def project_templates() -> list[Path]:
    found = list((ROOT / "templates").rglob("*.html"))
    for app_dir in ROOT.iterdir():
        if app_dir.is_dir() and not app_dir.name.startswith((".", "node_modules")) and app_dir.name != "templates":
            found += list((app_dir / "templates").rglob("*.html")) if (app_dir / "templates").is_dir() else []
    return sorted(found)


def untranslated(source: str) -> list[str]:
    """The words of a template that a user would see untranslated."""
    text = COMMENT_BLOCK.sub(" ", source)
    text = BLOCKTRANS.sub(" ", text)
    text = SCRIPT_STYLE.sub(" ", text)
    text = HTML_COMMENT.sub(" ", text)
    text = TEMPLATE_TAG.sub(" ", text)
    problems = []
    for match in VISIBLE_ATTR.finditer(text):
        value = match.group(3) if match.group(3) is not None else match.group(4)
        problems += [w for w in WORD.findall(value) if w not in ALLOWED]
    text = TAG.sub(" ", text)
    problems += [w for w in WORD.findall(text.replace("&nbsp;", " ").replace("&amp;", " ")) if w not in ALLOWED]
    return problems


def test_the_checker_finds_untranslated_text():
    assert untranslated("<p>Hello {{ name }}</p>") == ["Hello"]
    assert untranslated('<input placeholder="Search">') == ["Search"]
    assert untranslated("<p>{% translate 'Hello' %} {{ x }}</p>") == []
    assert untranslated("<p>{% blocktranslate %}Hi {{ n }}{% endblocktranslate %}</p>") == []
    assert untranslated("<script>var hello = 1;</script>") == []
    assert untranslated("<p>订单</p>") == ["订单"]


@pytest.mark.parametrize("path", project_templates(), ids=lambda p: str(p.relative_to(ROOT)))
def test_template_has_no_untranslated_text(path):
    words = untranslated(path.read_text(encoding="utf-8"))
    assert not words, f"{path.relative_to(ROOT)}: untranslated text {sorted(set(words))}"


def test_chinese_catalogue_is_complete():
    """Fails while locale/zh_Hans/LC_MESSAGES/django.po has untranslated or fuzzy entries
    (run `makemessages` and translate; `scripts/check_translations.py` lists them)."""
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "check_translations.py")],
                            capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
