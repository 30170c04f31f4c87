"""The local cloud's IAM: every request to moto is authorised as AWS would authorise it.

moto checks no permission by default, and its own IAM mode checks resources only for SQS (see
../shared/reviews/security-2026-11-30.md §8). So this layer sits in front of moto, in its
process: it reads the access key from each request's SigV4 `Credential=` scope, maps the
request to the IAM actions and resource ARNs AWS evaluates (one per item of a transaction or a
batch read, `PublishBatch` as `sns:Publish`, index and stream ARNs, SES identities with
`ses:FromAddress`), and evaluates the policies of the role that key stands for: explicit Deny
first, then Allow; `*` and `?` in actions and resources; `NotAction`, `NotResource`; the
string, ARN, Bool and Null condition operators, `IfExists`, and `ForAllValues:`/`ForAnyValue:`
over multi-valued keys such as `dynamodb:LeadingKeys`. A refusal is the service's own
AccessDenied answer, and is recorded for the runner's journal and the tests.

Every request it lets through is counted by caller and operation (`GET /orderflow/iam/calls`:
calls, and the items they touch (a transaction's items, a batch's messages), per access key): what the calls-per-order test and the cost
model read.

The runner registers one key per function (`POST /orderflow/iam/principals`). The key `test`
is the administrator the runner and tests use to provision and inspect; any other key is
unknown and refused, as AWS refuses a key it never issued. A request this layer cannot map to
an action is refused too, so that a new SDK call fails loudly here rather than on AWS.
"""
import io
import json
import re
import threading
import uuid
from email.utils import parseaddr
from urllib.parse import parse_qs
from xml.sax.saxutils import escape

from moto.dynamodb.models import dynamodb_backends
from moto.ses.models import ses_backends

# limit_exceeded comes from limits_layer.py, which the runner puts before this script.
from moto.secretsmanager.models import secretsmanager_backends

ACCOUNT = "123456789012"
ADMINISTRATOR = "test"
CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/[^/]+/([^/]+)/([^/]+)/aws4_request")


class Unmapped(Exception):
    """A request whose IAM actions this layer does not know."""


class Unsupported(Exception):
    """A policy construct this layer cannot evaluate."""


def arn(service, region, resource):
    return f"arn:aws:{service}:{region}:{ACCOUNT}:{resource}"


def leading_keys(region, table_name, items):
    """The `dynamodb:LeadingKeys` condition key: the partition key values these items (keys or
    whole items, in DynamoDB's JSON) are in."""
    try:
        hash_key = dynamodb_backends[ACCOUNT][region].get_table(table_name.rsplit("/", 1)[-1]).hash_key_attr
    except Exception:  # noqa: BLE001 - no such table: DynamoDB answers that, after IAM
        return {}
    values = [next(iter(item[hash_key].values())) for item in items if hash_key in item]
    return {"dynamodb:leadingkeys": [str(value) for value in values]}


def query_leading_keys(region, params):
    """The partition key value a query names in its key condition (`key = :value`)."""
    names = params.get("ExpressionAttributeNames", {})
    values = params.get("ExpressionAttributeValues", {})
    for name, placeholder in re.findall(r"([#\w]+)\s*=\s*(:\w+)", params.get("KeyConditionExpression", "")):
        context = leading_keys(region, params["TableName"], [{names.get(name, name): values.get(placeholder, {})}])
        if context.get("dynamodb:leadingkeys"):
            return context
    return {}


def dynamodb_checks(operation, params, region):
    def table(name):
        return name if name.startswith("arn:") else arn("dynamodb", region, f"table/{name}")

    if operation in {"GetItem", "UpdateItem", "DeleteItem"}:
        context = leading_keys(region, params["TableName"], [params["Key"]])
        return [(f"dynamodb:{operation}", table(params["TableName"]), context)]
    if operation == "PutItem":
        context = leading_keys(region, params["TableName"], [params["Item"]])
        return [("dynamodb:PutItem", table(params["TableName"]), context)]
    if operation == "DescribeTable":
        return [("dynamodb:DescribeTable", table(params["TableName"]))]
    if operation in {"Query", "Scan"}:
        resource = table(params["TableName"])
        if params.get("IndexName"):
            resource += f"/index/{params['IndexName']}"
        context = query_leading_keys(region, params) if operation == "Query" and not params.get("IndexName") else {}
        return [(f"dynamodb:{operation}", resource, context)]
    if operation == "BatchGetItem":
        return [
            ("dynamodb:BatchGetItem", table(name), leading_keys(region, name, request["Keys"]))
            for name, request in params["RequestItems"].items()
        ]
    if operation == "BatchWriteItem":
        return [
            ("dynamodb:BatchWriteItem", table(name),
             leading_keys(region, name, [next(iter(write.values())).get("Key") or next(iter(write.values()))["Item"]
                                         for write in writes]))
            for name, writes in params["RequestItems"].items()
        ]
    if operation == "TransactWriteItems":
        actions = {"ConditionCheck": "ConditionCheckItem", "Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem"}
        return [
            (f"dynamodb:{actions[kind]}", table(item["TableName"]),
             leading_keys(region, item["TableName"], [item.get("Key") or item["Item"]]))
            for entry in params["TransactItems"]
            for kind, item in entry.items()
        ]
    if operation == "TransactGetItems":
        return [
            ("dynamodb:GetItem", table(entry["Get"]["TableName"]),
             leading_keys(region, entry["Get"]["TableName"], [entry["Get"]["Key"]]))
            for entry in params["TransactItems"]
        ]
    raise Unmapped(f"DynamoDB {operation}")


