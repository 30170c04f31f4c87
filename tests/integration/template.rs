//! `infra/template.yaml` is the truth: it lints clean, and it says what DESIGN.md promises.

use std::{path::Path, process::Command};

use local::stack::template::{Template, default_path};
use serde_json::Value;
use shared::domain::EventType;

fn template() -> Template {
    Template::load(&default_path()).unwrap()
}

#[test]
fn cfn_lint_reports_nothing() {
    let python = local::cloud::python().unwrap_or_else(|error| panic!("{error}"));
    let cfn_lint = python.with_file_name("cfn-lint");
    let output = Command::new(cfn_lint).arg(default_path()).output().unwrap();
    let report = String::from_utf8_lossy(&output.stdout).into_owned() + &String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success() && report.trim().is_empty(), "cfn-lint says:\n{report}");
}

#[test]
fn functions_are_arm64_al2023_binaries_built_by_cargo_lambda() {
    let template = template();
    let globals = template.globals.get("Function").unwrap();
    assert_eq!(globals["Runtime"], "provided.al2023");
    assert_eq!(globals["Architectures"], serde_json::json!(["arm64"]));
    let functions: Vec<_> = template.of_type("AWS::Serverless::Function").collect();
    assert!(functions.len() >= 2);
    for (name, function) in functions {
        assert_eq!(function.metadata["BuildMethod"], "rust-cargolambda", "{name}");
        let binary = function.metadata["BuildProperties"]["Binary"].as_str().unwrap();
        assert_eq!(function.properties["Handler"], binary, "{name}: SAM runs the Handler's binary");
        let crate_dir = default_path().parent().unwrap().join(function.properties["CodeUri"].as_str().unwrap());
        let manifest = std::fs::read_to_string(crate_dir.join("Cargo.toml")).unwrap();
        assert!(
            manifest.contains(&format!("name = \"{binary}\"")),
            "{name}: {} builds no {binary}",
            crate_dir.display()
        );
        let log_group = function.properties["LoggingConfig"]["LogGroup"]["Ref"].as_str().unwrap();
        assert!(template.resource(log_group).unwrap().properties.get("RetentionInDays").is_some(), "{name}");
    }
}

/// Every statement of every function's role, as AWS gets it from SAM's translation.
fn translated_statements() -> std::collections::BTreeMap<String, Vec<Value>> {
    local::stack::iam::translated_statements(&template()).unwrap_or_else(|error| panic!("{error}"))
}

fn actions_of(statement: &Value) -> Vec<&str> {
    match &statement["Action"] {
        Value::Array(actions) => actions.iter().filter_map(Value::as_str).collect(),
        Value::String(action) => vec![action],
        other => panic!("{other}"),
    }
}

/// The only actions granted on every resource, each because IAM cannot scope it.
const UNSCOPABLE: &[(&str, &str)] = &[
    ("sns:CheckIfPhoneNumberIsOptedOut", "has no resource-level permissions"),
    ("dynamodb:ListStreams", "has no resource-level permissions; Lambda calls it to poll a stream"),
    ("xray:PutTraceSegments", "X-Ray has no resource-level permissions"),
    ("xray:PutTelemetryRecords", "X-Ray has no resource-level permissions"),
    ("xray:GetSamplingRules", "X-Ray has no resource-level permissions"),
    ("xray:GetSamplingTargets", "X-Ray has no resource-level permissions"),
];

