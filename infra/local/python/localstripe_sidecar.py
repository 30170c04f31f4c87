"""Runs localstripe on loopback until standard input closes.

localstripe's own `start()` listens on every interface, on a fixed port, and loads and saves
its state in /tmp (shared by every instance on the machine). This serves the same app on
127.0.0.1, on the port given (0: any free one, printed on the first line of stdout), with its
state kept in memory only.

Three things Stripe does that localstripe does not are added here, because Orderflow depends
on them: `Idempotency-Key` (a POST with a key seen before gets the first answer again), the
test cards' charge-time declines with their `decline_code` (generic, insufficient funds, lost,
expired, incorrect CVC), and the CVC and postal-code checks of a card payment method.

And the events Stripe sends of its own accord, signed, to the endpoint registered with
localstripe's `/_config/webhooks/{id}`: a charge on the test card 4000000000000259 is disputed
as fraudulent once captured (`charge.dispute.created`), `GET`/`POST /v1/disputes/{id}` read it
and take evidence (as in Stripe's test mode, evidence saying `winning_evidence` or
`losing_evidence` closes it won or lost), a cancelled PaymentIntent sends
`payment_intent.canceled`, and two controls play what only time or a bank does:
`POST /orderflow/payment_intents/{id}/expire` (the authorisation lapses) and
`POST /orderflow/refunds/{id}/fail` (the refund bounces).

And faults, as Stripe fails, for `--faults RATE`: `POST /orderflow/faults {"rate": 0.1,
"seed": 7, "timeout_seconds": 4}` answers that fraction of API calls with a 429 or a 500 before
anything is done, a silence longer than the client waits, or (the hardest) the call done and its
answer lost to a 500 or a silence; `GET /orderflow/faults` counts what was injected.

Every API call is counted by operation (`POST /v1/payment_intents/{id}/capture`), faults and
replays included, as Stripe's rate limit counts them: `GET /orderflow/calls`.
"""
import asyncio
import json
import os
import random
import socket
import sys
import threading

from aiohttp import web
from localstripe.errors import UserError
from localstripe.resources import Charge, Event, PaymentMethod, StripeObject, store
from localstripe.server import app
from localstripe.webhooks import schedule_webhook

store.dump_to_disk = lambda: None

# https://docs.stripe.com/testing#declined-payments
DECLINES = {
    "4000000000000002": "generic_decline",
    "4000000000009995": "insufficient_funds",
    "4000000000009987": "lost_card",
    "4000000000000069": "expired_card",
    "4000000000000127": "incorrect_cvc",
    "4000000000000341": "generic_decline",
}
CVC_CHECK_FAILS = {"4000000000000101"}
# https://docs.stripe.com/testing#disputes: charged, then disputed as fraudulent.
DISPUTED = {"4000000000000259"}
EVIDENCE_DAYS = 7
POSTAL_CHECK_FAILS = {"4000000000000036"}


def card_number(payment_method_id):
    try:
        return getattr(PaymentMethod._api_retrieve(payment_method_id), "_card_number", None)
    except UserError:
        return None


PaymentMethod._charging_is_declined = lambda self: getattr(self, "_card_number", None) in DECLINES


def set_auth_failure(charge):
    charge.status = "failed"
    charge.failure_code = "card_declined"
    charge.failure_message = "Your card was declined."
    charge._decline_code = DECLINES.get(card_number(charge.payment_method), "generic_decline")


def raise_failure(charge):
    raise CardError(charge.failure_message, charge.failure_code, charge._decline_code, charge.id)


class CardError(UserError):
    def __init__(self, message, code, decline_code, charge):
        super().__init__(402, message, {"code": code, "decline_code": decline_code, "charge": charge})
        self.body["error"]["type"] = "card_error"


Charge._set_auth_failure = set_auth_failure
Charge._raise_failure = raise_failure

original_method_init = PaymentMethod.__init__


def method_init(self, *args, **kwargs):
    original_method_init(self, *args, **kwargs)
    if self.type == "card":
        number = self._card_number
        postal = (self.billing_details.get("address") or {}).get("postal_code")
        self.card["checks"] = {
            "cvc_check": "fail" if number in CVC_CHECK_FAILS else "pass",
            "address_postal_code_check": "fail" if number in POSTAL_CHECK_FAILS else ("pass" if postal else None),
            "address_line1_check": None,
        }


PaymentMethod.__init__ = method_init

class Dispute(StripeObject):
    object = "dispute"
    _id_prefix = "dp_"

    def __init__(self, charge, amount):
        super().__init__()
        self.amount = amount
        self.currency = charge.currency
        self.charge = charge.id
        self.payment_intent = charge.payment_intent
        self.reason = "fraudulent"
        self.status = "needs_response"
        self.evidence = {}
        self.evidence_details = {"due_by": self.created + EVIDENCE_DAYS * 86400, "has_evidence": False,
                                 "past_due": False, "submission_count": 0}
        self.is_charge_refundable = False
        self.metadata = {}


original_capture = Charge._capture


def capture_then_dispute(self, amount, on_success=None):
    original_capture(self, amount, on_success)
    if card_number(self.payment_method) in DISPUTED:
        dispute = Dispute(self, self.amount if amount is None else int(amount))
        schedule_webhook(Event("charge.dispute.created", dispute))


Charge._capture = capture_then_dispute


def stored(kind, object_id):
    found = store.get(f"{kind}:{object_id}")
    if found is None:
        raise web.HTTPNotFound(text=json.dumps({"error": {"type": "invalid_request_error",
                                                          "message": f"No such {kind}: {object_id}"}}),
                               content_type="application/json")
    return found