def streams_checks(operation, params, region):
    if operation in {"DescribeStream", "GetShardIterator"}:
        return [(f"dynamodb:{operation}", params["StreamArn"])]
    if operation == "GetRecords":
        # moto's iterators are `{stream arn}|1|{id}`: the stream they read is what IAM checks.
        return [("dynamodb:GetRecords", params["ShardIterator"].split("|", 1)[0])]
    if operation == "ListStreams":
        return [("dynamodb:ListStreams", arn("dynamodb", region, f"table/{params.get('TableName', '*')}/stream/*"))]
    raise Unmapped(f"DynamoDB Streams {operation}")


def sqs_checks(operation, params, region):
    if operation == "GetQueueUrl":
        return [("sqs:GetQueueUrl", arn("sqs", region, params["QueueName"]))]
    queue = arn("sqs", region, params["QueueUrl"].rstrip("/").rsplit("/", 1)[-1])
    batched = {"SendMessageBatch": "SendMessage", "DeleteMessageBatch": "DeleteMessage",
               "ChangeMessageVisibilityBatch": "ChangeMessageVisibility"}
    if operation in batched:
        return [(f"sqs:{batched[operation]}", queue)]
    if operation in {"SendMessage", "ReceiveMessage", "DeleteMessage", "ChangeMessageVisibility", "GetQueueAttributes"}:
        return [(f"sqs:{operation}", queue)]
    raise Unmapped(f"SQS {operation}")


def sns_checks(params):
    operation = params.get("Action", "")
    if operation in {"Publish", "PublishBatch"}:
        # A text message is authorised against the phone number it goes to.
        target = params.get("TopicArn") or params.get("TargetArn") or params.get("PhoneNumber")
        return [("sns:Publish", target)]
    if operation == "CheckIfPhoneNumberIsOptedOut":
        return [("sns:CheckIfPhoneNumberIsOptedOut", "*")]
    raise Unmapped(f"SNS {operation}")


def ses_checks(method, path, params, region):
    if (method, path) != ("POST", "/v2/email/outbound-emails"):
        raise Unmapped(f"SES {method} {path}")
    _, sender = parseaddr(params.get("FromEmailAddress", ""))
    sender = sender.lower()
    # SES authorises the identity it sends as: the address if it is verified, else its domain.
    identities = ses_backends[ACCOUNT][region].email_identities
    identity = sender if sender in identities else sender.rpartition("@")[2]
    context = {"ses:fromaddress": sender, "ses:apiversion": "2"}
    checks = [("ses:SendEmail", arn("ses", region, f"identity/{identity}"), context)]
    if params.get("ConfigurationSetName"):
        checks.append(("ses:SendEmail", arn("ses", region, f"configuration-set/{params['ConfigurationSetName']}"), context))
    return checks


def secrets_checks(operation, params, region):
    if operation not in {"GetSecretValue", "DescribeSecret"}:
        raise Unmapped(f"Secrets Manager {operation}")
    secret_id = params["SecretId"]
    if not secret_id.startswith("arn:"):
        secret = secretsmanager_backends[ACCOUNT][region].secrets.get(secret_id)
        secret_id = secret.arn if secret is not None else arn("secretsmanager", region, f"secret:{secret_id}")
    return [(f"secretsmanager:{operation}", secret_id)]


