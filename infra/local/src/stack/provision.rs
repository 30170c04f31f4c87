//! Creates the template's tables, topics, queues and subscriptions in the local cloud, under
//! names unique to one stack, so that stacks (and tests) never share state.

use std::collections::BTreeMap;

use aws_config::SdkConfig;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection, ProjectionType,
    ScalarAttributeType, StreamSpecification, StreamViewType, TimeToLiveSpecification,
};
use aws_sdk_sqs::types::QueueAttributeName;
use serde_json::Value;

use crate::stack::template::{Names, Template, TemplateError, resolve, resolve_dynamic_references, scalar_text};

/// Moto's fixed account.
pub const ACCOUNT_ID: &str = "123456789012";

/// Resource types the local cloud does not create: functions and the API are played by the
/// runner, roles are enforced by the IAM layer in front of moto (`crate::stack::iam`), and moto has
/// nothing to enforce a queue policy or keep logs with.
const PLAYED_OR_NOT_EMULATED: &[&str] = &[
    "AWS::Serverless::Function",
    "AWS::IAM::Role",
    "AWS::Serverless::HttpApi",
    "AWS::SQS::QueuePolicy",
    "AWS::SNS::TopicPolicy",
    "AWS::Logs::LogGroup",
    "AWS::Logs::QueryDefinition",
    "AWS::CloudWatch::Alarm",
    "AWS::CloudWatch::Dashboard",
    // The operators' user pool: the runner signs operators' tokens with the claims the pool and
    // its pre-token trigger give (`Runner::operator_token`), so it need not exist in moto.
    "AWS::Cognito::UserPool",
    "AWS::Cognito::UserPoolGroup",
    "AWS::Cognito::UserPoolClient",
    "AWS::Cognito::UserPoolDomain",
    "AWS::Cognito::UserPoolResourceServer",
    "AWS::Lambda::Permission",
];

