"""Unit tests of the layers the runner puts in front of moto: the IAM evaluator, AWS's limits,
the fault layer's reading of requests. The layers are loaded as the runner loads them: the
scripts one after another in one namespace (`infra/local/src/cloud/mod.rs`), so that a name one
layer takes from another resolves here as it does there.
"""
import json
import pathlib
import unittest

HERE = pathlib.Path(__file__).resolve().parent.parent
LAYERS = ("limits_layer.py", "iam_layer.py", "faults_layer.py")


def load_layers():
    namespace = {"__name__": "layers"}
    source = "\n".join((HERE / name).read_text(encoding="utf-8") for name in LAYERS)
    exec(compile(source, "layers", "exec"), namespace)  # noqa: S102 - the runner's own scripts
    return namespace


L = load_layers()
TABLE = "arn:aws:dynamodb:us-east-1:123456789012:table/Orders"


class Wildcards(unittest.TestCase):
    def test_star_and_question_mark_match_as_iam_matches_them(self):
        self.assertTrue(L["like"]("dynamodb:*", "dynamodb:GetItem"))
        self.assertTrue(L["like"]("arn:aws:sqs:*:*:queue-?", "arn:aws:sqs:us-east-1:1:queue-a"))
        self.assertFalse(L["like"]("arn:aws:sqs:*:*:queue-?", "arn:aws:sqs:us-east-1:1:queue-ab"))
        self.assertFalse(L["like"]("dynamodb:Get*", "dynamodb:getitem"))
        self.assertTrue(L["like"]("dynamodb:Get*", "dynamodb:getitem", ignore_case=True))
        self.assertTrue(L["like"]("a.b", "a.b") and not L["like"]("a.b", "axb"), "dots are literal")


class Refusal(unittest.TestCase):
    allow_reads = {"Effect": "Allow", "Action": ["dynamodb:GetItem", "dynamodb:Query"], "Resource": TABLE}

    def test_allowed_only_what_a_statement_allows(self):
        refusal = L["refusal"]
        self.assertIsNone(refusal([self.allow_reads], "dynamodb:GetItem", TABLE, {}))
        self.assertIsNone(refusal([self.allow_reads], "DynamoDB:getitem", TABLE, {}), "actions ignore case")
        self.assertEqual(
            refusal([self.allow_reads], "dynamodb:PutItem", TABLE, {}),
            "because no identity-based policy allows the dynamodb:PutItem action",
        )
        self.assertIsNotNone(refusal([self.allow_reads], "dynamodb:GetItem", TABLE + "x", {}), "resources do not")
        self.assertIsNotNone(refusal([], "dynamodb:GetItem", TABLE, {}))

    def test_an_explicit_deny_wins_over_any_allow(self):
        deny = {"Effect": "Deny", "Action": "dynamodb:*", "Resource": "*"}
        self.assertEqual(
            L["refusal"]([self.allow_reads, deny], "dynamodb:GetItem", TABLE, {}),
            "with an explicit deny in an identity-based policy",
        )

    def test_not_action_and_not_resource_allow_everything_else(self):
        everything_but_deletes = {"Effect": "Allow", "NotAction": "dynamodb:Delete*", "NotResource": TABLE + "/index/*"}
        refusal = L["refusal"]
        self.assertIsNone(refusal([everything_but_deletes], "dynamodb:PutItem", TABLE, {}))
        self.assertIsNotNone(refusal([everything_but_deletes], "dynamodb:DeleteItem", TABLE, {}))
        self.assertIsNotNone(refusal([everything_but_deletes], "dynamodb:Query", TABLE + "/index/by-customer", {}))


