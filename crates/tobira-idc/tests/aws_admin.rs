//! The SSO Admin and Identity Store APIs over real HTTP, beyond what the
//! boto3/CLI script covers (`python_interop.rs`): the one store underneath
//! (changes in parallel, across restarts, from the pages and the TOML view),
//! older databases upgraded, and requests an attacker would send.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use serde_json::{Value, json};
use tobira_idc::{Idc, Settings};

const STORE: &str = "d-1234567890";

async fn instance(s: &Server) -> String {
    let (status, _, out) = aws_json(s, "sso", "SWBExternalService.ListInstances", &json!({})).await;
    assert_eq!(status, 200, "{out}");
    out["Instances"][0]["InstanceArn"].as_str().unwrap().to_string()
}

async fn group_names(s: &Server) -> Vec<String> {
    let (_, _, out) =
        aws_json(s, "identitystore", "AWSIdentityStore.ListGroups", &json!({ "IdentityStoreId": STORE })).await;
    out["Groups"].as_array().unwrap().iter().map(|g| g["DisplayName"].as_str().unwrap().to_string()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_changes_never_lose_one_another_and_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("idc.db");
    let s = start(Settings { db: Some(db.clone()), ..Settings::default() }).await;
    // Terraform applies up to ten resources at once.
    let calls = (0..24).map(|i| {
        let url = s.url.clone();
        let idc = s.idc.clone();
        tokio::spawn(async move {
            let body = json!({ "IdentityStoreId": STORE, "DisplayName": format!("team-{i:02}") });
            let (status, _, out) =
                aws_json_at(&idc, &url, "identitystore", "AWSIdentityStore.CreateGroup", &body).await;
            assert_eq!(status, 200, "{out}");
            out["GroupId"].as_str().unwrap().to_string()
        })
    });
    let ids: Vec<String> = futures_join(calls).await;
    assert_eq!(ids.iter().collect::<std::collections::BTreeSet<_>>().len(), 24, "24 distinct ids");
    let names = group_names(&s).await;
    assert_eq!(names.len(), 25, "engineers and all 24 new groups: {names:?}");
    drop(s);
    let s = start(Settings { db: Some(db.clone()), ..Settings::default() }).await;
    assert_eq!(group_names(&s).await.len(), 25, "kept in the database");
    // One row per group in the store, not a rewritten blob.
    let conn = rusqlite::Connection::open(&db).unwrap();
    let rows: i64 =
        conn.query_row("SELECT COUNT(*) FROM directory_items WHERE kind = 'group'", [], |r| r.get(0)).unwrap();
    assert_eq!(rows, 25);
}

async fn futures_join<T: Send + 'static>(handles: impl Iterator<Item = tokio::task::JoinHandle<T>>) -> Vec<T> {
    let mut out = Vec::new();
    for h in handles.collect::<Vec<_>>() {
        out.push(h.await.unwrap());
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn ids_stay_the_same_across_restarts_and_edits_of_the_toml_view() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("idc.db");
    let s = start(Settings { db: Some(db.clone()), ..Settings::default() }).await;
    let describe = |s: &Server| {
        let (idc, url) = (s.idc.clone(), s.url.clone());
        async move {
            let (_, _, out) = aws_json_at(
                &idc,
                &url,
                "identitystore",
                "AWSIdentityStore.GetUserId",
                &json!({ "IdentityStoreId": STORE, "AlternateIdentifier": {
                    "UniqueAttribute": { "AttributePath": "userName", "AttributeValue": "alice" } } }),
            )
            .await;
            out["UserId"].as_str().unwrap().to_string()
        }
    };
    let alice = describe(&s).await;
    assert!(alice.starts_with("1234567890-") && alice.len() == 47, "{alice}");
    let arn = instance(&s).await;
    drop(s);
    let s = start(Settings { db: Some(db.clone()), ..Settings::default() }).await;
    assert_eq!(describe(&s).await, alice);
    assert_eq!(instance(&s).await, arn);
    // The administrator edits the TOML view (no ids shown are lost).
    let text = s.idc.directory().to_public_toml().replace("Alice Example", "Alice E.");
    s.idc.apply_edited_toml(&text).unwrap();
    assert_eq!(describe(&s).await, alice);
    let (_, _, out) = aws_json(
        &s,
        "identitystore",
        "AWSIdentityStore.DescribeUser",
        &json!({ "IdentityStoreId": STORE, "UserId": alice }),
    )
    .await;
    assert_eq!(out["DisplayName"], "Alice E.", "{out}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_database_of_an_older_version_keeps_its_directory() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("idc.db");
    // What tobira-idc before schema 6 left: the directory as TOML text.
    tobira_idc::Store::open(&db).unwrap();
    let toml = toml::to_string(&tobira_idc::Directory::demo()).unwrap().replace("Production", "Legacy Prod");
    {
        let conn = rusqlite::Connection::open(&db).unwrap();
        conn.execute("DELETE FROM directory_items", []).unwrap();
        conn.execute("INSERT INTO directory (id, toml) VALUES (1, ?1)", [&toml]).unwrap();
    }
    let idc = Idc::new(Settings { db: Some(db.clone()), ..Settings::default() }).unwrap();
    assert_eq!(idc.directory().accounts[0].name, "Legacy Prod");
    let conn = rusqlite::Connection::open(&db).unwrap();
    let legacy: i64 = conn.query_row("SELECT COUNT(*) FROM directory", [], |r| r.get(0)).unwrap();
    let items: i64 = conn.query_row("SELECT COUNT(*) FROM directory_items", [], |r| r.get(0)).unwrap();
    assert_eq!((legacy, items > 10), (0, true), "converted to rows, the text dropped");
    drop(idc);
    let again = Idc::new(Settings { db: Some(db), ..Settings::default() }).unwrap();
    assert_eq!(again.directory().accounts[0].name, "Legacy Prod");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_page_change_is_seen_by_the_api_at_once() {
    let s = demo().await;
    let arn = instance(&s).await;
    // A permission set raised to 8 h on the admin side (the same call the page makes).
    let mut d = s.idc.directory();
    d.permission_sets.iter_mut().find(|p| p.name == "ReadOnly").unwrap().session_hours = 8;
    s.idc.replace_directory(d).unwrap();
    let (_, _, list) =
        aws_json(&s, "sso", "SWBExternalService.ListPermissionSets", &json!({ "InstanceArn": arn, "MaxResults": 1 }))
            .await;
    assert_eq!(list["PermissionSets"].as_array().unwrap().len(), 1);
    let token = list["NextToken"].as_str().expect("a second page").to_string();
    let (_, _, rest) = aws_json(
        &s,
        "sso",
        "SWBExternalService.ListPermissionSets",
        &json!({ "InstanceArn": arn, "MaxResults": 1, "NextToken": token }),
    )
    .await;
    assert!(rest.get("NextToken").is_none(), "the last page has no NextToken: {rest}");
    let mut durations = Vec::new();
    for ps in [&list["PermissionSets"][0], &rest["PermissionSets"][0]] {
        let (_, _, d) = aws_json(
            &s,
            "sso",
            "SWBExternalService.DescribePermissionSet",
            &json!({ "InstanceArn": arn, "PermissionSetArn": ps }),
        )
        .await;
        durations.push(d["PermissionSet"]["SessionDuration"].as_str().unwrap().to_string());
    }
    assert_eq!(durations, ["PT8H", "PT8H"], "ReadOnly raised, FullAccess was 8 h already");
}

#[tokio::test(flavor = "multi_thread")]
async fn forged_and_malformed_requests_are_refused_in_the_services_shapes() {
    let s = demo().await;
    // A signature scoped to STS is not valid for SSO Admin.
    let (status, kind, body) = aws_json(&s, "sts", "SWBExternalService.ListInstances", &json!({})).await;
    assert_eq!((status, kind.as_deref()), (400, Some("InvalidSignatureException")), "{body}");
    // Unknown operations and non-JSON bodies.
    let (_, kind, _) = aws_json(&s, "sso", "SWBExternalService.DropEverything", &json!({})).await;
    assert_eq!(kind.as_deref(), Some("UnknownOperationException"));
    let (_, kind, body) = aws_json(&s, "identitystore", "AWSIdentityStore.ListUsers", &json!([1])).await;
    assert_eq!(kind.as_deref(), Some("SerializationException"), "{body}");
    // Identity Store errors repeat the request id in the body; members are modeled ones.
    let (_, kind, body) = aws_json(
        &s,
        "identitystore",
        "AWSIdentityStore.DescribeGroup",
        &json!({ "IdentityStoreId": STORE, "GroupId": "1234567890-00000000-0000-4000-8000-000000000000" }),
    )
    .await;
    assert_eq!(kind.as_deref(), Some("ResourceNotFoundException"));
    assert_eq!(body["ResourceType"], "GROUP");
    assert!(body["RequestId"].as_str().is_some_and(|r| r.len() == 36), "{body}");
    // Injection attempts are data: a user name with quotes and markup is refused
    // (whitespace) or stored verbatim, never interpreted.
    let (status, _, out) = aws_json(
        &s,
        "identitystore",
        "AWSIdentityStore.CreateUser",
        &json!({ "IdentityStoreId": STORE, "UserName": "x');DROP/**/TABLE/**/directory_items;--",
                 "DisplayName": "<script>alert(1)</script>", "Name": { "GivenName": "a", "FamilyName": "b" } }),
    )
    .await;
    assert_eq!(status, 200, "{out}");
    let user = s.idc.directory().users.into_iter().find(|u| u.display_name.contains("<script>")).unwrap();
    assert_eq!(user.name, "x');DROP/**/TABLE/**/directory_items;--");
    // A missing required member is AWS's validation message.
    let (_, kind, body) = aws_json(&s, "sso", "SWBExternalService.DescribeInstance", &json!({})).await;
    assert_eq!(kind.as_deref(), Some("ValidationException"));
    assert_eq!(
        body["Message"],
        Value::from(
            "1 validation error detected: Value null at 'instanceArn' failed to satisfy constraint: Member must not be null"
        )
    );
}