#[derive(Debug, thiserror::Error)]
pub enum ProvisionError {
    #[error(transparent)]
    Template(#[from] TemplateError),
    #[error("{resource}: {problem}")]
    Unsupported { resource: String, problem: String },
    #[error("{resource}: the local cloud refused to create it")]
    Create {
        resource: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

/// What one logical resource became in the local cloud.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Physical {
    Table {
        name: String,
        arn: String,
        stream_arn: Option<String>,
    },
    Queue {
        name: String,
        arn: String,
        url: Option<String>,
    },
    Topic {
        name: String,
        arn: String,
    },
    /// Not created (see `PLAYED_OR_NOT_EMULATED`), but named, so references to it resolve.
    Named {
        name: String,
    },
}

impl Physical {
    pub fn name(&self) -> &str {
        match self {
            Self::Table { name, .. } | Self::Queue { name, .. } | Self::Topic { name, .. } | Self::Named { name } => {
                name
            }
        }
    }
}

/// A provisioned template: physical names for every logical id, and parameter values.
#[derive(Debug, Clone)]
pub struct Stack {
    pub name: String,
    pub region: String,
    pub template: Template,
    parameters: BTreeMap<String, String>,
    physical: BTreeMap<String, Physical>,
    /// Stand-ins for Secrets Manager: what `{{resolve:secretsmanager:ID:SecretString:KEY}}`
    /// resolves to, by secret id.
    pub secrets: BTreeMap<String, Value>,
    /// Where the runner plays the user pools: their `ProviderURL` (the tokens' issuer, with its
    /// keys at `/.well-known/jwks.json` as Cognito's) and hosted login.
    pub played_user_pool: Option<String>,
}

impl Names for Stack {
    fn reference(&self, name: &str) -> Option<String> {
        match name {
            "AWS::Region" => return Some(self.region.clone()),
            "AWS::AccountId" => return Some(ACCOUNT_ID.to_owned()),
            "AWS::StackName" => return Some(self.name.clone()),
            "AWS::Partition" => return Some("aws".to_owned()),
            "AWS::URLSuffix" => return Some("amazonaws.com".to_owned()),
            _ => {}
        }
        if let Some(value) = self.parameters.get(name) {
            return Some(value.clone());
        }
        Some(match self.physical.get(name)? {
            Physical::Table { name, .. } | Physical::Named { name } => name.clone(),
            Physical::Queue { url, .. } => url.clone()?,
            Physical::Topic { arn, .. } => arn.clone(),
        })
    }

    fn condition(&self, name: &str) -> Option<bool> {
        match resolve(self.template.conditions.get(name)?, self).ok()? {
            Value::Bool(holds) => Some(holds),
            _ => None,
        }
    }

    fn attribute(&self, resource: &str, attribute: &str) -> Option<String> {
        match (self.physical.get(resource)?, attribute) {
            (Physical::Table { arn, .. }, "Arn") => Some(arn.clone()),
            (Physical::Table { stream_arn, .. }, "StreamArn") => stream_arn.clone(),
            (Physical::Queue { arn, .. }, "Arn") => Some(arn.clone()),
            (Physical::Queue { name, .. }, "QueueName") => Some(name.clone()),
            (Physical::Queue { url, .. }, "QueueUrl") => url.clone(),
            (Physical::Topic { arn, .. }, "TopicArn") => Some(arn.clone()),
            (Physical::Topic { name, .. }, "TopicName") => Some(name.clone()),
            (Physical::Named { name }, "Arn") => self.named_arn(resource, name),
            // Locally the runner plays the operators' user pool and signs their tokens.
            (Physical::Named { name }, "ProviderURL") => Some(
                self.played_user_pool
                    .clone()
                    .unwrap_or_else(|| format!("https://cognito-idp.{}.amazonaws.com/{name}", self.region)),
            ),
            _ => None,
        }
    }
}

impl Stack {
    /// The ARN of a resource the local cloud does not create but policies name.
    fn named_arn(&self, logical_id: &str, name: &str) -> Option<String> {
        let resource = self.template.resources.get(logical_id)?;
        match resource.resource_type.as_str() {
            "AWS::IAM::Role" => Some(format!("arn:aws:iam::{ACCOUNT_ID}:role/{name}")),
            "AWS::Logs::LogGroup" => {
                let group = resolve(resource.properties.get("LogGroupName")?, self).ok()?;
                Some(format!("arn:aws:logs:{}:{ACCOUNT_ID}:log-group:{}:*", self.region, group.as_str()?))
            }
            _ => None,
        }
    }

    /// Names every resource `{stack}-{LogicalId}` and computes the ARNs that do not depend on
    /// creation; nothing is created yet.
    pub fn plan(template: Template, name: &str, region: &str, overrides: &BTreeMap<String, String>) -> Self {
        let mut parameters: BTreeMap<String, String> = template
            .parameters
            .keys()
            .filter_map(|key| template.parameter_default(key).map(|value| (key.clone(), value)))
            .collect();
        parameters.extend(overrides.clone());
        let physical = template
            .resources
            .iter()
            .map(|(logical, resource)| {
                let name = format!("{name}-{logical}");
                let arn = |service: &str, path: &str| format!("arn:aws:{service}:{region}:{ACCOUNT_ID}:{path}{name}");
                let physical = match resource.resource_type.as_str() {
                    "AWS::DynamoDB::Table" => {
                        Physical::Table { arn: arn("dynamodb", "table/"), name: name.clone(), stream_arn: None }
                    }
                    "AWS::SQS::Queue" => Physical::Queue { arn: arn("sqs", ""), name: name.clone(), url: None },
                    "AWS::SNS::Topic" => Physical::Topic { arn: arn("sns", ""), name: name.clone() },
                    _ => Physical::Named { name: name.clone() },
                };
                (logical.clone(), physical)
            })
            .collect();
        Self {
            name: name.to_owned(),
            region: region.to_owned(),
            template,
            parameters,
            physical,
            secrets: BTreeMap::new(),
            played_user_pool: None,
        }
    }

    pub fn physical(&self, logical_id: &str) -> Option<&Physical> {
        self.physical.get(logical_id)
    }

    /// What `Ref` of a logical id resolves to: a table's name, a queue's URL, a topic's ARN.
    pub fn reference_of(&self, logical_id: &str) -> Result<String, TemplateError> {
        self.reference(logical_id).ok_or_else(|| TemplateError::NoSuchResource(logical_id.to_owned()))
    }

    pub fn attribute_of(&self, logical_id: &str, attribute: &str) -> Result<String, TemplateError> {
        self.attribute(logical_id, attribute)
            .ok_or_else(|| TemplateError::Unresolvable(format!("{logical_id}.{attribute}")))
    }

    /// The callback and logout URLs of the user pool clients whose ids are among `clients`:
    /// where a hosted login may send a browser back to.
    pub fn client_redirects(&self, clients: &[String]) -> Vec<String> {
        self.template
            .of_type("AWS::Cognito::UserPoolClient")
            .filter(|(logical, _)| self.reference(logical).is_some_and(|id| clients.contains(&id)))
            .flat_map(|(_, client)| ["CallbackURLs", "LogoutURLs"].map(|urls| client.properties.get(urls).cloned()))
            .flatten()
            .filter_map(|urls| resolve(&urls, self).ok())
            .filter_map(|urls| urls.as_array().cloned())
            .flatten()
            .filter_map(|url| url.as_str().map(str::to_owned))
            .collect()
    }

    /// The environment a function gets: the template's `Globals` and the function's own
    /// `Environment`, resolved to this stack's names.
    pub fn function_environment(&self, logical_id: &str) -> Result<BTreeMap<String, String>, TemplateError> {
        let own = &self.template.resource(logical_id)?.properties;
        let mut environment = BTreeMap::new();
        for source in
            [self.template.globals.pointer("/Function/Environment/Variables"), own.pointer("/Environment/Variables")]
                .into_iter()
                .flatten()
        {
            if let Value::Object(variables) = resolve(source, self)? {
                for (key, value) in variables {
                    environment.insert(key.clone(), resolve_dynamic_references(&scalar_text(&value), &self.secrets)?);
                }
            }
        }
        Ok(environment)
    }

    /// The URL of the stack's queue with this ARN.
    pub fn queue_url_by_arn(&self, queue_arn: &str) -> Option<String> {
        self.physical.values().find_map(|physical| match physical {
            Physical::Queue { arn, url, .. } if arn == queue_arn => url.clone(),
            _ => None,
        })
    }

    /// The variables every function gets (`Globals`), resolved.
    pub fn global_environment(&self) -> Result<BTreeMap<String, String>, TemplateError> {
        let Some(variables) = self.template.globals.pointer("/Function/Environment/Variables") else {
            return Ok(BTreeMap::new());
        };
        let resolved = resolve(variables, self)?;
        Ok(resolved.as_object().into_iter().flatten().map(|(key, value)| (key.clone(), scalar_text(value))).collect())
    }

    /// The queues the template subscribes to a topic: the consumers' inboxes.
    pub fn subscribed_queues(&self) -> Vec<String> {
        self.template
            .of_type("AWS::SNS::Subscription")
            .filter_map(|(_, subscription)| subscription.properties.pointer("/Endpoint/Fn::GetAtt/0")?.as_str())
            .map(str::to_owned)
            .collect()
    }

    /// The resolved properties of one resource.
    pub fn properties(&self, logical_id: &str) -> Result<Value, TemplateError> {
        resolve(&self.template.resource(logical_id)?.properties, self)
    }
}

fn refused(resource: &str, error: impl std::error::Error + Send + Sync + 'static) -> ProvisionError {
    ProvisionError::Create { resource: resource.to_owned(), source: Box::new(error) }
}

fn unsupported(resource: &str, problem: impl Into<String>) -> ProvisionError {
    ProvisionError::Unsupported { resource: resource.to_owned(), problem: problem.into() }
}

/// Creates every table, topic, queue and subscription of the template.
pub async fn provision(sdk: &SdkConfig, mut stack: Stack) -> Result<Stack, ProvisionError> {
    let known = [
        "AWS::DynamoDB::Table",
        "AWS::SQS::Queue",
        "AWS::SNS::Topic",
        "AWS::SNS::Subscription",
        "AWS::SES::ConfigurationSet",
        "AWS::SES::ConfigurationSetEventDestination",
    ];
    if let Some((logical, resource)) = stack.template.resources.iter().find(|(_, resource)| {
        !known.contains(&resource.resource_type.as_str())
            && !PLAYED_OR_NOT_EMULATED.contains(&resource.resource_type.as_str())
    }) {
        return Err(unsupported(logical, format!("the local cloud cannot provision {}", resource.resource_type)));
    }
    let dynamodb = aws_sdk_dynamodb::Client::new(sdk);
    let sqs = aws_sdk_sqs::Client::new(sdk);
    let sns = aws_sdk_sns::Client::new(sdk);
    let logical_ids = |kind: &str| -> Vec<String> { stack.template.of_type(kind).map(|(id, _)| id.clone()).collect() };

    for logical in logical_ids("AWS::DynamoDB::Table") {
        let stream_arn = create_table(&dynamodb, &stack, &logical).await?;
        if let Some(Physical::Table { stream_arn: slot, .. }) = stack.physical.get_mut(&logical) {
            *slot = stream_arn;
        }
    }
    for logical in logical_ids("AWS::SNS::Topic") {
        let name = stack.physical(&logical).map(|physical| physical.name().to_owned());
        sns.create_topic().set_name(name).send().await.map_err(|error| refused(&logical, error))?;
    }
    // Dead-letter queues first, so that a redrive policy never names a queue that is not there.
    let mut queues = logical_ids("AWS::SQS::Queue");
    queues.sort_by_key(|logical| stack.template.resources[logical].properties.get("RedrivePolicy").is_some());
    for logical in queues {
        let url = create_queue(&sqs, &stack, &logical).await?;
        if let Some(Physical::Queue { url: slot, .. }) = stack.physical.get_mut(&logical) {
            *slot = Some(url);
        }
    }
    for logical in logical_ids("AWS::SNS::Subscription") {
        subscribe(&sns, &stack, &logical).await?;
    }
    let ses = aws_sdk_sesv2::Client::new(sdk);
    for logical in logical_ids("AWS::SES::ConfigurationSet") {
        let name = stack.reference_of(&logical)?;
        ses.create_configuration_set()
            .configuration_set_name(name)
            .send()
            .await
            .map_err(|error| refused(&logical, error))?;
    }
    if let Some(sender) = stack.parameters.get(SENDER_PARAMETER).cloned() {
        verify_sender(&ses, sdk, &stack, &sender).await?;
    }
    store_secrets(sdk, &stack).await?;
    Ok(stack)
}

/// The secrets a deployment keeps in Secrets Manager out of band: here, the stand-ins, stored
/// in moto, where the functions read them as they would on AWS.
async fn store_secrets(sdk: &SdkConfig, stack: &Stack) -> Result<(), ProvisionError> {
    let secrets = aws_sdk_secretsmanager::Client::new(sdk);
    for (id, value) in &stack.secrets {
        let text = match value {
            Value::String(text) => text.clone(),
            other => other.to_string(),
        };
        let created = secrets.create_secret().name(id).secret_string(&text).send().await;
        match created {
            Ok(_) => {}
            // A runner restarted against the same moto: the secret is there already.
            Err(error) if error.as_service_error().is_some_and(|e| e.is_resource_exists_exception()) => {
                secrets
                    .put_secret_value()
                    .secret_id(id)
                    .secret_string(text)
                    .send()
                    .await
                    .map_err(|e| refused(id, e))?;
            }
            Err(error) => return Err(refused(id, error)),
        }
    }
    Ok(())
}

/// The template parameter naming the address customer e-mail comes from.
pub const SENDER_PARAMETER: &str = "SenderEmailAddress";

/// The sender's address and domain become verified identities (a deployment verifies them
/// out of band). Moto has no configuration-set event destinations, but it does publish SES's
/// bounce and complaint notifications to an identity's notification topics when mail goes to
/// its simulator addresses: so each event destination's topic is set as the sender domain's
/// Bounce and Complaint topic, which plays the same feed. The domain must be unique per stack.
async fn verify_sender(
    ses: &aws_sdk_sesv2::Client,
    sdk: &SdkConfig,
    stack: &Stack,
    sender: &str,
) -> Result<(), ProvisionError> {
    let domain = sender.rsplit_once('@').map(|(_, domain)| domain.to_owned()).unwrap_or_default();
    for identity in [sender, domain.as_str()] {
        // Stacks sharing one moto may share the identity too.
        match ses.create_email_identity().email_identity(identity).send().await {
            Ok(_) => {}
            Err(error) if error.as_service_error().is_some_and(|e| e.is_already_exists_exception()) => {}
            Err(error) => return Err(refused(SENDER_PARAMETER, error)),
        }
    }
    let endpoint = sdk.endpoint_url().unwrap_or_default().trim_end_matches('/').to_owned();
    for logical in stack.template.of_type("AWS::SES::ConfigurationSetEventDestination").map(|(id, _)| id.clone()) {
        let properties = stack.properties(&logical)?;
        let Some(topic) = text_at(&properties, "/EventDestination/SnsDestination/TopicARN") else { continue };
        let types = properties.pointer("/EventDestination/MatchingEventTypes").and_then(Value::as_array);
        for event_type in types.into_iter().flatten().filter_map(Value::as_str) {
            let notification_type = match event_type {
                "bounce" => "Bounce",
                "complaint" => "Complaint",
                "delivery" => "Delivery",
                _ => continue,
            };
            let form = [
                ("Action", "SetIdentityNotificationTopic"),
                ("Version", "2010-12-01"),
                ("Identity", domain.as_str()),
                ("NotificationType", notification_type),
                ("SnsTopic", topic),
            ];
            post_form(&endpoint, &form).await.map_err(|problem| unsupported(&logical, problem))?;
        }
    }
    Ok(())
}

/// One SES (v1) query-API call to moto, which the SDKs we build do not cover.
async fn post_form(endpoint: &str, form: &[(&str, &str)]) -> Result<(), String> {
    use http_body_util::{BodyExt, Full};
    let body: String =
        form.iter().map(|(name, value)| format!("{name}={}", form_encode(value))).collect::<Vec<_>>().join("&");
    let request = hyper::Request::post(endpoint)
        .header("Content-Type", "application/x-www-form-urlencoded")
        // Moto routes query-API calls by the service in the signature's scope.
        .header(
            "Authorization",
            "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/ses/aws4_request, SignedHeaders=host, Signature=0",
        )
        .body(Full::new(hyper::body::Bytes::from(body)))
        .map_err(|error| error.to_string())?;
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new()).build_http();
    let response = client.request(request).await.map_err(|error| error.to_string())?;
    let status = response.status();
    let text = response.into_body().collect().await.map(|body| body.to_bytes()).unwrap_or_default();
    if status.is_success() {
        Ok(())
    } else {
        Err(format!("moto answered {status}: {}", String::from_utf8_lossy(&text)))
    }
}

fn form_encode(value: &str) -> String {
    value
        .bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => char::from(byte).to_string(),
            other => format!("%{other:02X}"),
        })
        .collect()
}