#[test]
fn each_function_has_its_own_role_and_no_grant_on_every_resource_but_the_unscopable() {
    let template = template();
    let statements = translated_statements();
    assert_eq!(statements.len(), template.of_type("AWS::Serverless::Function").count());
    for (name, function) in template.of_type("AWS::Serverless::Function") {
        // An explicit role: SAM attaches no managed policy (they grant on "*") to it.
        let role = function.properties["Role"]["Fn::GetAtt"][0].as_str().unwrap();
        assert_eq!(template.resource(role).unwrap().resource_type, "AWS::IAM::Role", "{name}");
        assert!(function.properties.get("Policies").is_none(), "{name}: grants belong in its role");
        for statement in &statements[name] {
            let actions = actions_of(statement);
            assert!(actions.iter().all(|action| !action.contains('*')), "{name}: {actions:?}");
            assert_eq!(statement["Effect"], "Allow", "{name}: {statement}");
            if statement["Resource"] == "*" || statement["Resource"].as_array().is_some_and(|r| r.contains(&"*".into()))
            {
                for action in &actions {
                    assert!(UNSCOPABLE.iter().any(|(unscopable, _)| unscopable == action), "{name}: {action} on *");
                }
            } else if let Some(not_resource) = statement.get("NotResource") {
                // Text messages to phone numbers: anything but a topic, in any partition.
                assert_eq!(actions, ["sns:Publish"], "{name}: {statement}");
                assert_eq!(not_resource["Fn::Sub"], "arn:${AWS::Partition}:sns:*:*:*", "{name}: {statement}");
            } else {
                assert!(statement.get("Resource").is_some(), "{name}: {statement}");
            }
        }
    }
}

#[test]
fn every_topic_an_alarm_or_ses_publishes_to_can_be_used_by_that_service() {
    // CloudWatch and SES cannot use the AWS-managed SNS key: a topic under it never hears
    // from them (the pager would stay silent).
    let template = template();
    let managed_key = |topic: &str| {
        let key = &template.resource(topic).unwrap().properties["KmsMasterKeyId"];
        key.as_str().is_some_and(|key| key.starts_with("alias/aws/"))
    };
    let mut published_by_services = Vec::new();
    for (name, alarm) in template.of_type("AWS::CloudWatch::Alarm") {
        for list in ["AlarmActions", "OKActions", "InsufficientDataActions"] {
            for action in alarm.properties[list].as_array().into_iter().flatten() {
                published_by_services.push((name.clone(), action["Ref"].as_str().unwrap().to_owned()));
            }
        }
    }
    for (name, destination) in template.of_type("AWS::SES::ConfigurationSetEventDestination") {
        let topic = &destination.properties["EventDestination"]["SnsDestination"]["TopicARN"]["Ref"];
        published_by_services.push((name.clone(), topic.as_str().unwrap().to_owned()));
    }
    assert!(published_by_services.len() > 30);
    for (publisher, topic) in published_by_services {
        assert!(!managed_key(&topic), "{publisher} publishes to {topic}, which uses an AWS-managed key");
    }
}

#[test]
fn every_consumer_queue_has_a_dead_letter_queue_and_a_valid_filter() {
    let template = template();
    let subscriptions: Vec<_> = template.of_type("AWS::SNS::Subscription").collect();
    assert_eq!(subscriptions.len(), 5);
    for (name, subscription) in subscriptions {
        let queue = subscription.properties["Endpoint"]["Fn::GetAtt"][0].as_str().unwrap();
        let redrive = &template.resource(queue).unwrap().properties["RedrivePolicy"];
        let dead_letters = redrive["deadLetterTargetArn"]["Fn::GetAtt"][0].as_str().unwrap();
        assert_eq!(template.resource(dead_letters).unwrap().resource_type, "AWS::SQS::Queue", "{name}");
        assert_eq!(subscription.properties["RawMessageDelivery"], true, "{name}");
        if subscription.properties["TopicArn"]["Ref"] == "EmailFeedbackTopic" {
            // SES's bounces and complaints: all of them, unfiltered.
            assert!(subscription.properties.get("FilterPolicy").is_none(), "{name}");
            continue;
        }
        for event_type in subscription.properties["FilterPolicy"]["type"].as_array().unwrap() {
            let event_type = event_type.as_str().unwrap();
            assert!(EventType::parse(event_type).is_some(), "{name} filters on unknown type {event_type}");
        }
    }
}

