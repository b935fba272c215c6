"""Simplified Chinese formats: Django's, with amounts grouped in thousands (1,500,000.00).

Django's zh_Hans has no thousands separator (and groups by 4); Chinese business documents write
amounts like 1,500,000.00. Grouping applies only where a template asks for it (``floatformat:"2g"``,
the ``money`` and ``qty`` filters): ``USE_THOUSAND_SEPARATOR`` stays off, so ids in URLs and forms are
never grouped.
"""

from django.conf.locale.zh_Hans.formats import *  # noqa: F403

THOUSAND_SEPARATOR = ","
NUMBER_GROUPING = 3
