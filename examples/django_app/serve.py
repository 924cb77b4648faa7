"""A Django project (plain views and DRF) protected by jwt_middleware.django, served by
uvicorn through Django's ASGI handler. Any WSGI server works too
(``gunicorn --chdir examples/django_app orders.wsgi``), and so does ``manage.py runserver``.

Run it:  python examples/django_app/serve.py  (then paste the printed curl lines)
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

here = Path(__file__).resolve().parent
sys.path[:0] = [str(here), str(here.parent)]  # the project, and examples/ for _demo
os.environ["DJANGO_SETTINGS_MODULE"] = "orders.settings"  # this project, whatever the shell says

import uvicorn  # noqa: E402
from _demo import announce, arguments  # noqa: E402

if __name__ == "__main__":
    args = arguments("Django project protected by jwt-middleware", 8000)
    from orders.asgi import application
    from orders.auth import demo

    announce(demo, f"http://{args.host}:{args.port}", login=False)
    uvicorn.run(application, host=args.host, port=args.port, log_level="warning")