#[test]
fn each_consumer_subscribes_to_exactly_the_events_it_acts_on() {
    let template = template();
    let told_of_customers: Vec<EventType> =
        EventType::all().filter(|event_type| shared::notification::Notice::for_event(*event_type).is_some()).collect();
    let consumers: [(&str, Vec<EventType>); 4] = [
        ("InventorySubscription", shared::app::inventory::SUBSCRIPTION.event_types().collect()),
        ("PaymentSubscription", shared::app::payments::SUBSCRIPTION.event_types().collect()),
        ("FulfillmentSubscription", shared::app::fulfillment::SUBSCRIPTION.event_types().collect()),
        ("NotificationsSubscription", told_of_customers),
    ];
    for (subscription, acted_on) in consumers {
        let policy = &template.resource(subscription).unwrap().properties["FilterPolicy"]["type"];
        let mut subscribed: Vec<&str> = policy.as_array().unwrap().iter().map(|name| name.as_str().unwrap()).collect();
        let mut acted_on: Vec<String> = acted_on.into_iter().map(EventType::name).collect();
        subscribed.sort_unstable();
        acted_on.sort();
        assert_eq!(subscribed, acted_on, "{subscription}");
    }
}

#[test]
fn the_orders_stream_feeds_the_router_with_partial_batch_failures() {
    let template = template();
    let orders = &template.resource("OrdersTable").unwrap().properties;
    assert_eq!(orders["StreamSpecification"]["StreamViewType"], "NEW_AND_OLD_IMAGES");
    assert_eq!(orders["GlobalSecondaryIndexes"][0]["IndexName"], "by-customer");
    let idempotency = &template.resource("IdempotencyTable").unwrap().properties;
    assert_eq!(idempotency["TimeToLiveSpecification"]["AttributeName"], "expires_at");

    let router = &template.resource("StreamRouterFunction").unwrap().properties;
    let source = &router["Events"]["OrdersStream"]["Properties"];
    assert_eq!(source["Stream"]["Fn::GetAtt"], serde_json::json!(["OrdersTable", "StreamArn"]));
    assert_eq!(source["FunctionResponseTypes"], serde_json::json!(["ReportBatchItemFailures"]));
    assert_eq!(source["BisectBatchOnFunctionError"], true);
    assert!(source["MaximumRetryAttempts"].as_u64().is_some());
    assert_eq!(source["DestinationConfig"]["OnFailure"]["Type"], "SQS");
    // The mapping's filter must let through exactly the items the router reads as order heads.
    let pattern: Value =
        serde_json::from_str(source["FilterCriteria"]["Filters"][0]["Pattern"].as_str().unwrap()).unwrap();
    assert_eq!(pattern["dynamodb"]["Keys"]["sk"]["S"], serde_json::json!([shared::adapters::dynamodb::HEAD_SORT_KEY]));
    assert_eq!(pattern["eventName"], serde_json::json!(["INSERT", "MODIFY"]));
}

#[test]
fn the_storefront_api_sits_behind_a_jwt_authorizer() {
    let template = template();
    let api = &template.resource("StorefrontApi").unwrap().properties;
    let authorizer = &api["Auth"]["Authorizers"]["StorefrontJwt"]["JwtConfiguration"];
    assert_eq!(api["Auth"]["DefaultAuthorizer"], "StorefrontJwt");
    assert_eq!(authorizer["issuer"]["Ref"], "StorefrontJwtIssuer");
    assert_eq!(authorizer["audience"][0]["Ref"], "StorefrontJwtAudience");
    assert!(Path::new(&default_path()).exists());
}

