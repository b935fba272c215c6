"""How forms render their widgets, labels and errors (``settings.FORM_RENDERER``, issue 14).

Django ships each of its widget and form templates twice, for its own template language and for Jinja2, meant
to give the same HTML. A widget rendered through Django's template language costs ~0.1–0.2 ms (a template, an
include for its attributes, one more per option of a select); the order page offers a dozen forms and spent about a
fifth of its time there. :class:`FormRenderer` renders Django's templates with Jinja2 (about half the time; the same
elements, attributes and text: only blank lines between options and the entity chosen for a quote differ) and any
template Jinja2 does not have — the admin's widgets, an app's own widget template — with Django's templates, as
before.
"""

from __future__ import annotations

from django.forms.renderers import BaseRenderer, DjangoTemplates, Jinja2
from django.template import TemplateDoesNotExist


class FormRenderer(BaseRenderer):
    def __init__(self):
        self.jinja2 = Jinja2()
        self.django = DjangoTemplates()
        self._engine_of: dict[str, BaseRenderer] = {}  # template name → the renderer that has it (looked up once)

    def get_template(self, template_name):
        renderer = self._engine_of.get(template_name)
        if renderer is not None:
            return renderer.get_template(template_name)
        try:
            template = self.jinja2.get_template(template_name)
            self._engine_of[template_name] = self.jinja2
        except TemplateDoesNotExist:
            template = self.django.get_template(template_name)
            self._engine_of[template_name] = self.django
        return template
