//! Audit rows written while serving (bulk deletes). Writing one never fails the tool call that
//! caused it: the deletion has happened, so a lost audit row is logged as an error instead.

use std::sync::Arc;

use crate::access::Principal;
use crate::memory::Scope;
use crate::store::{AuditEntry, AuditEvent, TokenStore};

#[derive(Debug, Clone)]
pub struct AuditLog {
    store: Arc<dyn TokenStore>,
}

impl AuditLog {
    pub fn new(store: Arc<dyn TokenStore>) -> Self {
        AuditLog { store }
    }

    /// Records a `delete_all_memories` that deleted something.
    pub async fn bulk_delete(&self, principal: &Principal, scope: &Scope, deleted: u64) {
        let entry = bulk_delete_entry(principal, scope, deleted);
        if let Err(e) = self.store.append_audit(&entry).await {
            tracing::error!(error = %e, "could not write the bulk_delete audit row");
        }
    }
}

fn bulk_delete_entry(principal: &Principal, scope: &Scope, deleted: u64) -> AuditEntry {
    let noun = if deleted == 1 { "memory" } else { "memories" };
    AuditEntry::new(AuditEvent::BulkDelete)
        .user(principal.user_id.clone())
        .token(principal.token_display_id.clone())
        .message(format!(
            "deleted {deleted} {noun} in project {} ({} mode)",
            scope.project_id,
            scope.mode.as_str()
        ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::Permissions;
    use crate::project::ProjectMode;

    #[test]
    fn bulk_delete_rows_name_user_token_and_scope() {
        let principal = Principal {
            user_id: "alice".into(),
            permissions: Permissions::READ_WRITE,
            token_display_id: Some("mcp_AAAAAAAA".into()),
        };
        let scope = Scope {
            user_id: "alice".into(),
            project_id: "widgets".into(),
            mode: ProjectMode::Manual,
        };
        let entry = bulk_delete_entry(&principal, &scope, 12);
        assert_eq!(entry.event, AuditEvent::BulkDelete);
        assert_eq!(entry.user_id.as_deref(), Some("alice"));
        assert_eq!(entry.token_prefix.as_deref(), Some("mcp_AAAAAAAA"));
        assert_eq!(
            entry.message.as_deref(),
            Some("deleted 12 memories in project widgets (manual mode)")
        );
    }
}
