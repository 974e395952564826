"""WSGI entry point for gunicorn: `gunicorn 'relay.wsgi:app'`."""

from relay import create_app
from relay.api.spool_http import keep_outage_trust_warm
from relay.wiring import get_runtime

app = create_app()
# each serving process knows every key and store before an outage can begin
keep_outage_trust_warm(get_runtime())
