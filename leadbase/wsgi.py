"""WSGI entry point for gunicorn (`leadbase serve`)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leadbase.settings")
application = get_wsgi_application()
