"""Runs localstripe on loopback until standard input closes.

localstripe's own `start()` listens on every interface, on a fixed port, and loads and saves
its state in /tmp (shared by every instance on the machine). This serves the same app on
127.0.0.1, on the port given (0: any free one, printed on the first line of stdout), with its
state kept in memory only.
"""
import os
import socket
import sys
import threading

from aiohttp import web
from localstripe.resources import store
from localstripe.server import app

store.dump_to_disk = lambda: None

port = int(sys.argv[1]) if len(sys.argv) > 1 else 0
sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
sock.bind(("127.0.0.1", port))
print(sock.getsockname()[1], flush=True)


def exit_when_parent_goes():
    sys.stdin.read()
    os._exit(0)


threading.Thread(target=exit_when_parent_goes, daemon=True).start()
web.run_app(app, sock=sock, print=None, access_log=None)
