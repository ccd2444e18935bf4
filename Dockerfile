# One image for web, worker and beat (docker-compose.yml).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    DJANGO_SETTINGS_MODULE=config.settings.production

WORKDIR /app
COPY . .
RUN pip install -e . \
 && pybabel compile --domain django --directory locale \
 && DJANGO_SECRET_KEY=collectstatic-only python manage.py collectstatic --noinput \
 && mkdir -p /app/media \
 && useradd --create-home app && chown -R app /app
USER app
EXPOSE 8000
# Workers and threads sized from the container's cores (config/gunicorn.conf.py; WEB_CONCURRENCY overrides).
CMD ["gunicorn", "--config", "config/gunicorn.conf.py", "config.wsgi:application"]