async def get_dispute(request):
    return web.json_response(stored("dispute", request.match_info["id"])._export())


async def update_dispute(request):
    dispute = stored("dispute", request.match_info["id"])
    form = await request.post()
    evidence = {key[len("evidence["):-1]: value for key, value in form.items() if key.startswith("evidence[")}
    if dispute.status not in ("needs_response", "warning_needs_response"):
        return web.json_response({"error": {"type": "invalid_request_error",
                                            "message": f"This dispute is {dispute.status}."}}, status=400)
    dispute.evidence.update(evidence)
    dispute.evidence_details["has_evidence"] = True
    if form.get("submit") == "true":
        dispute.evidence_details["submission_count"] += 1
        dispute.status = "under_review"
        schedule_webhook(Event("charge.dispute.updated", dispute))
        text = dispute.evidence.get("uncategorized_text", "")
        verdict = "won" if "winning_evidence" in text else "lost" if "losing_evidence" in text else None
        if verdict:
            dispute.status = verdict
            schedule_webhook(Event("charge.dispute.closed", dispute))
    return web.json_response(dispute._export())


async def expire_authorization(request):
    intent = stored("payment_intent", request.match_info["id"])
    if intent.status != "requires_capture":
        return web.json_response({"error": {"message": f"the PaymentIntent is {intent.status}"}}, status=400)
    intent._canceled = True
    intent.cancellation_reason = "automatic"
    schedule_webhook(Event("payment_intent.canceled", intent))
    return web.json_response(intent._export())


async def fail_refund(request):
    refund = stored("refund", request.match_info["id"])
    refund.status = "failed"
    refund.failure_reason = "expired_or_canceled_card"
    schedule_webhook(Event("charge.refund.updated", refund))
    return web.json_response(refund._export())


app.router.add_get("/v1/disputes/{id}", get_dispute)
app.router.add_post("/v1/disputes/{id}", update_dispute)
app.router.add_post("/orderflow/payment_intents/{id}/expire", expire_authorization)
app.router.add_post("/orderflow/refunds/{id}/fail", fail_refund)


@web.middleware
async def cancellations_announced(request, handler):
    response = await handler(request)
    parts = request.path.split("/")
    if request.method == "POST" and len(parts) == 5 and parts[2] == "payment_intents" and parts[4] == "cancel" \
            and response.status == 200:
        intent = store.get(f"payment_intent:{parts[3]}")
        if intent is not None:
            intent.cancellation_reason = "requested_by_customer"
            schedule_webhook(Event("payment_intent.canceled", intent))
    return response


app.middlewares.append(cancellations_announced)

answered = {}


@web.middleware
async def idempotency(request, handler):
    key = request.headers.get("Idempotency-Key")
    if request.method != "POST" or not key:
        return await handler(request)
    scope = (request.headers.get("Authorization"), key)
    if scope in answered:
        status, body = answered[scope]
        return web.Response(status=status, body=body, content_type="application/json",
                            headers={"Idempotent-Replayed": "true"})
    response = await handler(request)
    # Stripe does not keep 5xx answers: the same key may be tried again.
    if response.status < 500:
        answered[scope] = (response.status, response.body)
    return response


app.middlewares.insert(0, idempotency)

FAULT_KINDS = (("throttled", 3), ("error", 2), ("timeout", 1), ("applied_then_error", 3), ("applied_then_timeout", 1))
faults = {"rate": 0.0, "random": random.Random(0), "timeout_seconds": 4.0, "injected": {}}


def stripe_error(status, kind, message):
    body = json.dumps({"error": {"type": kind, "message": message}})
    return web.Response(status=status, body=body, content_type="application/json")


@web.middleware
async def injected_faults(request, handler):
    if request.path == "/orderflow/faults":
        if request.method == "POST":
            settings = await request.json()
            faults.update(rate=float(settings.get("rate", 0)), random=random.Random(settings.get("seed", 0)),
                          timeout_seconds=float(settings.get("timeout_seconds", 4)), injected={})
        return web.json_response({"rate": faults["rate"], "injected": faults["injected"]})
    if not request.path.startswith("/v1/") or faults["random"].random() >= faults["rate"]:
        return await handler(request)
    names, weights = zip(*FAULT_KINDS)
    kind = faults["random"].choices(names, weights)[0]
    faults["injected"][kind] = faults["injected"].get(kind, 0) + 1
    if kind.startswith("applied"):
        try:
            await handler(request)
        except Exception:  # a refusal is applied as much as it ever is
            pass
    if kind.endswith("timeout"):
        await asyncio.sleep(faults["timeout_seconds"])
    if kind == "throttled":
        return stripe_error(429, "rate_limit_error", "Too many requests hit the API too quickly.")
    return stripe_error(500, "api_error", "An error occurred with our API.")


# Outside the idempotency check, as a network fault is: an answer lost after the call was done
# is replayed when the same key is sent again.
app.middlewares.insert(0, injected_faults)

calls = {}


def operation(request):
    """`METHOD /v1/kind/{id}/action`: the path with object ids (`pi_…`, `pm_card_visa`) elided."""
    parts = ["{id}" if index > 2 and "_" in part else part for index, part in enumerate(request.path.split("/"))]
    return f"{request.method} {'/'.join(parts)}"


@web.middleware
async def counted(request, handler):
    if request.path == "/orderflow/calls":
        return web.json_response(calls)
    if request.path.startswith("/v1/"):
        name = operation(request)
        calls[name] = calls.get(name, 0) + 1
    return await handler(request)


app.middlewares.insert(0, counted)

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