#[test]
fn the_openapi_document_describes_exactly_the_template_s_routes() {
    let text = std::fs::read_to_string(default_path().with_file_name("openapi.yaml")).unwrap();
    let openapi: serde_yaml::Value = serde_yaml::from_str(&text).unwrap();
    let mut documented: Vec<String> = openapi["paths"]
        .as_mapping()
        .unwrap()
        .iter()
        .flat_map(|(path, operations)| {
            let path = path.as_str().unwrap().to_owned();
            operations
                .as_mapping()
                .unwrap()
                .keys()
                .map(move |method| format!("{} {path}", method.as_str().unwrap().to_uppercase()))
        })
        .collect();
    let mut routed: Vec<String> = local::apigw::routes(&template()).iter().map(|route| route.key()).collect();
    documented.sort();
    routed.sort();
    assert_eq!(documented, routed);
}

/// The queue a logical id's `!GetAtt X.Arn` names.
fn queue_of(arn: &Value) -> &str {
    arn["Fn::GetAtt"][0].as_str().unwrap()
}

#[test]
fn every_queue_consumer_reports_partial_failures_and_outlasts_its_function() {
    let template = template();
    let global_timeout = template.globals["Function"]["Timeout"].as_u64().unwrap();
    let mut consumed = Vec::new();
    for (name, function) in template.of_type("AWS::Serverless::Function") {
        let timeout = function.properties.get("Timeout").and_then(Value::as_u64).unwrap_or(global_timeout);
        for (event, source) in function.properties["Events"].as_object().into_iter().flatten() {
            if source["Type"] != "SQS" {
                continue;
            }
            let properties = &source["Properties"];
            assert_eq!(
                properties["FunctionResponseTypes"],
                serde_json::json!(["ReportBatchItemFailures"]),
                "{name}.{event}"
            );
            let queue_id = queue_of(&properties["Queue"]);
            let queue = &template.resource(queue_id).unwrap().properties;
            let visibility = queue["VisibilityTimeout"].as_u64().unwrap_or(30);
            assert!(visibility >= 6 * timeout, "{queue_id}: visibility {visibility} s < 6 x {name}'s {timeout} s");
            let dead_letters = queue_of(&queue["RedrivePolicy"]["deadLetterTargetArn"]);
            assert!(template.resource(dead_letters).is_ok(), "{queue_id} redrives to {dead_letters}");
            consumed.push(queue_id.to_owned());
        }
    }
    consumed.sort();
    assert_eq!(
        consumed,
        [
            "DeliveryUpdatesQueue",
            "EmailFeedbackQueue",
            "FulfillmentQueue",
            "InventoryQueue",
            "NotificationsQueue",
            "PaymentQueue",
            "ProviderEventsQueue",
            "ShipmentsQueue"
        ]
    );
}

#[test]
fn every_queue_has_a_dead_letter_queue_or_is_one() {
    let template = template();
    let queues: Vec<(&String, &Value)> =
        template.of_type("AWS::SQS::Queue").map(|(name, queue)| (name, &queue.properties)).collect();
    let dead_letter_queues: Vec<&str> = queues
        .iter()
        .filter_map(|(_, queue)| queue["RedrivePolicy"].get("deadLetterTargetArn").map(queue_of))
        .collect();
    for (name, queue) in &queues {
        let is_dead_letter_queue =
            dead_letter_queues.contains(&name.as_str()) || name.as_str() == "StreamRouterFailureQueue";
        assert!(queue.get("RedrivePolicy").is_some() || is_dead_letter_queue, "{name} has no dead-letter queue");
        if is_dead_letter_queue {
            // Parked messages are business records: deleting the stack must not drop them.
            let policy = template.resource(name).unwrap().deletion_policy.as_deref();
            assert_eq!(policy, Some("Retain"), "{name}");
        }
    }
    for warehouse in ["PickRequestsQueue", "ShipmentsQueue", "DeliveryUpdatesQueue"] {
        assert!(queues.iter().any(|(name, _)| name.as_str() == warehouse), "{warehouse}");
    }
}

#[test]
fn carriers_reach_their_webhook_without_a_token() {
    let route = local::apigw::routes(&template())
        .into_iter()
        .find(|route| route.key() == "POST /webhooks/carriers/{carrier}")
        .expect("the webhook route");
    assert_eq!((route.function.as_str(), route.authorizer), ("CarrierWebhookFunction", None));
}

