"""For BENCHMARKS.md's carrier-webhook cold starts: given a running moto server, creates the
delivery-updates queue (emptied) and the carriers' secret, and writes into OUT (default the
current folder) a freshly signed webhook event (API Gateway HTTP API, payload 2.0) and the
environment for the build that reads the secret from Secrets Manager (env-after) and for the
one that read it from its environment (env-before), one VAR=VALUE a line.

Usage: .tools/venv/bin/python scripts/bench/webhook-coldstart-setup.py http://127.0.0.1:5599 [OUT]
"""
import hashlib, hmac, json, sys, time
from pathlib import Path

import boto3

OUT = sys.argv[2] if len(sys.argv) > 2 else "."

endpoint = sys.argv[1]
secret = "whsec_bench_easypost_0001"
kw = dict(endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test")
sqs = boto3.client("sqs", **kw)
queue = sqs.create_queue(QueueName="delivery-updates")["QueueUrl"]
sqs.purge_queue(QueueUrl=queue)
sm = boto3.client("secretsmanager", **kw)
try:
    sm.create_secret(Name="bench/carrier-webhooks", SecretString=json.dumps({"easypost": secret}))
except sm.exceptions.ResourceExistsException:
    pass
body = open(Path(__file__).resolve().parents[2] / "tests/fixtures/carriers/easypost-in-transit.json").read()
ts = str(int(time.time()))
sig = "v1=" + hmac.new(secret.encode(), f"{ts}.{body}".encode(), hashlib.sha256).hexdigest()
event = {
    "version": "2.0", "routeKey": "POST /webhooks/carriers/{carrier}", "rawPath": "/webhooks/carriers/easypost",
    "rawQueryString": "", "headers": {"content-type": "application/json", "x-webhook-timestamp": ts,
                                       "x-webhook-signature": sig},
    "pathParameters": {"carrier": "easypost"},
    "requestContext": {"accountId": "123456789012", "apiId": "api", "domainName": "localhost", "domainPrefix": "localhost",
                       "http": {"method": "POST", "path": "/webhooks/carriers/easypost", "protocol": "HTTP/1.1",
                                "sourceIp": "127.0.0.1", "userAgent": "bench"},
                       "requestId": "r", "routeKey": "POST /webhooks/carriers/{carrier}", "stage": "$default",
                       "time": "01/Dec/2026:00:00:00 +0000", "timeEpoch": int(time.time() * 1000)},
    "body": body, "isBase64Encoded": False,
}
json.dump(event, open(OUT + "/webhook.json", "w"))
common = [f"AWS_ENDPOINT_URL={endpoint}", "AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test", "AWS_REGION=us-east-1",
          "WEBHOOK_TOLERANCE_SECONDS=900", f"DELIVERY_UPDATES_QUEUE_URL={queue}"]
open(OUT + "/env-before", "w").write("\n".join(common + ["CARRIER_WEBHOOK_SECRETS=" + json.dumps({"easypost": secret}, separators=(",", ":"))]))
open(OUT + "/env-after", "w").write("\n".join(common + ["CARRIER_WEBHOOK_SECRET_ID=bench/carrier-webhooks"]))
