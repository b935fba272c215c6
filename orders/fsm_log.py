"""django-fsm-log's storage of transition records, through a prepared insert (issue 14).

Settings ``DJANGO_FSM_LOG_STORAGE_METHOD`` names :class:`PreparedBackend`: django-fsm-log's ``SimpleBackend``
(the record is written after the transition body ran, in the service's transaction, with the order's update), whose ``StateLog`` row
goes through :class:`orderdesk.prepared.PreparedInsert` instead of ``StateLog.objects.create`` — the same row, the
same ``pre_save``/``post_save`` signals (``orders.apps`` catches the record's id on ``post_save``), its statement
written once. django-fsm-log's own callback builds the values (who, description, source, target, object).
"""

from __future__ import annotations

from functools import cache

from django_fsm_log.backends import SimpleBackend, _pre_transition_callback


@cache
def _insert():
    from django_fsm_log.models import StateLog

    from orderdesk.prepared import PreparedInsert

    return PreparedInsert("state log record", StateLog)


class _PreparedCreate:
    """What django-fsm-log's callback calls ``create(**values)`` on. While the transition service runs it
    (``ctx.deferred`` is a list), the record is handed to the service, which writes it in the same round trip as
    the order's update and the audit entry (orderdesk.prepared.save_together); otherwise it is written at once."""

    @staticmethod
    def create(**values):
        from django_fsm_log.models import StateLog

        record = StateLog(**values)
        deferred = getattr(getattr(values.get("content_object"), "_ctx", None), "deferred", None)
        if deferred is not None:
            deferred.append(_insert().bind(record))
            return record
        return _insert().save(record)


class PreparedBackend(SimpleBackend):
    @staticmethod
    def post_transition_callback(sender, instance, name, source, target, **kwargs):
        return _pre_transition_callback(sender, instance, name, source, target, _PreparedCreate, **kwargs)
