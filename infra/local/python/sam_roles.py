"""Prints, as JSON, the IAM role each function of the SAM template on standard input gets once AWS has transformed it.

SAM's translator (aws-sam-translator, offline) expands the template exactly as
`AWS::Serverless-2016-10-31` does at deploy time: policy templates, the statements SAM adds for
event sources and on-failure destinations, and the AWS-managed policies it attaches by ARN.
Those managed policies are not in the translator; their documents are below, as AWS publishes
them. Intrinsic functions are left for the runner, which knows what each resolves to locally.

Output: {"FunctionLogicalId": {"role": "RoleLogicalId", "policies": [{"name", "document"}]}}.
"""
import json
import os
import sys

os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")

from samtranslator.model.exceptions import InvalidDocumentException  # noqa: E402
from samtranslator.translator.transform import transform  # noqa: E402
from samtranslator.yaml_helper import yaml_parse  # noqa: E402

# The AWS-managed policies SAM attaches, as AWS publishes them (version v1 of each).
MANAGED = {
    "AWSLambdaBasicExecutionRole": [
        {
            "Effect": "Allow",
            "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": "*",
        }
    ],
    "AWSXrayWriteOnlyAccess": [
        {
            "Effect": "Allow",
            "Action": [
                "xray:PutTraceSegments",
                "xray:PutTelemetryRecords",
                "xray:GetSamplingRules",
                "xray:GetSamplingTargets",
                "xray:GetSamplingStatisticSummaries",
            ],
            "Resource": "*",
        }
    ],
    "AWSLambdaSQSQueueExecutionRole": [
        {
            "Effect": "Allow",
            "Action": ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"],
            "Resource": "*",
        },
        {
            "Effect": "Allow",
            "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": "*",
        },
    ],
    "AWSLambdaDynamoDBExecutionRole": [
        {
            "Effect": "Allow",
            "Action": [
                "dynamodb:DescribeStream",
                "dynamodb:GetRecords",
                "dynamodb:GetShardIterator",
                "dynamodb:ListStreams",
                "logs:CreateLogGroup",
                "logs:CreateLogStream",
                "logs:PutLogEvents",
            ],
            "Resource": "*",
        }
    ],
}


class NoManagedPolicyNames:
    """Policies in the template name no managed policy by its short name."""

    def load(self):
        return {}


def managed_policy(arn):
    """The document of a managed policy SAM attaches, by its ARN (with `${AWS::Partition}`)."""
    text = arn.get("Fn::Sub", "") if isinstance(arn, dict) else arn
    name = text.rsplit("/", 1)[-1]
    if name not in MANAGED:
        raise SystemExit(f"SAM attached {text}, whose document this script does not know")
    return {"name": name, "document": {"Version": "2012-10-17", "Statement": MANAGED[name]}}


def roles(template):
    for resource in template.get("Resources", {}).values():
        if resource.get("Type") == "AWS::Serverless::Function":
            resource["Properties"]["CodeUri"] = "s3://orderflow-local/code.zip"
    try:
        transformed = transform(template, {}, NoManagedPolicyNames())
    except InvalidDocumentException as error:
        raise SystemExit("; ".join(cause.message for cause in error.causes)) from error
    resources = transformed["Resources"]
    out = {}
    for logical, resource in resources.items():
        if resource["Type"] != "AWS::Lambda::Function":
            continue
        role = resource["Properties"]["Role"]["Fn::GetAtt"][0]
        properties = resources[role]["Properties"]
        policies = [
            {"name": policy["PolicyName"], "document": policy["PolicyDocument"]}
            for policy in properties.get("Policies", [])
        ]
        policies += [managed_policy(arn) for arn in properties.get("ManagedPolicyArns", [])]
        out[logical] = {"role": role, "policies": policies}
    return out


print(json.dumps(roles(yaml_parse(sys.stdin.read()))))
