#!/usr/bin/env python
"""Django's command line for the example project (python examples/django_app/manage.py ...)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

if __name__ == "__main__":
    here = Path(__file__).resolve().parent
    sys.path[:0] = [str(here), str(here.parent)]  # the project, and examples/ for _demo
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "orders.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
