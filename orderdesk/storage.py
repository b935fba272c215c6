"""Uploads every node shares (issue 9): ``FILE_STORAGE=db|filesystem|s3`` (settings ``STORAGES``).

:class:`DatabaseStorage` keeps each upload's bytes in :class:`orderdesk.models.StoredFile`,
so an import sheet uploaded through one web node is read by a worker on another, and a
receipt scan is served by any node, with nothing to share but the database (which is backed
up with it: scripts/backup.sh). Own code rather than django-db-file-storage: that package
needs a model per file field and a special ``upload_to`` format, and stores base64 text;
this is one table, raw bytes, the fields unchanged. Uploads here are small (sheets at most
5 MB, scans); for large or many files use ``FILE_STORAGE=s3`` (django-storages).

Files are read through :mod:`orderdesk.media` (permission-checked) whatever the backend.
"""

from __future__ import annotations

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import Storage
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.deconstruct import deconstructible
from django.utils.encoding import filepath_to_uri


@deconstructible
class DatabaseStorage(Storage):
    def _model(self):
        from orderdesk.models import StoredFile

        return StoredFile

    def _open(self, name, mode="rb"):
        content = self._model().objects.filter(name=name).values_list("content", flat=True).first()
        if content is None:
            raise FileNotFoundError(name)
        return ContentFile(bytes(content), name=name)

    def _save(self, name, content):
        if hasattr(content, "seek"):
            content.seek(0)
        data = b"".join(content.chunks()) if hasattr(content, "chunks") else content.read()
        for _attempt in range(10):
            try:
                with transaction.atomic():
                    self._model().objects.create(name=name, content=data, size=len(data))
                return name
            except IntegrityError:  # another node took the name meanwhile
                name = self.get_available_name(name)
        raise IntegrityError(f"no free name for {name}")

    def exists(self, name):
        return self._model().objects.filter(name=name).exists()

    def delete(self, name):
        self._model().objects.filter(name=name).delete()

    def size(self, name):
        size = self._model().objects.filter(name=name).values_list("size", flat=True).first()
        if size is None:
            raise FileNotFoundError(name)
        return size

    def get_created_time(self, name):
        created = self._model().objects.filter(name=name).values_list("created_at", flat=True).first()
        if created is None:
            raise FileNotFoundError(name)
        return created

    get_modified_time = get_created_time

    def listdir(self, path):
        prefix = path.rstrip("/") + "/" if path else ""
        dirs, files = set(), []
        for name in self._model().objects.filter(name__startswith=prefix).values_list("name", flat=True):
            head, sep, tail = name[len(prefix):].partition("/")
            (dirs.add(head) if sep else files.append(head))
        return sorted(dirs), sorted(files)

    def url(self, name):
        return settings.MEDIA_URL + filepath_to_uri(name)

    def path(self, name):
        raise NotImplementedError("files in the database have no path; open them")

    def _now(self):
        return timezone.now()
