"""Runs moto server on loopback until standard input closes.

The parent keeps our stdin open for as long as it lives, so moto never outlives it, even when
the parent is killed. The chosen port is printed on the first line of stdout.

Requests are served one at a time. moto's TransactWriteItems is not isolated: a cancelled
transaction restores a snapshot of the tables taken when it began, erasing whatever another
request wrote meanwhile. DynamoDB's transactions are serializable; one request at a time keeps
that promise locally (moto holds the GIL for nearly all of a request anyway).

moto's TransactWriteItems also deep-copies every table it touches, once per item, before it
starts, so each transaction costs time in proportion to the table (and its stream) and a few
hundred orders slow it to a crawl. Requests being serialized, the replacement below checks
every condition first and writes only when all hold, as DynamoDB does, keeping a copy of just
the items it writes in case a write fails half-way.
"""
import copy
import json
import sys
from email.utils import parseaddr
import threading

from moto.dynamodb.comparisons import get_filter_expression
from moto.dynamodb.exceptions import (
    ConditionalCheckFailed,
    MockValidationException,
    MultipleTransactionsException,
    TooManyTransactionsException,
    TransactionCanceledException,
    TransactWriteSingleOpException,
)
from moto.dynamodb.models import DynamoDBBackend
from moto.ses.models import RawMessage, SESBackend, SESFeedback
from moto.sns.models import SNSBackend, sns_backends

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import make_server



def transact_write_items(self, transact_items):
    if len(transact_items) > 100:
        raise TooManyTransactionsException()
    targets = set()
    planned = []
    errors = []
    for entry in transact_items:
        if len(entry) > 1:
            raise TransactWriteSingleOpException
        op_type, op = next(iter(entry.items()))
        original_item = None
        try:
            if op_type not in {"ConditionCheck", "Put", "Delete", "Update"}:
                raise ValueError("Unsupported transaction operation")
            table_name = op["TableName"]
            if op_type == "Put":
                table = self.get_table(table_name)
                key = {table.hash_key_attr: op["Item"][table.hash_key_attr]}
                if table.range_key_attr is not None:
                    key[table.range_key_attr] = op["Item"][table.range_key_attr]
            else:
                key = op["Key"]
            target = (table_name, str(dict(sorted(key.items()))))
            if target in targets:
                raise MultipleTransactionsException()
            targets.add(target)
            current = self.get_item(table_name, key)
            condition = op.get("ConditionExpression")
            if condition is not None:
                holds = get_filter_expression(
                    condition, op.get("ExpressionAttributeNames"), op.get("ExpressionAttributeValues")
                ).expr(current)
                if not holds:
                    if op.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD" and current:
                        original_item = current.to_json()["Attributes"]
                    raise ConditionalCheckFailed(item=original_item)
            planned.append((op_type, op, table_name, key))
            errors.append((None, None, None))
        except (MultipleTransactionsException, MockValidationException):
            raise
        except ConditionalCheckFailed as error:
            errors.append(("ConditionalCheckFailed", str(error.message), original_item))
        except Exception as error:  # noqa: BLE001 - reported per item, as moto does
            errors.append((type(error).__name__, str(error), original_item))
    if any(code is not None for code, _, _ in errors):
        raise TransactionCanceledException(errors)

    before = [(table_name, key, copy.deepcopy(self.get_item(table_name, key))) for _, _, table_name, key in planned]
    try:
        for op_type, op, table_name, key in planned:
            names, values = op.get("ExpressionAttributeNames"), op.get("ExpressionAttributeValues")
            if op_type == "Put":
                self.put_item(table_name, op["Item"])
            elif op_type == "Delete":
                self.delete_item(table_name, key)
            elif op_type == "Update":
                self.update_item(
                    table_name,
                    key,
                    update_expression=op["UpdateExpression"],
                    expression_attribute_names=names,
                    expression_attribute_values=values,
                )
    except Exception:
        for table_name, key, item in before:
            if item is None:
                self.delete_item(table_name, key)
            else:
                self.put_item(table_name, item.to_json()["Attributes"])
        raise


DynamoDBBackend.transact_write_items = transact_write_items


