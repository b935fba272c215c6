"""English formats: Django's (1,500,000.00 where a template groups digits; see ``zh_Hans``)."""

from django.conf.locale.en.formats import *  # noqa: F403
