#!/usr/bin/env python3
"""What a million orders cost on AWS, from the calls each order makes.

Reads the calls per order the regression test holds (tests/fixtures/calls-per-order.json,
counted at the emulators) and the invocation and log figures the load tool measured (LAMBDA
below, from `scripts/bench/load`), estimates Lambda's billed time from the calls, prices them at the list prices below, and prints one table per
order story plus the peak-day mix. Usage: scripts/bench/cost.py [--mix delivered=0.9,...]
"""
import json
import sys
from pathlib import Path

# us-east-1 list prices, USD, as published on each service's pricing page (read 2026-12; this
# machine cannot reach them, so check before quoting). Free tiers are left out.
PRICE = {
    "lambda_gb_second_arm64": 0.0000133334,
    "lambda_request": 0.20 / 1e6,
    "http_api_request": 1.00 / 1e6,  # HTTP API, first 300 million a month
    "dynamodb_write_unit": 0.625 / 1e6,  # on-demand
    "dynamodb_read_unit": 0.125 / 1e6,
    "sns_publish": 0.50 / 1e6,  # each message of a PublishBatch is one publish
    "sqs_request": 0.40 / 1e6,  # standard queues
    "ses_email": 0.10 / 1000,
    "logs_ingested_gb": 0.50,
    # A text message, carrier fees included, by country (they change often: check
    # AWS End User Messaging's SMS pricing before relying on them).
    "sms": {"US": 0.00847, "DE": 0.0829},
}

MEMORY_GB = 256 / 1024  # every function's MemorySize (template Globals)

# Measured by `scripts/bench/load --orders 200 --concurrency 8` (release builds, the local
# runner): invocations per order without the tool's own polling reads, and the functions' log
# lines per order. Durations are not taken from that run: against moto a DynamoDB call takes
# 100-500 ms, on AWS 3-10 ms, so Lambda's billed time is estimated from the counted calls at
# AWS's latencies (LATENCY_MS) instead.
LAMBDA = {
    "invocations_per_order": 7.3,
    "log_kb_per_order": 10.5,
}

# What a call keeps a function waiting on AWS (in-region, p50-ish) or on the payment provider,
# in ms; SNS's PublishBatch is counted per message here, ten to a request.
LATENCY_MS = {"dynamodb": 8, "sqs": 10, "sns:PublishBatch": 2, "sns": 30, "ses": 40, "secretsmanager": 20,
              "PaymentProvider": 400}
MS_PER_INVOCATION = 2

# The units a call consumes, by operation: DynamoDB's from the item sizes of our tables (an
# order's head item ~2 KB, a timeline entry, ledger record or key < 1 KB; a transaction pays
# twice per item; GetItem and Query read strongly consistent, an order and its timeline
# ~6 KB).
DYNAMODB_UNITS = {
    "dynamodb:GetItem": ("read", 1),
    "dynamodb:Query": ("read", 2),
    "dynamodb:BatchGetItem": ("read", 3),
    "dynamodb:PutItem": ("write", 1),
    "dynamodb:UpdateItem": ("write", 2),
    "dynamodb:TransactWriteItems": ("write", 2 * 2 * 2),  # ~2 items, 2 KB each, twice
}

# Lambda's event source mappings delete what they received; at a trickle each message is its
# own receive and delete, at peak ten share them. A message SNS delivers to a queue is counted
# as one SQS request too (conservative).
SQS_REQUESTS_PER_DELIVERED_MESSAGE = 2 + 1


def milliseconds(calls):
    """The functions' billed time for one order: each call's wait, and each invocation's own."""
    waited = 0
    for function, operations in calls.items():
        for operation, count in operations.items():
            service = "PaymentProvider" if function == "PaymentProvider" else operation.split(":")[0]
            waited += count * LATENCY_MS.get(operation, LATENCY_MS.get(service, 10))
    return waited + LAMBDA["invocations_per_order"] * MS_PER_INVOCATION


def cost_of(calls, sms_country):
    lines = {}
    sqs_messages = 0
    for function, operations in calls.items():
        for operation, count in operations.items():
            if operation in DYNAMODB_UNITS:
                kind, units = DYNAMODB_UNITS[operation]
                lines.setdefault(f"DynamoDB {kind}s", 0.0)
                lines[f"DynamoDB {kind}s"] += count * units * PRICE[f"dynamodb_{kind}_unit"]
            elif operation in ("sns:PublishBatch", "sns:Publish") and function == "StreamRouterFunction":
                lines["SNS events"] = lines.get("SNS events", 0.0) + count * PRICE["sns_publish"]
                # Each event reaches the queues subscribed to it; about one consumer each.
                sqs_messages += count
            elif operation == "sns:Publish":
                lines[f"SMS ({sms_country})"] = lines.get(f"SMS ({sms_country})", 0.0) + count * PRICE["sms"][sms_country]
            elif operation == "sns:CheckIfPhoneNumberIsOptedOut":
                lines["SNS opt-out checks"] = lines.get("SNS opt-out checks", 0.0) + count * PRICE["sns_publish"]
            elif operation == "ses:SendEmail":
                lines["SES e-mail"] = lines.get("SES e-mail", 0.0) + count * PRICE["ses_email"]
            elif operation.startswith("sqs:Send"):
                sqs_messages += count
    lines["SQS"] = sqs_messages * SQS_REQUESTS_PER_DELIVERED_MESSAGE * PRICE["sqs_request"]
    lines["Lambda requests"] = LAMBDA["invocations_per_order"] * PRICE["lambda_request"]
    lines["Lambda duration (arm64, 256 MB)"] = (
        milliseconds(calls) / 1000 * MEMORY_GB * PRICE["lambda_gb_second_arm64"]
    )
    lines["CloudWatch Logs"] = LAMBDA["log_kb_per_order"] / 1e6 * PRICE["logs_ingested_gb"]
    return lines


def main():
    calls = json.loads((Path(__file__).parents[2] / "tests/fixtures/calls-per-order.json").read_text())
    # The storefront's requests: the POST, three reads by the customer, and for a delivered
    # order six carrier webhooks.
    api_requests = {"delivered": 4 + 6, "rejected": 4, "declined": 4, "cancelled": 5}
    mix = {"delivered": 0.90, "rejected": 0.03, "declined": 0.04, "cancelled": 0.03}
    for argument in sys.argv[1:]:
        if argument.startswith("--mix="):
            mix = {name: float(share) for name, share in (pair.split("=") for pair in argument[6:].split(","))}
    for story in calls:
        print(f"{story}: ~{milliseconds(calls[story]):.0f} ms of Lambda time per order")
    for country in PRICE["sms"]:
        print(f"\nUSD per million orders, SMS to {country}:")
        stories = {story: cost_of(calls[story], country) for story in calls}
        for story, lines in stories.items():
            lines["API Gateway (HTTP API)"] = api_requests.get(story, 4) * PRICE["http_api_request"]
        names = sorted({name for lines in stories.values() for name in lines})
        print("| item | " + " | ".join(stories) + " | peak mix |")
        print("|---|" + "---|" * (len(stories) + 1))
        for name in names + ["total"]:
            def value(lines):
                return sum(lines.values()) if name == "total" else lines.get(name, 0.0)
            mixed = sum(share * value(stories[story]) for story, share in mix.items())
            cells = " | ".join(f"{value(lines) * 1e6:,.0f}" for lines in stories.values())
            print(f"| {name} | {cells} | {mixed * 1e6:,.0f} |")


if __name__ == "__main__":
    main()
