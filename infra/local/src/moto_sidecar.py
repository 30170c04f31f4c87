"""Runs moto server on loopback until standard input closes.

The parent keeps our stdin open for as long as it lives, so moto never outlives it, even when
the parent is killed. The chosen port is printed on the first line of stdout.

Requests are served one at a time. moto's TransactWriteItems is not isolated: a cancelled
transaction restores a snapshot of the tables taken when it began, erasing whatever another
request wrote meanwhile. DynamoDB's transactions are serializable; one request at a time keeps
that promise locally (moto holds the GIL for nearly all of a request anyway).
"""
import sys
import threading

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import make_server

backends = DomainDispatcherApplication(create_backend_app)
one_at_a_time = threading.Lock()


def serialized(environ, start_response):
    with one_at_a_time:
        return list(backends(environ, start_response))


port = int(sys.argv[1]) if len(sys.argv) > 1 else 0
server = make_server("127.0.0.1", port, serialized, threaded=True)
threading.Thread(target=server.serve_forever, daemon=True).start()
print(server.server_port, flush=True)
sys.stdin.read()
server.shutdown()
