"""gunicorn settings, sized from the machine: `gunicorn -c config/gunicorn.conf.py config.wsgi`
(the Dockerfile's CMD and docker-compose's web service). Each can be set from the environment.

A page spends most of its time in Python (the ORM, the templates), which holds the GIL, and the
rest waiting on PostgreSQL. So: one process per core (WEB_CONCURRENCY), each with a few threads
(GUNICORN_THREADS) that overlap one request's Python with another's database wait. More processes
than cores only queue for the same cores, and each process holds its own copy of Django.
Every thread keeps its own database connection (DATABASE_CONN_MAX_AGE): workers x threads, per
web container, must stay below PostgreSQL's max_connections with room for the Celery workers.
"""

import os


def _cores() -> int:
    """The cores this process may run on (a container's cpuset, not the host's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("WEB_CONCURRENCY") or _cores())
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
# A worker that stops answering its arbiter this long is killed and replaced. With gthread the
# heartbeat comes from the worker's main loop, so a long request (a big CSV export) is not cut.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = 30  # on restart or deploy, requests in flight get this long to finish
keepalive = 5  # seconds an idle connection from the proxy stays open
# Each worker is replaced after about this many requests, spread by the jitter so that they are
# not all replaced at once: whatever memory a worker gathers over time is given back.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "1000"))
max_requests_jitter = int(os.environ.get("GUNICORN_MAX_REQUESTS_JITTER", "100"))
# The heartbeat file in memory: on a container's overlay disk a slow write can look like a hang.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-") or None  # "-": stdout; empty: no access log
