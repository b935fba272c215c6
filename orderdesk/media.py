"""Uploaded files, served through a permission check whatever the storage (issue 9).

``/media/<name>`` works with ``DEBUG`` off and on every node:

* a receipt scan (``receipts/…``) only for a user who sees its order (scope) and sees the
  contact field class (DESIGN §5: the receipt signer is contact data);
* an import sheet (``imports/…``) only for the user who uploaded it (and superusers).

Anything else, or a file the caller may not see, is 404 (never 403: its existence is not
told). Files are sent as attachments unless they are images or PDFs, with ``nosniff`` and a
sandboxing CSP, so an uploaded HTML page never runs on the site's origin.
"""

from __future__ import annotations

import mimetypes
import posixpath

from django.contrib.auth.decorators import login_required
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404
from django.views.decorators.http import require_GET

INLINE_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf")


# Who may read a file, by the first folder of its name: ``rule(user, name) -> bool``. The apps that store
# files register their rule from their ``ready()`` (orders: receipts, import sheets), so this kernel module
# imports no app.
_rules: dict[str, object] = {}


def register(prefix: str, rule) -> None:
    """Serve files under ``prefix`` (``"receipts/"``) to the users ``rule(user, name)`` allows."""
    _rules[prefix] = rule


def _allowed(user, name: str) -> bool:
    for prefix, rule in _rules.items():
        if name.startswith(prefix):
            return bool(rule(user, name))
    return False


@require_GET
@login_required
def serve(request, name: str):
    name = posixpath.normpath(name).lstrip("/")
    if name.startswith("..") or not _allowed(request.user, name):
        raise Http404
    try:
        handle = default_storage.open(name, "rb")
    except (FileNotFoundError, OSError):
        raise Http404
    content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    inline = content_type in INLINE_TYPES
    response = FileResponse(handle, content_type=content_type, as_attachment=not inline,
                            filename=posixpath.basename(name))
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox; default-src 'none'; img-src 'self'; object-src 'self'"
    response["Cache-Control"] = "private, no-store"
    return response
