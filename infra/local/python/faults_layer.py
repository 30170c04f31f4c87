"""Faults, injected where AWS injects them: `--faults RATE` makes the runner ask this layer to
answer that fraction of one stack's calls (those signed with its functions' keys) the way AWS
fails, each kind as the service says it:

- throttled, not applied (DynamoDB's ProvisionedThroughputExceededException or
  ThrottlingException, SQS's RequestThrottled, SNS's Throttling, SES's TooManyRequestsException);
- a 500, not applied;
- a transaction cancelled for a TransactionConflict, not applied;
- a timeout: nothing answers for longer than the SDK waits for an attempt, not applied;
- and the hardest: the call applied, its answer lost (a 500, or no answer before the timeout).

The SDK retries what it may; what is left must be handled by our code, or the message retried.
Calls the runner makes as Lambda's pollers (receiving and deleting messages, reading streams)
and the administrator's calls are never faulted: they are not our code.

`POST /orderflow/faults {"stack": name, "rate": 0.1, "seed": 7}` switches it on (rate 0 off);
optional `"kinds"` and `"actions"` (X-Amz-Target's operation, the query `Action`, or SES v2's
path) narrow it, for tests. `GET /orderflow/faults` counts what was injected, by kind.
"""
import io
import json
import random
import threading
import time

FAULT_KINDS = (("throttled", 3), ("error", 2), ("conflict", 1), ("timeout", 1), ("applied_then_error", 2),
               ("applied_then_timeout", 1))
# Longer than the functions' SDKs wait for one attempt (shared::config::aws_loader).
TIMEOUT_SECONDS = 6
POLLER_ACTIONS = ("ReceiveMessage", "DeleteMessage", "DeleteMessageBatch", "ChangeMessageVisibility",
                  "ChangeMessageVisibilityBatch", "GetQueueAttributes", "GetQueueUrl")


def service_action(environ, body):
    """(service family, action) of a request: `json` protocols name it in X-Amz-Target, SNS's
    query protocol in `Action=`, SES v2's REST paths in the path."""
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    if target:
        prefix, _, action = target.partition(".")
        return prefix, action
    path = environ.get("PATH_INFO", "")
    if path.startswith("/v2/email/"):
        return "sesv2", path
    for pair in body.decode("utf-8", "replace").split("&"):
        if pair.startswith("Action="):
            return "query", pair[len("Action="):]
    return "", ""


def failure(family, action, kind):
    """The status, content type, body and headers AWS answers with."""
    throttled = kind == "throttled"
    if family == "query":
        code = "Throttling" if throttled else "InternalFailure"
        body = ("<ErrorResponse><Error><Type>%s</Type><Code>%s</Code><Message>%s</Message></Error>"
                "<RequestId>fault</RequestId></ErrorResponse>") % (
            "Sender" if throttled else "Receiver", code, "Rate exceeded" if throttled else "Internal failure")
        return ("400 Bad Request" if throttled else "500 Internal Server Error"), "text/xml", body, []
    if family == "sesv2":
        code = "TooManyRequestsException" if throttled else "InternalFailure"
        status = "429 Too Many Requests" if throttled else "500 Internal Server Error"
        return status, "application/json", json.dumps({"message": code}), [("x-amzn-ErrorType", code)]
    if kind == "conflict":
        reasons = [{"Code": "TransactionConflict", "Message": "Transaction is ongoing for the item"}]
        payload = {"__type": "com.amazonaws.dynamodb.v20120810#TransactionCanceledException",
                   "message": "Transaction cancelled, please refer cancellation reasons for specific reasons "
                              "[TransactionConflict]", "CancellationReasons": reasons}
        return "400 Bad Request", "application/x-amz-json-1.0", json.dumps(payload), []
    if throttled:
        # DynamoDB throttles a table's or index's capacity, or a transaction's, by name.
        table_throttle = "ThrottlingException" if action.startswith("Transact") else "ProvisionedThroughputExceededException"
        code = {"DynamoDB_20120810": table_throttle, "AmazonSQS": "RequestThrottled"}.get(family, "ThrottlingException")
        status = "400 Bad Request"
    else:
        code, status = "InternalFailure", "500 Internal Server Error"
    payload = {"__type": code, "message": "injected: %s" % kind}
    return status, "application/x-amz-json-1.0", json.dumps(payload), [("x-amzn-ErrorType", code)]


class FaultLayer:
    def __init__(self, app):
        self.app = app
        self.lock = threading.Lock()
        self.stack = None
        self.rate = 0.0
        self.random = random.Random(0)
        self.injected = {}
        self.kinds = None
        self.actions = None

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path == "/orderflow/faults":
            return self.administer(environ, start_response)
        credential = CREDENTIAL.search(environ.get("HTTP_AUTHORIZATION", ""))
        key = credential.group(1) if credential else ""
        if not self.rate or not self.stack or not key.startswith(self.stack + "-"):
            return self.app(environ, start_response)
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        environ["wsgi.input"] = io.BytesIO(body)
        family, action = service_action(environ, body)
        if family.startswith("DynamoDBStreams") or action in POLLER_ACTIONS:
            return self.app(environ, start_response)
        if self.actions is not None and action not in self.actions:
            return self.app(environ, start_response)
        with self.lock:
            kind = None
            if self.random.random() < self.rate:
                kinds = [(name, weight) for name, weight in FAULT_KINDS
                         if (name != "conflict" or action == "TransactWriteItems")
                         and (self.kinds is None or name in self.kinds)]
                kind = self.random.choices([name for name, _ in kinds], [weight for _, weight in kinds])[0]
                self.injected[kind] = self.injected.get(kind, 0) + 1
        if kind is None:
            return self.app(environ, start_response)
        if kind.startswith("applied"):
            # The call goes through; its answer is thrown away.
            list(self.app(environ, lambda status, headers, exc_info=None: None))
        if kind.endswith("timeout"):
            time.sleep(TIMEOUT_SECONDS)
        status, content_type, text, extra = failure(family, action, "conflict" if kind == "conflict" else
                                                    "throttled" if kind == "throttled" else "error")
        payload = text.encode("utf-8")
        start_response(status, [("Content-Type", content_type), ("Content-Length", str(len(payload)))] + extra)
        return [payload]

    def administer(self, environ, start_response):
        if environ["REQUEST_METHOD"] == "POST":
            settings = json.loads(environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0)) or b"{}")
            with self.lock:
                self.stack = settings.get("stack")
                self.rate = float(settings.get("rate", 0))
                self.random = random.Random(settings.get("seed", 0))
                self.injected = {}
                self.kinds = settings.get("kinds")
                self.actions = settings.get("actions")
        with self.lock:
            payload = json.dumps({"stack": self.stack, "rate": self.rate, "injected": self.injected}).encode("utf-8")
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))])
        return [payload]
