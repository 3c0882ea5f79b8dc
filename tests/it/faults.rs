//! The database failing under a running server: a full disk. A failed write changes nothing
//! and is a clear tool error, and the next write after the cause is gone succeeds in the same
//! process.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::json;

use crate::support::system::require_root;
use crate::support::{Backend, TestDb};

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