class Conditions(unittest.TestCase):
    leading_keys = {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["ORDER#*"]}}

    def test_for_all_values_holds_for_every_value_and_for_none(self):
        holds = L["condition_holds"]
        self.assertTrue(holds(self.leading_keys, {"dynamodb:leadingkeys": ["ORDER#1", "ORDER#2"]}))
        self.assertFalse(holds(self.leading_keys, {"dynamodb:leadingkeys": ["ORDER#1", "SKU#2"]}))
        self.assertTrue(holds(self.leading_keys, {}), "as on AWS, a request without the key passes ForAllValues")

    def test_for_any_value_needs_one(self):
        any_order = {"ForAnyValue:StringEquals": {"dynamodb:LeadingKeys": "ORDER#1"}}
        self.assertTrue(L["condition_holds"](any_order, {"dynamodb:leadingkeys": ["SKU#1", "ORDER#1"]}))
        self.assertFalse(L["condition_holds"](any_order, {}))

    def test_single_operators_if_exists_null_and_negation(self):
        single = L["single_condition_holds"]
        self.assertTrue(single("StringEquals", "orders@shop.example", "orders@shop.example"))
        self.assertFalse(single("StringEquals", "orders@shop.example", "ORDERS@shop.example"))
        self.assertTrue(single("StringEqualsIgnoreCase", "orders@shop.example", "ORDERS@shop.example"))
        self.assertTrue(single("StringNotEquals", "a", "b"))
        self.assertTrue(single("StringEqualsIfExists", "a", None))
        self.assertFalse(single("StringEquals", "a", None))
        self.assertTrue(single("Null", "true", None))
        self.assertFalse(single("Null", "true", "x"))
        self.assertTrue(single("Bool", "true", "True"))
        self.assertTrue(single("ArnLike", "arn:aws:sns:*:*:alarms", "arn:aws:sns:us-east-1:1:alarms"))

    def test_an_operator_it_does_not_know_is_refused_not_guessed(self):
        with self.assertRaises(L["Unsupported"]):
            L["single_condition_holds"]("NumericLessThan", "3", "2")
        with self.assertRaises(L["Unsupported"]):
            L["set_condition_holds"]("ForSomeValues", "StringEquals", "a", "a")


class Checks(unittest.TestCase):
    def test_a_transaction_is_checked_item_by_item_under_each_item_s_own_action(self):
        params = {"TransactItems": [
            {"ConditionCheck": {"TableName": "Inventory", "Key": {"pk": {"S": "SKU#1"}}}},
            {"Put": {"TableName": "Orders", "Item": {"pk": {"S": "ORDER#1"}}}},
            {"Update": {"TableName": "Orders", "Key": {"pk": {"S": "ORDER#1"}}}},
        ]}
        checks = L["dynamodb_checks"]("TransactWriteItems", params, "us-east-1")
        self.assertEqual(
            [(action, resource) for action, resource, _ in checks],
            [
                ("dynamodb:ConditionCheckItem", "arn:aws:dynamodb:us-east-1:123456789012:table/Inventory"),
                ("dynamodb:PutItem", TABLE),
                ("dynamodb:UpdateItem", TABLE),
            ],
        )

    def test_a_query_on_an_index_is_checked_on_the_index(self):
        checks = L["dynamodb_checks"]("Query", {"TableName": "Orders", "IndexName": "by-customer"}, "us-east-1")
        self.assertEqual(checks, [("dynamodb:Query", TABLE + "/index/by-customer", {})])

    def test_a_call_it_cannot_map_is_refused_rather_than_let_through(self):
        with self.assertRaises(L["Unmapped"]):
            L["dynamodb_checks"]("RestoreTableFromBackup", {}, "us-east-1")


class Limits(unittest.TestCase):
    def test_a_publish_batch_counts_every_message_and_attribute(self):
        params = {
            "Action": "PublishBatch",
            "PublishBatchRequestEntries.member.1.Message": "é" * 10,
            "PublishBatchRequestEntries.member.1.MessageAttributes.entry.1.Value.StringValue": "abc",
            "PublishBatchRequestEntries.member.1.Id": "not counted",
        }
        self.assertEqual(L["publish_batch_bytes"](params), 23)

    def test_over_the_limit_is_refused_as_aws_refuses_it_and_under_passes(self):
        exceeded = L["limit_exceeded"]
        target = {"HTTP_X_AMZ_TARGET": "DynamoDB_20120810.TransactWriteItems"}
        status, _, body, _ = exceeded(target, b"x" * (4 * 1024 * 1024 + 1))
        self.assertEqual(status, "400 Bad Request")
        self.assertIn("ValidationException", json.loads(body)["__type"])
        self.assertIsNone(exceeded(target, b"x" * 1024))
        batch = ("Action=PublishBatch&PublishBatchRequestEntries.member.1.Message=" + "a" * (256 * 1024 + 1)).encode()
        status, _, body, _ = exceeded({}, batch)
        self.assertIn("BatchRequestTooLong", body)
        self.assertIsNone(exceeded({}, b"Action=PublishBatch&PublishBatchRequestEntries.member.1.Message=a"))


class Faults(unittest.TestCase):
    def test_each_protocol_names_its_action_where_it_puts_it(self):
        action = L["service_action"]
        self.assertEqual(action({"HTTP_X_AMZ_TARGET": "AmazonSQS.SendMessage"}, b""), ("AmazonSQS", "SendMessage"))
        self.assertEqual(action({}, b"Version=1&Action=Publish&x=y"), ("query", "Publish"))
        self.assertEqual(action({"PATH_INFO": "/v2/email/outbound-emails"}, b""), ("sesv2", "/v2/email/outbound-emails"))
        self.assertEqual(action({}, b""), ("", ""))


if __name__ == "__main__":
    unittest.main()
