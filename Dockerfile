# OrderDesk web image (also runs the Celery worker and beat; see docker-compose.yml).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    MEDIA_ROOT=/app/var/media

WORKDIR /app

RUN groupadd --system app && useradd --system --gid app --home-dir /app --shell /usr/sbin/nologin app

# Pango and CJK fonts: WeasyPrint renders the PDFs (confirmation, delivery note, invoice) with Chinese text.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-noto-cjk \
    && rm -rf /var/lib/apt/lists/*

COPY requirements.txt ./
RUN pip install -r requirements.txt

COPY . .

# Static files are collected at build time (whitenoise serves them); the key is a
# throwaway used only for this step. var/ is the writable runtime area (media,
# embedded broker); the media directory exists so a named volume inherits its owner.
RUN SECRET_KEY=collectstatic-build-only DEBUG=false python manage.py collectstatic --noinput -v 0 \
    && mkdir -p /app/var/media \
    && chown -R app:app /app/var

USER app

EXPOSE 8000

CMD ["gunicorn", "orderdesk.wsgi", "-b", "0.0.0.0:8000", "-w", "3", "--access-logfile", "-"]
