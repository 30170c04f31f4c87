//! The local cloud refuses what a function's role does not allow, service by service, as AWS
//! would: each function signs as its own role, and the IAM layer in front of moto evaluates the
//! role SAM translates from the template.

use aws_sdk_dynamodb::{
    error::ProvideErrorMetadata,
    types::{AttributeValue, Put, TransactWriteItem},
};
use local::stack::iam;

use crate::harness::{TestStack, moto_endpoint};

/// The error code of a refused call; panics if the call went through.
fn refused<T: std::fmt::Debug, E: ProvideErrorMetadata + std::fmt::Debug>(result: Result<T, E>) -> String {
    let error = result.expect_err("the role does not allow this call");
    error.code().unwrap_or_else(|| panic!("no error code in {error:?}")).to_owned()
}

/// Asserts the IAM layer recorded refusing `function` the `action` on a resource ending in
/// `resource_suffix`.
async fn recorded(function: &str, action: &str, resource_suffix: &str) {
    let denials = iam::denials(moto_endpoint()).await.unwrap();
    assert!(
        denials.iter().any(|denial| denial.function.as_deref() == Some(function)
            && denial.action.as_deref() == Some(action)
            && denial.resource.as_deref().is_some_and(|resource| resource.ends_with(resource_suffix))),
        "{function} {action} {resource_suffix} not among {denials:#?}"
    );
}

#[tokio::test]
async fn dynamodb_refuses_a_table_outside_the_role_and_checks_every_item_of_a_transaction() {
    let stack = TestStack::new().await;
    let intake = stack.dynamodb_as("IntakeFunction");
    let suppression = stack.table("SuppressionTable");
    let key = AttributeValue::S("x".to_owned());
    let get = intake.get_item().table_name(&suppression).key("pk", key.clone()).send().await;
    assert_eq!(refused(get), "AccessDeniedException");
    recorded("IntakeFunction", "dynamodb:GetItem", &format!("table/{suppression}")).await;

    // A transaction is authorised item by item: an allowed put beside a refused one fails whole.
    let put = |table: &str| {
        let item = [("pk".to_owned(), key.clone()), ("sk".to_owned(), AttributeValue::S("IAM".to_owned()))];
        let put = Put::builder().table_name(table).set_item(Some(item.into())).build().unwrap();
        TransactWriteItem::builder().put(put).build()
    };
    let orders = stack.table("OrdersTable");
    let transaction =
        intake.transact_write_items().transact_items(put(&orders)).transact_items(put(&suppression)).send().await;
    assert_eq!(refused(transaction), "AccessDeniedException");
    recorded("IntakeFunction", "dynamodb:PutItem", &format!("table/{suppression}")).await;
    assert!(stack.items("OrdersTable").await.is_empty(), "nothing of the refused transaction is written");

    // An index is its own resource: the watchdog may query its index, not the table.
    let watchdog = stack.dynamodb_as("WatchdogFunction");
    let query = |index: Option<&str>, key_name: &str| {
        watchdog
            .query()
            .table_name(&orders)
            .set_index_name(index.map(str::to_owned))
            .key_condition_expression(format!("{key_name} = :key"))
            .expression_attribute_values(":key", key.clone())
            .send()
    };
    assert_eq!(refused(query(None, "pk").await), "AccessDeniedException");
    let by_status = query(Some("by-status-age"), "status_key").await;
    assert!(by_status.is_ok(), "{by_status:?}");
}

#[tokio::test]
async fn streams_are_read_only_by_the_function_they_feed() {
    let stack = TestStack::new().await;
    let stream = stack.stack.attribute_of("OrdersTable", "StreamArn").unwrap();
    let as_function = |function: &str| aws_sdk_dynamodbstreams::Client::new(stack.sdk_as(function));
    let described = as_function("StreamRouterFunction").describe_stream().stream_arn(&stream).send().await;
    assert!(described.is_ok(), "{described:?}");
    let described = as_function("InventoryFunction").describe_stream().stream_arn(&stream).send().await;
    assert_eq!(refused(described), "AccessDeniedException");
    recorded("InventoryFunction", "dynamodb:DescribeStream", &stream).await;
}

#[tokio::test]
async fn sqs_refuses_a_queue_outside_the_role() {
    let stack = TestStack::new().await;
    let notifier = stack.sqs_as("NotifierFunction");
    let own = stack.stack.reference_of("NotificationsQueue").unwrap();
    assert!(notifier.receive_message().queue_url(&own).send().await.is_ok());
    // Pick requests carry shipping addresses: only fulfillment sends them, the warehouse reads.
    let picks = stack.stack.reference_of("PickRequestsQueue").unwrap();
    let received = notifier.receive_message().queue_url(&picks).send().await;
    assert_eq!(refused(received), "AccessDenied");
    recorded("NotifierFunction", "sqs:ReceiveMessage", "PickRequestsQueue").await;
    let sent = stack.sqs_as("CarrierWebhookFunction").send_message().queue_url(&picks).message_body("{}").send().await;
    assert_eq!(refused(sent), "AccessDenied");
}