def checks_of(service, region, method, path, target, body):
    """What AWS evaluates for one request: (action, resource[, condition context]) each."""
    prefix, _, operation = target.partition(".")
    if is_query_protocol(service, path):
        params = {key: values[0] for key, values in parse_qs(body.decode("utf-8")).items()}
        return sns_checks(params) if service == "sns" else ses_checks(method, path, params, region)
    params = json.loads(body or b"{}")
    if prefix == "DynamoDB_20120810":
        return dynamodb_checks(operation, params, region)
    if prefix == "DynamoDBStreams_20120810":
        return streams_checks(operation, params, region)
    if prefix == "AmazonSQS":
        return sqs_checks(operation, params, region)
    if prefix == "secretsmanager":
        return secrets_checks(operation, params, region)
    if service == "ses":
        return ses_checks(method, path, params, region)
    raise Unmapped(f"{service} {target or method + ' ' + path}")


def like(pattern, value, ignore_case=False):
    expression = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(expression, value, re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL) is not None


def listed(value):
    return value if isinstance(value, list) else [value]


def condition_holds(condition, context):
    for operator, entries in condition.items():
        qualifier, _, operator = operator.rpartition(":")
        for key, expected in entries.items():
            actual = context.get(key.lower())
            if qualifier and not set_condition_holds(qualifier, operator, expected, actual):
                return False
            if not qualifier and not single_condition_holds(operator, expected, actual):
                return False
    return True


def set_condition_holds(qualifier, operator, expected, actual):
    """`ForAllValues:` holds when every value of the key matches (and, as on AWS, when the
    request has no such key); `ForAnyValue:` when one does."""
    values = actual if isinstance(actual, list) else ([] if actual is None else [actual])
    if qualifier == "ForAllValues":
        return all(single_condition_holds(operator, expected, value) for value in values)
    if qualifier == "ForAnyValue":
        return any(single_condition_holds(operator, expected, value) for value in values)
    raise Unsupported(f"condition qualifier {qualifier}")


def single_condition_holds(operator, expected, actual):
    """One operator on one value of a key (`actual`, None when the request has no such key)."""
    expected = [str(value) for value in listed(expected)]
    base = operator.removesuffix("IfExists")
    if base == "Null":
        return (actual is None) == (expected[0].lower() == "true")
    negated = "Not" in base
    if actual is None:
        return operator.endswith("IfExists") or negated
    if isinstance(actual, list):
        # A multi-valued key without ForAllValues/ForAnyValue: any value may match, as on AWS.
        return any(single_condition_holds(operator, expected, value) for value in actual)
    if base in {"StringEquals", "StringNotEquals"}:
        hit = actual in expected
    elif base in {"StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase"}:
        hit = actual.lower() in (value.lower() for value in expected)
    elif base in {"StringLike", "StringNotLike", "ArnEquals", "ArnNotEquals", "ArnLike", "ArnNotLike"}:
        hit = any(like(value, actual) for value in expected)
    elif base == "Bool":
        hit = actual.lower() in (value.lower() for value in expected)
    else:
        raise Unsupported(f"condition operator {operator}")
    return hit != negated


def applies(statement, action, resource, context):
    if "Action" in statement:
        if not any(like(pattern, action, ignore_case=True) for pattern in listed(statement["Action"])):
            return False
    elif any(like(pattern, action, ignore_case=True) for pattern in listed(statement.get("NotAction", []))):
        return False
    if "Resource" in statement:
        if not any(like(pattern, resource) for pattern in listed(statement["Resource"])):
            return False
    elif any(like(pattern, resource) for pattern in listed(statement.get("NotResource", []))):
        return False
    return condition_holds(statement.get("Condition", {}), context)


def refusal(statements, action, resource, context):
    """Why AWS would refuse this action on this resource, or None if it is allowed."""
    matching = [statement for statement in statements if applies(statement, action, resource, context)]
    if any(statement["Effect"] == "Deny" for statement in matching):
        return "with an explicit deny in an identity-based policy"
    if any(statement["Effect"] == "Allow" for statement in matching):
        return None
    return f"because no identity-based policy allows the {action} action"


def is_query_protocol(service, path):
    """SNS and SES v1 take form-encoded queries and answer in XML; the rest speak JSON."""
    return service == "sns" or (service == "ses" and not path.startswith("/v2/"))


def denied(service, path, target, message, code="AccessDeniedException"):
    """The answer each service gives a caller it refuses, in that service's protocol."""
    request_id = str(uuid.uuid4())
    if is_query_protocol(service, path):
        code = "AuthorizationError" if service == "sns" and code == "AccessDeniedException" else code
        body = (
            f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>{escape(message)}</Message></Error>"
            f"<RequestId>{request_id}</RequestId></ErrorResponse>"
        )
        return "403 Forbidden", "text/xml", body, []
    if service == "ses":
        return "403 Forbidden", "application/json", json.dumps({"message": message}), [("x-amzn-ErrorType", code)]
    body = json.dumps({"__type": f"com.amazon.coral.service#{code}", "message": message, "Message": message})
    extra = [("x-amzn-query-error", f"{code.removesuffix('Exception')};Sender")] if target.startswith("AmazonSQS") else []
    return "400 Bad Request", "application/x-amz-json-1.0", body, extra


