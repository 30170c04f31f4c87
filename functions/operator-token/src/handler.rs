//! The `operator-token` Lambda: the operators' user pool runs it (a pre-token-generation trigger,
//! V2) each time it issues tokens. It adds to the access token the scopes of the user's role
//! (their `agent` or `supervisor` group) and the storefronts they serve (their
//! `custom:storefronts` attribute), as `shared::domain::TokenGrant` says; Cognito adds
//! `cognito:groups` itself. A user in no role's group gets no scope, so every operator route
//! refuses them.

use aws_lambda_events::event::cognito::{
    ClaimsAndScopeOverrideDetailsV2, CognitoAccessTokenGenerationV2, CognitoEventUserPoolsPreTokenGenV2,
};
use lambda_runtime::{Error, LambdaEvent};
use shared::domain::{STOREFRONTS_ATTRIBUTE, STOREFRONTS_CLAIM, TokenGrant};

/// One token issue: the event back with the access token's additions.
pub async fn handle(
    event: LambdaEvent<CognitoEventUserPoolsPreTokenGenV2>,
) -> Result<CognitoEventUserPoolsPreTokenGenV2, Error> {
    Ok(grant(event.payload))
}

fn grant(mut event: CognitoEventUserPoolsPreTokenGenV2) -> CognitoEventUserPoolsPreTokenGenV2 {
    let groups = &event.request.group_configuration.groups_to_override;
    let storefronts = event.request.user_attributes.get(STOREFRONTS_ATTRIBUTE).map(String::as_str);
    let grant = TokenGrant::for_user(groups.iter().map(String::as_str), storefronts);
    let mut access = CognitoAccessTokenGenerationV2::default();
    access.claims_to_add_or_override.insert(STOREFRONTS_CLAIM.to_owned(), grant.storefronts.into());
    access.scopes_to_add = grant.scopes.iter().map(|scope| (*scope).to_owned()).collect();
    let mut details = ClaimsAndScopeOverrideDetailsV2::default();
    // The user's groups as they are: an empty override would take them out of the token.
    details.group_override_details = event.request.group_configuration.clone();
    details.access_token_generation = Some(access);
    event.response.claims_and_scope_override_details = Some(details);
    event
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn issued(groups: serde_json::Value, storefronts: Option<&str>) -> serde_json::Value {
        let mut attributes = json!({"sub": "6f1c…", "email": "ana@shop.example"});
        if let Some(storefronts) = storefronts {
            attributes[STOREFRONTS_ATTRIBUTE] = json!(storefronts);
        }
        // The event as Cognito sends it (trimmed to what the trigger reads and returns).
        let event = json!({
            "version": "2", "triggerSource": "TokenGeneration_HostedAuth", "region": "eu-west-1",
            "userPoolId": "eu-west-1_Ab12", "userName": "ana",
            "callerContext": {"awsSdkVersion": "aws-sdk-unknown-unknown", "clientId": "desk"},
            "request": {"userAttributes": attributes,
                        "groupConfiguration": {"groupsToOverride": groups, "iamRolesToOverride": [], "preferredRole": null},
                        "scopes": ["openid"]},
            "response": {"claimsAndScopeOverrideDetails": null}
        });
        serde_json::to_value(grant(serde_json::from_value(event).unwrap())).unwrap()
    }

    #[test]
    fn an_agent_s_access_token_gets_their_scopes_and_storefronts_and_keeps_their_groups() {
        let details = &issued(json!(["agent"]), Some("shop-b,shop-a"))["response"]["claimsAndScopeOverrideDetails"];
        let access = &details["accessTokenGeneration"];
        assert_eq!(access["scopesToAdd"], json!(["orderflow/orders.read", "orderflow/orders.write"]));
        assert_eq!(access["claimsToAddOrOverride"][STOREFRONTS_CLAIM], "shop-a shop-b");
        assert_eq!(details["groupOverrideDetails"]["groupsToOverride"], json!(["agent"]));
    }

    #[test]
    fn a_user_in_no_role_s_group_gets_no_scope() {
        let details = &issued(json!(["staff"]), None)["response"]["claimsAndScopeOverrideDetails"];
        assert_eq!(details["accessTokenGeneration"]["scopesToAdd"], json!([]));
        assert_eq!(details["accessTokenGeneration"]["claimsToAddOrOverride"][STOREFRONTS_CLAIM], "");
        let supervisor = issued(json!(["agent", "supervisor"]), Some("shop-a"));
        let scopes = &supervisor["response"]["claimsAndScopeOverrideDetails"]["accessTokenGeneration"]["scopesToAdd"];
        assert!(scopes.as_array().unwrap().contains(&json!("orderflow/supervise")));
    }
}