#[tokio::test]
async fn sns_refuses_a_topic_outside_the_role_and_the_notifier_publishes_to_no_topic() {
    let stack = TestStack::new().await;
    let topic = stack.stack.reference_of("OrderEventsTopic").unwrap();
    for function in ["CarrierWebhookFunction", "NotifierFunction"] {
        let sns = aws_sdk_sns::Client::new(stack.sdk_as(function));
        let published = sns.publish().topic_arn(&topic).message("{}").send().await;
        assert_eq!(refused(published), "AuthorizationError", "{function}");
        recorded(function, "sns:Publish", "OrderEventsTopic").await;
    }
}

#[tokio::test]
async fn ses_sends_only_as_the_notifier_from_the_sender_address() {
    let stack = TestStack::new().await;
    let environment = stack.stack.function_environment("NotifierFunction").unwrap();
    let sender = &environment["SENDER_EMAIL_ADDRESS"];
    let send = |function: &str, from: &str| {
        let content = aws_sdk_sesv2::types::EmailContent::builder()
            .simple(
                aws_sdk_sesv2::types::Message::builder()
                    .subject(aws_sdk_sesv2::types::Content::builder().data("s").build().unwrap())
                    .body(
                        aws_sdk_sesv2::types::Body::builder()
                            .text(aws_sdk_sesv2::types::Content::builder().data("b").build().unwrap())
                            .build(),
                    )
                    .build(),
            )
            .build();
        aws_sdk_sesv2::Client::new(stack.sdk_as(function))
            .send_email()
            .from_email_address(from)
            .destination(aws_sdk_sesv2::types::Destination::builder().to_addresses("a@example.com").build())
            .configuration_set_name(&environment["SES_CONFIGURATION_SET"])
            .content(content)
            .send()
    };
    assert_eq!(refused(send("IntakeFunction", sender).await), "AccessDeniedException");
    recorded("IntakeFunction", "ses:SendEmail", "").await;
    // The notifier's grant holds only with ses:FromAddress = the sender.
    let domain = sender.rsplit('@').next().unwrap();
    let other = format!("someone-else@{domain}");
    assert_eq!(refused(send("NotifierFunction", &other).await), "AccessDeniedException");
}

#[tokio::test]
async fn a_key_nobody_issued_and_a_call_nobody_mapped_are_refused() {
    let stack = TestStack::new().await;
    let stranger = local::cloud::sdk_config_signed_as(moto_endpoint(), "AKIASTRANGER").await.unwrap();
    let scan = aws_sdk_dynamodb::Client::new(&stranger).scan().table_name(stack.table("OrdersTable")).send().await;
    assert_eq!(refused(scan), "UnrecognizedClientException");
    // The layer knows the actions of every call the code makes; anything else fails loudly.
    let listed = stack.dynamodb_as("IntakeFunction").list_tables().send().await;
    assert_eq!(refused(listed), "AccessDeniedException");
    let denials = iam::denials(moto_endpoint()).await.unwrap();
    assert!(
        denials.iter().any(|denial| denial.reason.contains("does not know the IAM actions of DynamoDB ListTables"))
    );
}

#[tokio::test]
async fn secrets_manager_lets_a_function_read_its_own_secret_and_no_other() {
    let stack = TestStack::new().await;
    let id = |function: &str, variable: &str| stack.stack.function_environment(function).unwrap()[variable].clone();
    let carriers = id("CarrierWebhookFunction", "CARRIER_WEBHOOK_SECRET_ID");
    let payment_key = id("IntakeFunction", "PAYMENT_PROVIDER_SECRET_ID");
    let read = |function: &str, secret: &str| {
        aws_sdk_secretsmanager::Client::new(stack.sdk_as(function)).get_secret_value().secret_id(secret).send()
    };
    assert!(read("CarrierWebhookFunction", &carriers).await.is_ok());
    assert!(read("IntakeFunction", &payment_key).await.is_ok());
    assert_eq!(refused(read("IntakeFunction", &carriers).await), "AccessDeniedException");
    assert_eq!(refused(read("CarrierWebhookFunction", &payment_key).await), "AccessDeniedException");
    assert_eq!(refused(read("NotifierFunction", &payment_key).await), "AccessDeniedException");
    recorded("NotifierFunction", "secretsmanager:GetSecretValue", "").await;
}

#[tokio::test]
async fn the_shared_idempotency_table_keeps_each_function_to_its_own_items() {
    let stack = TestStack::new().await;
    let table = stack.table("IdempotencyTable");
    let put = |function: &str, pk: &str| {
        stack
            .dynamodb_as(function)
            .put_item()
            .table_name(&table)
            .item("pk", AttributeValue::S(pk.to_owned()))
            .item("sk", AttributeValue::S("CLAIM".to_owned()))
            .send()
    };
    assert!(put("IntakeFunction", "IDEMPOTENCY#API#shop#key-1").await.is_ok());
    assert!(put("NotifierFunction", "NOTIFICATION#ord_1#confirmed#email").await.is_ok());
    // Neither can forge the other's items: a replayed answer, or a message marked as sent.
    assert_eq!(refused(put("IntakeFunction", "NOTIFICATION#ord_1#shipped#email").await), "AccessDeniedException");
    assert_eq!(refused(put("NotifierFunction", "IDEMPOTENCY#API#shop#key-2").await), "AccessDeniedException");
    recorded("NotifierFunction", "dynamodb:PutItem", &format!("table/{table}")).await;
}