class IamLayer:
    def __init__(self, app):
        self.app = app
        self.principals = {}
        self.denials = []
        self.calls = {}
        self.lock = threading.Lock()

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path.startswith("/orderflow/iam/"):
            return self.administer(environ, start_response, path)
        credential = CREDENTIAL.search(environ.get("HTTP_AUTHORIZATION", ""))
        if credential is None:
            return self.app(environ, start_response)
        key, region, service = credential.groups()
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        environ["wsgi.input"] = io.BytesIO(body)
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        # As on AWS, a caller is authorised first, then the request is held to the limits.
        refused = None
        if key != ADMINISTRATOR:
            refused = self.refusal(key, region, service, environ["REQUEST_METHOD"], path, target, body)
        refused = refused or limit_exceeded(environ, body)
        if refused is None:
            self.count(key, region, service, environ["REQUEST_METHOD"], path, target, body)
            return self.app(environ, start_response)
        status, content_type, text, extra = refused
        payload = text.encode("utf-8")
        start_response(status, [("Content-Type", content_type), ("Content-Length", str(len(payload)))] + extra)
        return [payload]

    def refusal(self, key, region, service, method, path, target, body):
        principal = self.principals.get(key)
        if principal is None:
            self.record({"key": key, "reason": "unknown access key"})
            return denied(service, path, target, "The security token included in the request is invalid.",
                          "UnrecognizedClientException")
        caller = f"arn:aws:sts::{ACCOUNT}:assumed-role/{principal['role']}/{principal['function']}"
        try:
            checks = checks_of(service, region, method, path, target, body)
        except Unmapped as unmapped:
            reason = f"the local cloud does not know the IAM actions of {unmapped}: map it in iam_layer.py"
            self.record({"key": key, "function": principal["function"], "reason": reason})
            return denied(service, path, target, f"User: {caller} is not authorized: {reason}")
        for check in checks:
            action, resource = check[0], check[1]
            context = check[2] if len(check) > 2 else {}
            try:
                why = refusal(principal["statements"], action, resource, context)
            except Unsupported as unsupported:
                why = f"because the local cloud cannot evaluate {unsupported}"
            if why is not None:
                self.record({"key": key, "function": principal["function"], "action": action, "resource": resource,
                             "reason": why})
                message = f"User: {caller} is not authorized to perform: {action} on resource: {resource} {why}"
                return denied(service, path, target, message)
        return None

    def count(self, key, region, service, method, path, target, body):
        if key == ADMINISTRATOR:
            return
        if target:
            operation = target.rpartition(".")[2]
        elif is_query_protocol(service, path):
            operation = parse_qs(body.decode("utf-8")).get("Action", ["?"])[0]
        else:
            operation = f"{method} {path.split('/')[2] if path.count('/') > 1 else path}"
        if service == "ses" and (method, path) == ("POST", "/v2/email/outbound-emails"):
            operation = "SendEmail"
        try:
            if service == "dynamodb":
                items = len(checks_of(service, region, method, path, target, body))
            elif operation == "PublishBatch":
                items = sum(1 for key in parse_qs(body.decode("utf-8")) if key.endswith(".Message"))
            elif operation == "SendMessageBatch":
                items = len(json.loads(body).get("Entries", []))
            else:
                items = 1
        except (Unmapped, KeyError, ValueError):
            items = 1
        name = f"{service}:{operation}"
        with self.lock:
            counted = self.calls.setdefault(key, {}).setdefault(name, {"calls": 0, "items": 0})
            counted["calls"] += 1
            counted["items"] += items

    def record(self, denial):
        with self.lock:
            self.denials.append(denial)

    def administer(self, environ, start_response, path):
        if path == "/orderflow/iam/principals" and environ["REQUEST_METHOD"] == "POST":
            registered = json.loads(environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0)))
            with self.lock:
                self.principals.update(registered)
            answer = {"registered": len(registered)}
        elif path == "/orderflow/iam/denials":
            with self.lock:
                answer = list(self.denials)
        elif path == "/orderflow/iam/calls":
            with self.lock:
                answer = json.loads(json.dumps(self.calls))
        else:
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"no such IAM route"]
        payload = json.dumps(answer).encode("utf-8")
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))])
        return [payload]
