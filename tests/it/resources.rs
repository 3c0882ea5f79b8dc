//! MCP resources and prompts through the real binary, on both backends: `resources/list` pages
//! through the scope newest first after `mem0://status`, `mem0://memories/{id}` reads one memory
//! of the scope (another user's id is not found, as for `get_memory`), and the prompts
//! `remember` and `recall` lead to the tools in the session's scope.

use rmcp::model::{GetPromptRequestParams, PaginatedRequestParams, ReadResourceRequestParams};
use serde_json::{Value, json};

use crate::support::{Backend, TestDb};

on_both_backends!(resources_follow_the_scope, prompts_lead_to_the_tools);

fn to_json(value: &impl serde::Serialize) -> Value {
    serde_json::to_value(value).expect("serializes")
}

/// The JSON text of the first contents of a `resources/read` result.
fn contents_json(result: &Value) -> Value {
    let text = result["contents"][0]["text"]
        .as_str()
        .unwrap_or_else(|| panic!("text contents: {result}"));
    assert_eq!(result["contents"][0]["mimeType"], "application/json");
    serde_json::from_str(text).expect("JSON contents")
}

async fn resources_follow_the_scope(backend: Backend) {
    let db = TestDb::new(backend);
    let s = db.server().manual("proj-res").start().await;
    let mut ids = Vec::new();
    for i in 0..53 {
        let added = s
            .ok(
                "add_memory",
                json!({"content": format!("Resource fact {i}")}),
            )
            .await;
        ids.push(added["memory"]["id"].as_str().unwrap().to_string());
    }
    let bob = db.server().user("bob").manual("proj-res").start().await;
    let bobs = bob
        .ok("add_memory", json!({"content": "Bob's private fact"}))
        .await;
    let bobs_id = bobs["memory"]["id"].as_str().unwrap().to_string();

    let peer = s.client();
    let first = to_json(&peer.list_resources(None).await.expect("resources/list"));
    let resources = first["resources"].as_array().unwrap();
    assert_eq!(resources[0]["uri"], "mem0://status", "{first}");
    assert_eq!(resources.len(), 51, "status + a page of 50");
    let newest: Vec<String> = ids
        .iter()
        .rev()
        .take(50)
        .map(|id| format!("mem0://memories/{id}"))
        .collect();
    let listed: Vec<String> = resources[1..]
        .iter()
        .map(|r| r["uri"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(listed, newest, "newest first");
    let cursor = first["nextCursor"]
        .as_str()
        .expect("a next page")
        .to_string();
    let second = to_json(
        &peer
            .list_resources(Some(
                PaginatedRequestParams::default().with_cursor(Some(cursor)),
            ))
            .await
            .expect("page 2"),
    );
    let rest: Vec<&str> = second["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["uri"].as_str().unwrap())
        .collect();
    assert_eq!(rest.len(), 3, "{second}");
    assert!(
        second.get("nextCursor").is_none_or(Value::is_null),
        "{second}"
    );
    assert!(!rest.iter().any(|u| u.contains(&bobs_id)));
    assert!(!listed.iter().any(|u| u.contains(&bobs_id)));

    let templates = to_json(&peer.list_resource_templates(None).await.unwrap());
    assert_eq!(
        templates["resourceTemplates"][0]["uriTemplate"],
        "mem0://memories/{id}"
    );

    let status = to_json(
        &peer
            .read_resource(ReadResourceRequestParams::new("mem0://status"))
            .await
            .expect("read status"),
    );
    let status = contents_json(&status);
    assert_eq!(status["count"], 53);
    assert_eq!(status["project_id"], "proj-res");
    assert_eq!(status["user_id"], "alice");

    let uri = format!("mem0://memories/{}", ids[0]);
    let one = to_json(
        &peer
            .read_resource(ReadResourceRequestParams::new(&uri))
            .await
            .unwrap(),
    );
    let one = contents_json(&one);
    assert_eq!(one["memory"]["content"], "Resource fact 0");
    assert_eq!(one["scope"]["project_id"], "proj-res");

    for (uri, needle) in [
        (format!("mem0://memories/{bobs_id}"), "no memory with id"),
        ("mem0://memories/not-a-uuid".to_string(), "not a memory id"),
        ("mem0://elsewhere".to_string(), "unknown resource"),
    ] {
        let error = peer
            .read_resource(ReadResourceRequestParams::new(&uri))
            .await
            .expect_err(&uri);
        assert!(error.to_string().contains(needle), "{uri}: {error}");
    }
    bob.shutdown().await;
    s.shutdown().await;
}

async fn prompts_lead_to_the_tools(backend: Backend) {
    let db = TestDb::new(backend);
    let s = db.server().manual("proj-prompts").start().await;
    let peer = s.client();
    let listed = to_json(&peer.list_prompts(None).await.expect("prompts/list"));
    let names: Vec<&str> = listed["prompts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["remember", "recall"]);
    assert_eq!(listed["prompts"][0]["arguments"][0]["name"], "fact");
    assert_eq!(listed["prompts"][1]["arguments"][0]["name"], "topic");

    let arguments = |key: &str, value: &str| json!({ key: value }).as_object().unwrap().clone();
    let remember = to_json(
        &peer
            .get_prompt(
                GetPromptRequestParams::new("remember")
                    .with_arguments(arguments("fact", "We deploy on Tuesdays")),
            )
            .await
            .expect("remember"),
    );
    let text = remember["messages"][0]["content"]["text"].as_str().unwrap();
    assert_eq!(remember["messages"][0]["role"], "user");
    assert!(
        text.contains("add_memory") && text.contains("We deploy on Tuesdays"),
        "{text}"
    );
    assert!(text.contains("proj-prompts"), "names the scope: {text}");
    let recall = to_json(
        &peer
            .get_prompt(
                GetPromptRequestParams::new("recall")
                    .with_arguments(arguments("topic", "deploy days")),
            )
            .await
            .expect("recall"),
    );
    let text = recall["messages"][0]["content"]["text"].as_str().unwrap();
    assert!(
        text.contains("search_memories") && text.contains("deploy days"),
        "{text}"
    );

    let missing = peer
        .get_prompt(GetPromptRequestParams::new("recall"))
        .await
        .expect_err("no topic");
    assert!(missing.to_string().contains("topic"), "{missing}");
    let unknown = peer
        .get_prompt(GetPromptRequestParams::new("forget"))
        .await
        .expect_err("unknown prompt");
    assert!(unknown.to_string().contains("unknown prompt"), "{unknown}");
    s.shutdown().await;
}
