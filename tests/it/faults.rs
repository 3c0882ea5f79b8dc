//! The database failing or waiting under a running server. A full disk: a failed write changes
//! nothing and is a clear tool error, and the next write after the cause is gone succeeds in
//! the same process. A call cancelled by the client (`notifications/cancelled`) while it waits
//! on a lock stops: its statement stops waiting while the lock is still held (PostgreSQL), and
//! nothing of it is committed or audited once the lock is released.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Value, json};
use sqlx::Connection;

use crate::support::system::require_root;
use crate::support::{Backend, TestDb};

on_both_backends!(cancelled_calls_change_nothing);

/// A small tmpfs mounted over a directory for one test, unmounted when dropped.
struct SmallDisk {
    dir: PathBuf,
}

impl SmallDisk {
    fn mount(dir: &Path, size: &str) -> Self {
        require_root();
        std::fs::create_dir_all(dir).unwrap();
        let status = Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size},mode=0700"),
                "tmpfs",
            ])
            .arg(dir)
            .status()
            .expect("run mount");
        assert!(
            status.success(),
            "mount a {size} tmpfs on {}",
            dir.display()
        );
        SmallDisk {
            dir: dir.to_path_buf(),
        }
    }

    /// Fills the filesystem to the last byte with one file; returns its path.
    fn fill(&self) -> PathBuf {
        use std::io::Write;
        let path = self.dir.join("filler");
        let mut file = std::fs::File::create(&path).unwrap();
        let block = vec![0u8; 4096];
        while file.write_all(&block).is_ok() {}
        while file.write_all(&[0]).is_ok() {}
        path
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.dir).status();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_writes_work_again_once_the_disk_has_room() {
    let db = TestDb::new(Backend::Sqlite);
    let disk = SmallDisk::mount(&db.data_dir(), "8m");
    let server = db.server().manual("proj-disk").start().await;
    let kept = server
        .ok(
            "add_memory",
            json!({"content": "written before the disk filled"}),
        )
        .await;
    let kept_id = kept["memory"]["id"].as_str().unwrap().to_owned();

    let filler = disk.fill();
    // Writes fail now (the WAL may have room for a few first): each as a tool error.
    let mut failures = 0;
    for i in 0..200 {
        let content = format!("{i} {}", "filler text that takes room ".repeat(1000));
        let (_, is_error, text) = server.call("add_memory", json!({"content": content})).await;
        if is_error {
            failures += 1;
            assert!(
                text.contains("disk holding the memory database is full"),
                "{text}"
            );
            if failures == 3 {
                break;
            }
        }
    }
    assert_eq!(failures, 3, "add_memory never failed on a full disk");
    let (_, is_error, _) = server
        .call(
            "update_memory",
            json!({"id": kept_id, "content": "changed while full ".repeat(500)}),
        )
        .await;
    assert!(is_error, "update_memory on a full disk");

    std::fs::remove_file(filler).unwrap();
    // Room again: every kind of write works in the same process.
    let added = server
        .ok(
            "add_memory",
            json!({"content": "written after space returned"}),
        )
        .await;
    server
        .ok(
            "update_memory",
            json!({"id": kept_id, "content": "updated after space returned"}),
        )
        .await;
    server
        .ok("delete_memory", json!({"id": added["memory"]["id"]}))
        .await;
    let found = server
        .ok(
            "search_memories",
            json!({"query": "updated space returned"}),
        )
        .await;
    assert_eq!(found["results"][0]["id"], kept_id.as_str(), "{found}");
    let logs = server.stderr_tail();
    assert!(!logs.contains("non-zero transaction depth"), "{logs}");
    server.shutdown().await;
}

/// Another client holding the write lock the server's next write waits for, until dropped.
enum LockHolder {
    Sqlite(sqlx::SqliteConnection),
    Postgres(sqlx::PgConnection),
}

impl LockHolder {
    async fn take(db: &TestDb) -> Self {
        match db.backend {
            Backend::Sqlite => {
                let url = format!("sqlite://{}", db.data_dir().join("mem0.db").display());
                let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
                sqlx::query("BEGIN IMMEDIATE")
                    .execute(&mut conn)
                    .await
                    .unwrap();
                LockHolder::Sqlite(conn)
            }
            Backend::Postgres => {
                let mut conn = sqlx::PgConnection::connect(&db.pg().url).await.unwrap();
                sqlx::query("BEGIN").execute(&mut conn).await.unwrap();
                sqlx::query("LOCK TABLE memories IN EXCLUSIVE MODE")
                    .execute(&mut conn)
                    .await
                    .unwrap();
                LockHolder::Postgres(conn)
            }
        }
    }