def process_sns_feedback(self, source, destinations):
    """SES's bounce and complaint notifications, as SES sends them: JSON text naming the
    recipients the message went to. moto publishes a dict (which its own SQS delivery cannot
    encode) naming canned recipients."""
    _, address = parseaddr(str(source))
    topics = self.sns_topics.get(address.split("@")[-1], {})
    recipients = destinations if isinstance(destinations, list) else [
        address for kind in ("ToAddresses", "CcAddresses", "BccAddresses") for address in destinations.get(kind, [])
    ]
    kind = self.__type_of_message__(recipients)
    topic = topics.get(kind) if kind else None
    if not topic:
        return
    message = SESFeedback.generate_message(self.account_id, kind)
    message["notificationType"] = kind
    message["mail"] = dict(message["mail"], source=address, destination=recipients)
    if kind == SESFeedback.BOUNCE:
        message["bounce"] = dict(message["bounce"], bouncedRecipients=[
            {"emailAddress": to, "action": "failed", "status": "5.1.1", "diagnosticCode": "smtp; 550 5.1.1 user unknown"}
            for to in recipients
        ])
    elif kind == SESFeedback.COMPLAINT:
        message["complaint"] = dict(message["complaint"], complainedRecipients=[{"emailAddress": to} for to in recipients])
    sns_backends[self.account_id][self.region_name].publish(json.dumps(message), arn=topic)


SESBackend.__process_sns_feedback__ = process_sns_feedback

# Every e-mail and text message sent, in order, for the runner's outbox: moto's state dump
# (/moto-api/data.json) holds them too, but beside every other model, every DynamoDB item
# included, and grows by megabytes with each hundred orders.
OUTBOX = []


def recording_mail(send):
    def send_and_record(self, *args, **kwargs):
        before = len(self.sent_messages)
        sent = send(self, *args, **kwargs)
        for message in self.sent_messages[before:]:
            if isinstance(message, RawMessage):
                OUTBOX.append(("ses", "RawMessage", {"id": message.id, "source": message.source,
                                                     "destinations": message.destinations,
                                                     "raw_data": message.raw_data}))
            else:
                OUTBOX.append(("ses", "Message", {"id": message.id, "source": message.source,
                                                  "subject": message.subject, "body": message.body,
                                                  "destinations": message.destinations}))
        return sent
    return send_and_record


for name in ("send_email", "send_raw_email", "send_templated_email", "send_bulk_templated_email"):
    if hasattr(SESBackend, name):
        setattr(SESBackend, name, recording_mail(getattr(SESBackend, name)))


def recording_sms(publish):
    def publish_and_record(self, *args, **kwargs):
        before = len(self.sms_messages)
        published = publish(self, *args, **kwargs)
        if len(self.sms_messages) > before:
            for message_id, (phone_number, text) in list(self.sms_messages.items())[before:]:
                OUTBOX.append(("sns", "SMS", {"message_id": message_id, "phone_number": phone_number,
                                              "message": text}))
        return published
    return publish_and_record


SNSBackend.publish = recording_sms(SNSBackend.publish)


class OutboxLayer:
    """`GET /orderflow/outbox?after=N`: what was sent after the first N messages, shaped as in
    moto's state dump (`{"ses": {"RawMessage": [...]}, "sns": {"SMS": [...]}}`), and `next`,
    the N to ask with next time. Answered without waiting for the request in progress."""

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO", "") != "/orderflow/outbox":
            return self.app(environ, start_response)
        query = dict(part.split("=", 1) for part in environ.get("QUERY_STRING", "").split("&") if "=" in part)
        after = int(query.get("after", "0") or 0)
        sent = OUTBOX[after:]
        answer = {"next": after + len(sent)}
        for service, kind, message in sent:
            answer.setdefault(service, {}).setdefault(kind, []).append(message)
        payload = json.dumps(answer).encode("utf-8")
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))])
        return [payload]


backends = DomainDispatcherApplication(create_backend_app)
one_at_a_time = threading.Lock()


def serialized(environ, start_response):
    with one_at_a_time:
        return list(backends(environ, start_response))


port = int(sys.argv[1]) if len(sys.argv) > 1 else 0
# IamLayer and FaultLayer come from iam_layer.py and faults_layer.py, which the runner puts
# before this script: a call is authorised, then perhaps failed, then served.
server = make_server("127.0.0.1", port, IamLayer(FaultLayer(OutboxLayer(serialized))), threaded=True)
threading.Thread(target=server.serve_forever, daemon=True).start()
print(server.server_port, flush=True)
sys.stdin.read()
server.shutdown()