#[test]
fn secrets_are_read_from_secrets_manager_by_the_functions_that_need_them_and_no_other() {
    let template = template();
    let statements = translated_statements();
    let secret_arn = |parameter: &str| {
        format!(
            "arn:${{AWS::Partition}}:secretsmanager:${{AWS::Region}}:${{AWS::AccountId}}:secret:${{{parameter}}}-??????"
        )
    };
    let payment_key: &[&str] = &["IntakeFunction", "OperatorApiFunction", "PaymentFunction"];
    let readers = [
        ("PAYMENT_PROVIDER_SECRET_ID", "PaymentProviderSecretId", payment_key),
        ("CARRIER_WEBHOOK_SECRET_ID", "CarrierWebhookSecretId", &["CarrierWebhookFunction"][..]),
        ("PAYMENT_WEBHOOK_SECRET_ID", "PaymentWebhookSecretId", &["PaymentWebhookFunction"][..]),
        (
            "LOOKUP_KEY_SECRET_ID",
            "LookupKeySecretId",
            &["IntakeFunction", "OperatorApiFunction", "FulfillmentFunction", "DeliveryFunction"][..],
        ),
    ];
    for (name, function) in template.of_type("AWS::Serverless::Function") {
        let variables = function.properties["Environment"]["Variables"].as_object().cloned().unwrap_or_default();
        // The environment names secrets, never holds them (anyone allowed
        // lambda:GetFunctionConfiguration reads it).
        for (variable, value) in &variables {
            assert!(!value.to_string().contains("resolve:secretsmanager"), "{name}: {variable} holds a secret");
        }
        let mut grants: Vec<String> = statements[name]
            .iter()
            .filter(|statement| actions_of(statement).iter().any(|action| action.starts_with("secretsmanager:")))
            .map(|statement| {
                assert_eq!(actions_of(statement), ["secretsmanager:GetSecretValue"], "{name}");
                statement["Resource"]["Fn::Sub"].as_str().unwrap().to_owned()
            })
            .collect();
        let mut expected: Vec<String> = readers
            .iter()
            .filter(|(_, _, functions)| functions.contains(&name.as_str()))
            .map(|(variable, parameter, _)| {
                assert_eq!(variables[*variable]["Ref"], *parameter, "{name}: {variable}");
                secret_arn(parameter)
            })
            .collect();
        grants.sort();
        expected.sort();
        assert_eq!(grants, expected, "{name} reads exactly its own secrets");
    }
    let text = std::fs::read_to_string(default_path()).unwrap();
    for secret in ["whsec_", "sk_live_", "sk_test_"] {
        assert!(!text.contains(secret), "no secret in the template");
    }
}

/// The desk's pages: the operator's token rides in a cookie, which the function checks itself.
fn is_desk_page(route: &local::apigw::Route) -> bool {
    route.path == "/desk" || route.path.starts_with("/desk/")
}

#[test]
fn operator_routes_use_the_operator_authorizer_and_storefront_routes_the_default() {
    for route in local::apigw::routes(&template()) {
        let expected =
            if route.function == "OperatorApiFunction" && !is_desk_page(&route) { Some("OperatorJwt") } else { None };
        assert_eq!(route.authorizer.as_deref().filter(|name| *name != "StorefrontJwt"), expected, "{}", route.key());
        if is_desk_page(&route) {
            assert_eq!((route.function.as_str(), &route.authorizer), ("OperatorApiFunction", &None), "{}", route.key());
        }
    }
}