    /// Waits until the server's statement is queued behind the lock (PostgreSQL shows it;
    /// SQLite's wait is inside the server process, so give it a moment to get there).
    async fn until_waited_on(&mut self, db: &TestDb) {
        match self {
            LockHolder::Sqlite(_) => {
                tokio::time::sleep(std::time::Duration::from_millis(500)).await
            }
            LockHolder::Postgres(_) => {
                let mut admin = sqlx::PgConnection::connect(&db.pg().url).await.unwrap();
                for _ in 0..600 {
                    let waiting: i64 = sqlx::query_scalar(
                        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'",
                    )
                    .fetch_one(&mut admin)
                    .await
                    .unwrap();
                    if waiting > 0 {
                        return;
                    }
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                }
                panic!("the server's write never waited on the lock");
            }
        }
    }

    /// Waits until the server's statement no longer waits on the lock, which is still held:
    /// the cancelled call interrupted its statement (PostgreSQL) instead of leaving it queued
    /// until the lock is released. SQLite's wait is inside the server process: nothing to see.
    async fn until_abandoned(&mut self, db: &TestDb) {
        if let LockHolder::Postgres(_) = self {
            let mut admin = sqlx::PgConnection::connect(&db.pg().url).await.unwrap();
            // A generous bound for a slow machine (the cancel is sent as soon as the call
            // drops), well under the server's statement timeout.
            for _ in 0..600 {
                let running: i64 = sqlx::query_scalar(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'mem0-mcp' AND state = 'active' AND wait_event_type = 'Lock'",
                )
                .fetch_one(&mut admin)
                .await
                .unwrap();
                if running == 0 {
                    return;
                }
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
            panic!("the cancelled call's statement still waits on the lock");
        }
    }

    async fn release(self) {
        match self {
            LockHolder::Sqlite(mut conn) => {
                sqlx::query("ROLLBACK").execute(&mut conn).await.unwrap();
            }
            LockHolder::Postgres(mut conn) => {
                sqlx::query("ROLLBACK").execute(&mut conn).await.unwrap();
            }
        }
    }
}

fn tool_call(id: i64, tool: &str, arguments: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
           "params": {"name": tool, "arguments": arguments}})
}

fn cancel(id: i64) -> Value {
    json!({"jsonrpc": "2.0", "method": "notifications/cancelled",
           "params": {"requestId": id, "reason": "the user pressed stop"}})
}

async fn cancelled_calls_change_nothing(backend: Backend) {
    let db = TestDb::new(backend);
    let mut server = db.raw(&[
        ("MEM0_USER_ID", "alice"),
        ("PROJECT_ID_MODE", "manual"),
        ("PROJECT_ID", "proj-cancel"),
        // Far beyond the test's own bounds: the statement timeout cannot be what stops a call.
        ("MEM0_TIMEOUT", "600"),
    ]);
    server.initialize().await;
    server
        .send(tool_call(
            2,
            "add_memory",
            json!({"content": "kept through a cancelled wipe"}),
        ))
        .await;
    let kept = server.response(2).await;
    assert_eq!(kept["result"]["isError"], false, "{kept}");

    for (id, tool, arguments) in [
        (3, "delete_all_memories", json!({"confirm": true})),
        (
            4,
            "add_memory",
            json!({"content": "added by a cancelled call"}),
        ),
    ] {
        let mut lock = LockHolder::take(&db).await;
        server.send(tool_call(id, tool, arguments)).await;
        lock.until_waited_on(&db).await;
        server.send(cancel(id)).await;
        lock.until_abandoned(&db).await;
        lock.release().await;
        // The session goes on; the cancelled call gets no answer (MCP: the client stopped
        // waiting for it).
        server
            .send(json!({"jsonrpc": "2.0", "id": id + 100, "method": "ping"}))
            .await;
        let pong = server.response(id + 100).await;
        assert!(pong["result"].is_object(), "{pong}");
    }
    server.send(tool_call(10, "list_memories", json!({}))).await;
    let list = server.response(10).await;
    let memories = &list["result"]["structuredContent"]["memories"];
    assert_eq!(
        memories.as_array().map(Vec::len),
        Some(1),
        "the cancelled calls changed the scope: {list}"
    );
    assert_eq!(memories[0]["content"], "kept through a cancelled wipe");
    assert!(
        !server
            .lines
            .iter()
            .any(|l| l.contains(r#""id":3,"#) || l.contains(r#""id":4,"#)),
        "a cancelled call was answered: {:#?}",
        server.lines
    );
    let sql =
        "SELECT CAST(count(*) AS TEXT) FROM mcp_auth_audit_log WHERE event_type = 'bulk_delete'";
    assert_eq!(
        db.query_text(sql).await.as_deref(),
        Some("0"),
        "a cancelled wipe was audited"
    );
    // A wipe that is not cancelled is done and audited.
    server
        .send(tool_call(
            11,
            "delete_all_memories",
            json!({"confirm": true}),
        ))
        .await;
    let wiped = server.response(11).await;
    assert_eq!(
        wiped["result"]["structuredContent"]["deleted"], 1,
        "{wiped}"
    );
    assert_eq!(db.query_text(sql).await.as_deref(), Some("1"));
    server.close_stdin();
    server.wait_exit(std::time::Duration::from_secs(30)).await;
}
