"""AWS's limits that moto does not enforce, enforced in front of it, answered as AWS answers.

moto already refuses a DynamoDB item over 400 KB, a transaction over 100 items, a BatchGetItem
over 100 keys, an SNS message over 256 KiB, a PublishBatch over 10 entries and an SQS message
over the queue's maximum size (1 MiB by default, as on AWS since August 2025). It does not
refuse a PublishBatch whose messages together exceed 256 KiB, or a TransactWriteItems request
over 4 MB: those are refused here.
"""
import json
import re
from urllib.parse import parse_qs

SNS_BATCH_BYTES = 256 * 1024
TRANSACTION_BYTES = 4 * 1024 * 1024
BATCH_ENTRY = re.compile(r"PublishBatchRequestEntries\.member\.(\d+)\.(.+)")


def publish_batch_bytes(params):
    """What SNS counts against a batch: every message and every attribute's name, type and value."""
    total = 0
    for name, value in params.items():
        entry = BATCH_ENTRY.fullmatch(name)
        if entry is None:
            continue
        field = entry.group(2)
        if field == "Message" or field.startswith("MessageAttributes.entry."):
            total += len(value.encode("utf-8"))
    return total


def limit_exceeded(environ, body):
    """The refusal (status, content type, body, headers) for a request over one of AWS's limits."""
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    if target == "DynamoDB_20120810.TransactWriteItems" and len(body) > TRANSACTION_BYTES:
        message = "Transaction request cannot be larger than 4 MB"
        payload = json.dumps({"__type": "com.amazon.coral.validate#ValidationException", "message": message})
        return "400 Bad Request", "application/x-amz-json-1.0", payload, []
    if not target and re.search(rb"(^|&)Action=PublishBatch(&|$)", body):
        params = {key: values[0] for key, values in parse_qs(body.decode("utf-8")).items()}
        if params.get("Action") == "PublishBatch" and publish_batch_bytes(params) > SNS_BATCH_BYTES:
            message = f"The length of all the batch messages put together is more than the limit of {SNS_BATCH_BYTES} bytes."
            payload = (
                "<ErrorResponse><Error><Type>Sender</Type><Code>BatchRequestTooLong</Code>"
                f"<Message>{message}</Message></Error></ErrorResponse>"
            )
            return "400 Bad Request", "text/xml", payload, []
    return None