/// API Gateway refuses an operator route to a token without the route's scope: reading needs
/// the read scope, every change the write scope, and each role's token carries what it may use.
/// (The desk's pages name none: the function holds their cookie's token to the same scopes.)
#[test]
fn every_operator_route_names_the_scope_its_work_needs() {
    use shared::domain::{Role, scope};
    let routes = local::apigw::routes(&template());
    for route in routes.iter().filter(|route| route.function == "OperatorApiFunction" && !is_desk_page(route)) {
        let needed = if route.method == "GET" { scope::READ } else { scope::WORK };
        assert_eq!(route.scopes, [needed], "{}", route.key());
        assert!(Role::ALL.iter().all(|role| role.scopes().contains(&needed)), "{}", route.key());
    }
    for route in routes.iter().filter(|route| route.function != "OperatorApiFunction" || is_desk_page(route)) {
        assert!(route.scopes.is_empty(), "{}", route.key());
    }
}

#[test]
fn the_notifier_sends_only_from_the_sender_through_the_configuration_set_whose_feedback_it_reads() {
    let template = template();
    let notifier = &template.resource("NotifierFunction").unwrap().properties;
    let statements = &translated_statements()["NotifierFunction"];
    let send = statements.iter().find(|statement| actions_of(statement).contains(&"ses:SendEmail")).unwrap();
    assert_eq!(actions_of(send), ["ses:SendEmail"], "SES v2 authorises every send as ses:SendEmail");
    assert_eq!(send["Condition"]["StringEquals"]["ses:FromAddress"]["Ref"], "SenderEmailAddress");
    let resources = send["Resource"].to_string();
    assert!(
        resources.contains("identity/${SenderEmailAddress}")
            && resources.contains("configuration-set/${SesConfigurationSet}")
    );
    let variables = &notifier["Environment"]["Variables"];
    assert_eq!(variables["SENDER_EMAIL_ADDRESS"]["Ref"], "SenderEmailAddress");
    assert_eq!(variables["SES_CONFIGURATION_SET"]["Ref"], "SesConfigurationSet");

    // Bounces and complaints: configuration set -> topic -> queue -> the notifier.
    let destination = &template.resource("SesBounceAndComplaintDestination").unwrap().properties;
    assert_eq!(destination["ConfigurationSetName"]["Ref"], "SesConfigurationSet");
    assert_eq!(destination["EventDestination"]["MatchingEventTypes"], serde_json::json!(["bounce", "complaint"]));
    let topic = destination["EventDestination"]["SnsDestination"]["TopicARN"]["Ref"].as_str().unwrap();
    let subscription = template
        .of_type("AWS::SNS::Subscription")
        .find(|(_, subscription)| subscription.properties["TopicArn"]["Ref"] == topic)
        .map(|(_, subscription)| &subscription.properties)
        .unwrap();
    let queue = subscription["Endpoint"]["Fn::GetAtt"][0].as_str().unwrap();
    assert_eq!(notifier["Events"]["EmailFeedbackQueue"]["Properties"]["Queue"]["Fn::GetAtt"][0], queue);
    assert_eq!(variables["EMAIL_FEEDBACK_QUEUE_ARN"]["Fn::GetAtt"][0], queue);

    // The suppression list outlives the stack; the sweep has its index and its schedule.
    let suppression = template.resource("SuppressionTable").unwrap();
    assert_eq!(suppression.properties["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"], true);
    let orders = &template.resource("OrdersTable").unwrap().properties;
    let indexes = orders["GlobalSecondaryIndexes"].as_array().unwrap();
    assert!(indexes.iter().any(|index| index["IndexName"] == "by-delivery-day"));
    assert_eq!(notifier["Events"]["FeedbackSweep"]["Type"], "Schedule");
    let policy = template.parameter_default("NotificationPolicy").unwrap();
    shared::storefront::NotificationPolicy::parse(&policy).unwrap();
}

