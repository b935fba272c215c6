"""Uploads kept in the database (``FILE_STORAGE=db``, :mod:`orderdesk.storage`)."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class StoredFile(models.Model):
    """One uploaded file's bytes, under the name the storage gave it (e.g. ``receipts/2026/05/scan.pdf``)."""

    name = models.CharField(_("name"), max_length=255, unique=True)
    content = models.BinaryField(_("content"))
    size = models.PositiveBigIntegerField(_("size"), default=0)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("stored file")
        verbose_name_plural = _("stored files")

    def __str__(self) -> str:
        return self.name


class AuditEntryQuerySet(models.QuerySet):
    """The trail is append-only: a bulk update or delete through the ORM is refused too."""

    def update(self, **kwargs):
        raise PermissionError("the audit trail is append-only")

    def delete(self):
        raise PermissionError("the audit trail is append-only")

    _raw_delete = delete


class AuditEntry(models.Model):
    """One row of the internal audit trail (R6.1): who, when, what kind, which object, before and after, from where.

    Written only through :func:`orderdesk.audit.record`; never changed or deleted (``save`` of an existing
    row, ``delete`` and the queryset's ``update``/``delete`` raise; on PostgreSQL a trigger refuses UPDATE
    and DELETE, see migration ``0002_audit_trail``). The order is kept as its id, not a foreign key: deleting
    an order never cascades into the trail.
    """

    at = models.DateTimeField(_("at"), default=timezone.now, db_index=True)
    # no constraint: the trail keeps the id of a user deleted later
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.DO_NOTHING, db_constraint=False, null=True,
                             blank=True, related_name="+", verbose_name=_("user"))
    kind = models.CharField(_("kind"), max_length=40, db_index=True)
    order_ref = models.BigIntegerField(_("order"), null=True, blank=True, db_index=True)
    object_type = models.CharField(_("object type"), max_length=100, blank=True)
    object_id = models.CharField(_("object id"), max_length=64, blank=True)
    name = models.CharField(_("what"), max_length=100, blank=True)
    before = models.TextField(_("before"), blank=True)
    after = models.TextField(_("after"), blank=True)
    note = models.TextField(_("note"), blank=True)
    address = models.GenericIPAddressField(_("address"), null=True, blank=True)

    objects = AuditEntryQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit trail")
        indexes = [models.Index(fields=["kind", "at"]), models.Index(fields=["user", "at"])]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.kind} {self.name}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not self._state.adding:
            raise PermissionError("the audit trail is append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("the audit trail is append-only")


class StaffProfile(models.Model):
    """What a customer may know of their sales assistant (the tracking page's contact, R5.3): a work phone."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff_profile",
                                verbose_name=_("user"))
    phone = models.CharField(_("work phone"), max_length=50, blank=True)

    class Meta:
        verbose_name = _("staff profile")
        verbose_name_plural = _("staff profiles")

    def __str__(self) -> str:
        return f"{self.user} {self.phone}"