fn text_at<'v>(value: &'v Value, pointer: &str) -> Option<&'v str> {
    value.pointer(pointer).and_then(Value::as_str)
}

fn key_schema(resource: &str, keys: Option<&Value>) -> Result<Vec<KeySchemaElement>, ProvisionError> {
    keys.and_then(Value::as_array)
        .ok_or_else(|| unsupported(resource, "KeySchema is missing"))?
        .iter()
        .map(|key| {
            KeySchemaElement::builder()
                .attribute_name(text_at(key, "/AttributeName").unwrap_or_default())
                .key_type(KeyType::from(text_at(key, "/KeyType").unwrap_or_default()))
                .build()
                .map_err(|error| refused(resource, error))
        })
        .collect()
}

async fn create_table(
    client: &aws_sdk_dynamodb::Client,
    stack: &Stack,
    logical: &str,
) -> Result<Option<String>, ProvisionError> {
    let properties = stack.properties(logical)?;
    let attributes = properties
        .get("AttributeDefinitions")
        .and_then(Value::as_array)
        .ok_or_else(|| unsupported(logical, "AttributeDefinitions is missing"))?
        .iter()
        .map(|attribute| {
            AttributeDefinition::builder()
                .attribute_name(text_at(attribute, "/AttributeName").unwrap_or_default())
                .attribute_type(ScalarAttributeType::from(text_at(attribute, "/AttributeType").unwrap_or_default()))
                .build()
                .map_err(|error| refused(logical, error))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut indexes = Vec::new();
    for index in properties.get("GlobalSecondaryIndexes").and_then(Value::as_array).into_iter().flatten() {
        let projection = Projection::builder()
            .projection_type(ProjectionType::from(text_at(index, "/Projection/ProjectionType").unwrap_or("ALL")))
            .set_non_key_attributes(
                index
                    .pointer("/Projection/NonKeyAttributes")
                    .and_then(Value::as_array)
                    .map(|names| names.iter().filter_map(Value::as_str).map(str::to_owned).collect()),
            )
            .build();
        indexes.push(
            GlobalSecondaryIndex::builder()
                .index_name(text_at(index, "/IndexName").unwrap_or_default())
                .set_key_schema(Some(key_schema(logical, index.get("KeySchema"))?))
                .projection(projection)
                .build()
                .map_err(|error| refused(logical, error))?,
        );
    }
    let stream = text_at(&properties, "/StreamSpecification/StreamViewType").map(|view| {
        StreamSpecification::builder().stream_enabled(true).stream_view_type(StreamViewType::from(view)).build()
    });
    let table_name = stack.reference_of(logical)?;
    let created = client
        .create_table()
        .table_name(&table_name)
        .billing_mode(BillingMode::PayPerRequest)
        .set_attribute_definitions(Some(attributes))
        .set_key_schema(Some(key_schema(logical, properties.get("KeySchema"))?))
        .set_global_secondary_indexes((!indexes.is_empty()).then_some(indexes))
        .set_stream_specification(stream.transpose().map_err(|error| refused(logical, error))?)
        .send()
        .await
        .map_err(|error| refused(logical, error))?;
    if properties.pointer("/TimeToLiveSpecification/Enabled") == Some(&Value::Bool(true)) {
        let ttl = TimeToLiveSpecification::builder()
            .enabled(true)
            .attribute_name(text_at(&properties, "/TimeToLiveSpecification/AttributeName").unwrap_or_default())
            .build()
            .map_err(|error| refused(logical, error))?;
        client
            .update_time_to_live()
            .table_name(&table_name)
            .time_to_live_specification(ttl)
            .send()
            .await
            .map_err(|error| refused(logical, error))?;
    }
    Ok(created.table_description.and_then(|table| table.latest_stream_arn))
}

async fn create_queue(client: &aws_sdk_sqs::Client, stack: &Stack, logical: &str) -> Result<String, ProvisionError> {
    let properties = stack.properties(logical)?;
    let mut request = client.create_queue().queue_name(stack.attribute_of(logical, "QueueName")?);
    for (property, attribute) in [
        ("VisibilityTimeout", QueueAttributeName::VisibilityTimeout),
        ("MessageRetentionPeriod", QueueAttributeName::MessageRetentionPeriod),
        ("DelaySeconds", QueueAttributeName::DelaySeconds),
        ("ReceiveMessageWaitTimeSeconds", QueueAttributeName::ReceiveMessageWaitTimeSeconds),
        ("FifoQueue", QueueAttributeName::FifoQueue),
        ("ContentBasedDeduplication", QueueAttributeName::ContentBasedDeduplication),
    ] {
        if let Some(value) = properties.get(property) {
            request = request.attributes(attribute, scalar_text(value));
        }
    }
    if let Some(redrive) = properties.get("RedrivePolicy") {
        // CloudFormation takes the policy as an object with a number; SQS wants a JSON string.
        let mut redrive = redrive.clone();
        if let Some(count) = redrive.get("maxReceiveCount").map(scalar_text) {
            redrive["maxReceiveCount"] = Value::from(count.parse::<u64>().unwrap_or(1));
        }
        request = request.attributes(QueueAttributeName::RedrivePolicy, redrive.to_string());
    }
    let created = request.send().await.map_err(|error| refused(logical, error))?;
    created.queue_url.ok_or_else(|| unsupported(logical, "the queue was created without a URL"))
}

async fn subscribe(client: &aws_sdk_sns::Client, stack: &Stack, logical: &str) -> Result<(), ProvisionError> {
    let properties = stack.properties(logical)?;
    let mut request = client
        .subscribe()
        .topic_arn(text_at(&properties, "/TopicArn").unwrap_or_default())
        .protocol(text_at(&properties, "/Protocol").unwrap_or_default())
        .endpoint(text_at(&properties, "/Endpoint").unwrap_or_default())
        .return_subscription_arn(true);
    for attribute in ["RawMessageDelivery", "FilterPolicyScope", "RedrivePolicy"] {
        if let Some(value) = properties.get(attribute) {
            request = request.attributes(attribute, scalar_text(value));
        }
    }
    if let Some(policy) = properties.get("FilterPolicy") {
        request = request.attributes("FilterPolicy", policy.to_string());
    }
    request.send().await.map_err(|error| refused(logical, error))?;
    Ok(())
}