/// The alarms an alarm-worthy resource has: those whose metric (or one of whose metric-math
/// inputs) has a dimension naming it.
fn alarms_on<'t>(template: &'t Template, namespace: &str, metric: &str, logical_id: &str) -> Vec<&'t String> {
    let names = |dimensions: &Value| {
        dimensions.as_array().into_iter().flatten().any(|dimension| {
            let value = &dimension["Value"];
            value["Ref"] == logical_id || value["Fn::GetAtt"][0] == logical_id
        })
    };
    template
        .of_type("AWS::CloudWatch::Alarm")
        .filter(|(_, alarm)| {
            let properties = &alarm.properties;
            let direct = properties["Namespace"] == namespace
                && properties["MetricName"] == metric
                && names(&properties["Dimensions"]);
            let through_math = properties["Metrics"].as_array().into_iter().flatten().any(|query| {
                let stat = &query["MetricStat"]["Metric"];
                stat["Namespace"] == namespace && stat["MetricName"] == metric && names(&stat["Dimensions"])
            });
            direct || through_math
        })
        .map(|(name, _)| name)
        .collect()
}

#[test]
fn every_dead_letter_queue_function_and_the_stream_has_an_alarm_that_tells_the_operators() {
    let template = template();
    let mut dead_letter_queues: Vec<String> = template
        .of_type("AWS::SQS::Queue")
        .filter_map(|(_, queue)| queue.properties["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0].as_str())
        .map(str::to_owned)
        .collect();
    dead_letter_queues.push("StreamRouterFailureQueue".to_owned());
    dead_letter_queues.sort();
    dead_letter_queues.dedup();
    assert_eq!(dead_letter_queues.len(), 10);
    for queue in &dead_letter_queues {
        let alarms = alarms_on(&template, "AWS/SQS", "ApproximateNumberOfMessagesVisible", queue);
        assert_eq!(alarms.len(), 1, "{queue}: {alarms:?}");
    }
    for (function, _) in template.of_type("AWS::Serverless::Function") {
        for metric in ["Errors", "Invocations", "Throttles"] {
            assert_eq!(alarms_on(&template, "AWS/Lambda", metric, function).len(), 1, "{function} {metric}");
        }
    }
    assert_eq!(alarms_on(&template, "AWS/Lambda", "IteratorAge", "StreamRouterFunction").len(), 1);
    let emitted: Vec<&str> = shared::metrics::Metric::ALL.iter().map(|metric| metric.name()).collect();
    for (name, alarm) in template.of_type("AWS::CloudWatch::Alarm") {
        let properties = &alarm.properties;
        assert_eq!(properties["AlarmActions"], serde_json::json!([{"Ref": "OperatorsTopic"}]), "{name}");
        assert!(properties["AlarmDescription"].to_string().contains("Runbook"), "{name}");
        // Every metric an alarm reads is one that exists: a resource of the template, or ours.
        let mut metrics = vec![properties.clone()];
        metrics.extend(
            properties["Metrics"].as_array().into_iter().flatten().map(|query| query["MetricStat"]["Metric"].clone()),
        );
        for metric in metrics.iter().filter(|metric| metric["MetricName"].is_string()) {
            if metric["Namespace"] == shared::metrics::NAMESPACE {
                assert!(emitted.contains(&metric["MetricName"].as_str().unwrap()), "{name}: {metric}");
            }
            for dimension in metric["Dimensions"].as_array().into_iter().flatten() {
                let target = dimension["Value"]["Ref"].as_str().or(dimension["Value"]["Fn::GetAtt"][0].as_str());
                assert!(template.resource(target.unwrap()).is_ok(), "{name}: {dimension}");
            }
        }
    }
}

#[test]
fn the_dashboard_and_saved_queries_name_only_what_exists() {
    let template = template();
    let dashboard = &template.resource("OperationsDashboard").unwrap().properties["DashboardBody"]["Fn::Sub"];
    let body = dashboard.as_str().unwrap();
    let widgets: Value = serde_json::from_str(body).unwrap();
    assert!(widgets["widgets"].as_array().unwrap().len() >= 8);
    for reference in body.split("${").skip(1).map(|rest| rest.split('}').next().unwrap()) {
        let logical = reference.split('.').next().unwrap();
        assert!(logical.starts_with("AWS::") || template.resource(logical).is_ok(), "${{{reference}}}");
    }
    for metric in shared::metrics::Metric::ALL {
        let shown =
            body.contains(&format!("\"{}\"", metric.name())) || body.contains(&format!("\\\"{}\\\"", metric.name()));
        let operational = matches!(
            metric,
            shared::metrics::Metric::IdempotentReplays
                | shared::metrics::Metric::BatchItemFailures
                | shared::metrics::Metric::ColdStarts
        );
        assert!(shown || operational, "{} is on the dashboard", metric.name());
    }
    let log_groups: Vec<&String> = template
        .of_type("AWS::Serverless::Function")
        .map(|(_, function)| function.properties["LoggingConfig"]["LogGroup"]["Ref"].as_str().unwrap())
        .filter_map(|group| template.resources.get_key_value(group).map(|(name, _)| name))
        .collect();
    for (name, query) in template.of_type("AWS::Logs::QueryDefinition") {
        let queried: Vec<&str> = query.properties["LogGroupNames"]
            .as_array()
            .unwrap()
            .iter()
            .map(|group| group["Ref"].as_str().unwrap())
            .collect();
        assert_eq!(queried.len(), log_groups.len(), "{name} reads every function's logs");
        assert!(log_groups.iter().all(|group| queried.contains(&group.as_str())), "{name}");
    }
}

#[test]
fn the_public_routes_are_throttled_and_a_burst_cannot_exhaust_the_account_or_the_payment_provider() {
    let template = template();
    let api = &template.resource("StorefrontApi").unwrap().properties;
    for limit in ["ThrottlingRateLimit", "ThrottlingBurstLimit"] {
        assert!(api["DefaultRouteSettings"][limit]["Ref"].is_string(), "every route: {limit}");
    }
    // The webhook route takes no token: it has its own, lower limits.
    let webhook = template.resource("CarrierWebhookFunction").unwrap();
    let event = &webhook.properties["Events"].as_object().unwrap().values().next().unwrap()["Properties"];
    let route = format!("{} {}", event["Method"].as_str().unwrap().to_uppercase(), event["Path"].as_str().unwrap());
    for (limit, parameter) in
        [("ThrottlingRateLimit", "WebhookRateLimit"), ("ThrottlingBurstLimit", "WebhookBurstLimit")]
    {
        assert_eq!(api["RouteSettings"][&route][limit]["Ref"], parameter, "{route}");
    }
    assert_eq!(webhook.properties["ReservedConcurrentExecutions"]["Ref"], "WebhookConcurrency");
    let payment = &template.resource("PaymentFunction").unwrap().properties;
    let scaling = &payment["Events"]["PaymentQueue"]["Properties"]["ScalingConfig"];
    assert_eq!(scaling["MaximumConcurrency"]["Ref"], "PaymentConcurrency");
    for parameter in ["ApiRateLimit", "ApiBurstLimit", "WebhookRateLimit", "WebhookBurstLimit", "WebhookConcurrency"] {
        assert!(template.parameter_default(parameter).is_some(), "{parameter} has a sensible default");
    }
}

#[test]
fn api_calls_are_logged_and_order_mail_travels_only_over_tls() {
    let template = template();
    let api = &template.resource("StorefrontApi").unwrap().properties;
    let destination = api["AccessLogSettings"]["DestinationArn"]["Fn::GetAtt"][0].as_str().unwrap();
    let log_group = template.resource(destination).unwrap();
    assert!(log_group.properties.get("RetentionInDays").is_some());
    let format = api["AccessLogSettings"]["Format"].as_str().unwrap();
    for field in ["$context.requestId", "$context.identity.sourceIp", "$context.routeKey", "$context.status"] {
        assert!(format.contains(field), "{field}");
    }
    serde_json::from_str::<Value>(format).expect("one JSON object per request");
    for (name, set) in template.of_type("AWS::SES::ConfigurationSet") {
        assert_eq!(set.properties["DeliveryOptions"]["TlsPolicy"], "REQUIRE", "{name}");
    }
}
