"""The embedded broker: kombu's SQLAlchemy transport, safe when processes race to create a queue.

kombu's ``Channel._get_or_create`` guards the first INSERT of a queue row with a lock
that is per process only; when web, worker and beat declare the ``celery`` queue at the
same moment on one SQLite file, the loser's commit raises ``IntegrityError`` and the
worker stopped with "Unrecoverable error". Here the loser rolls back and reads the row
the winner wrote. Registered for the ``sqla+`` / ``sqlalchemy+`` URLs in
:mod:`orderdesk.celery`.
"""

from kombu.transport import sqlalchemy as kombu_sqlalchemy
from sqlalchemy.exc import IntegrityError


class Channel(kombu_sqlalchemy.Channel):
    def _get_or_create(self, queue):
        try:
            return super()._get_or_create(queue)
        except IntegrityError:
            self.session.rollback()
            return super()._get_or_create(queue)


class Transport(kombu_sqlalchemy.Transport):
    Channel = Channel
