"""WSGI entry point for gunicorn: `gunicorn 'relay.wsgi:app'`."""

from relay import create_app

app = create_app()
