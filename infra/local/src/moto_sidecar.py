"""Runs moto server on loopback until standard input closes.

The parent keeps our stdin open for as long as it lives, so moto never outlives it, even when
the parent is killed. The chosen port is printed on the first line of stdout.
"""
import sys

from moto.server import ThreadedMotoServer

port = int(sys.argv[1]) if len(sys.argv) > 1 else 0
server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
server.start()
print(server.get_host_and_port()[1], flush=True)
sys.stdin.read()
server.stop()
