//! Who a session acts for. On PostgreSQL the token in `MEM0_TOKEN` must be valid for
//! `MEM0_USER_ID`. The embedded database is readable by its owner only, so without a token its
//! owner acts with every permission, as [`embedded_user`]: `MEM0_USER_ID`, else the OS user name.
//! A token given on the embedded database is checked all the same. A minted token limited to a
//! project turns the session into manual mode on that project ([`Acting::project`]).
//!
//! This is the one home of the embedded database's default user and of [`os_user_name`].

use std::sync::Arc;

use super::SessionGuard;
use super::validate::{AuthError, Credentials, Purpose, authenticate};
use crate::access::{Permissions, Principal};
use crate::project::ProjectMode;
use crate::store::{Backend, TokenStore};

/// Who the server acts for, and what keeps checking that it still may.
#[derive(Debug)]
pub struct Acting {
    /// Who acts, with what permissions and which token.
    pub principal: Principal,
    /// Set when the session authenticated with a token: the server re-checks it while running.
    pub guard: Option<Arc<SessionGuard>>,
    /// The one project a minted token is limited to.
    pub project: Option<String>,
}

impl Acting {
    /// The project mode and project id the session works in, given the configured ones
    /// (`PROJECT_ID_MODE`, `PROJECT_ID`). A minted token limited to one project works in that
    /// project only, in manual mode, whatever was configured.
    pub fn project(
        &self,
        mode: ProjectMode,
        project_id: Option<String>,
    ) -> (ProjectMode, Option<String>) {
        let Some(limit) = &self.project else {
            return (mode, project_id);
        };
        if project_id.as_ref().is_some_and(|id| id != limit) {
            tracing::warn!(project.id = %limit, "the minted token is limited to another project than PROJECT_ID; using the token's project");
        }
        (ProjectMode::Manual, Some(limit.clone()))
    }
}

/// Decides who the session acts for and writes the audit row of the attempt (see
/// [`authenticate`]). `mode` is the configured project mode: a project-limited minted token is
/// refused in global mode.
///
/// Errors: [`AuthError`] naming why the credentials were refused, or [`AuthError::Store`] when
/// the token tables cannot be read.
pub async fn acting_principal(
    backend: Backend,
    tokens: &dyn TokenStore,
    credentials: Credentials<'_>,
    mode: ProjectMode,
) -> Result<Acting, AuthError> {
    if backend == Backend::Sqlite && credentials.token.is_none() {
        return Ok(Acting {
            principal: Principal {
                user_id: embedded_user(credentials.user_id),
                permissions: Permissions::ALL,
                token_display_id: None,
            },
            guard: None,
            project: None,
        });
    }
    let global = mode == ProjectMode::Global;
    let done = authenticate(tokens, credentials, Purpose::Serve, global).await?;
    Ok(Acting {
        principal: done.principal,
        guard: Some(SessionGuard::new(done.session)),
        project: done.project,
    })
}

/// The user the embedded database's owner acts as without a token: `MEM0_USER_ID` (given
/// here as `user_id`), else the OS user name.
pub fn embedded_user(user_id: Option<&str>) -> String {
    user_id.map_or_else(os_user_name, str::to_owned)
}

/// The OS user name, or `default` when the system cannot tell.
pub fn os_user_name() -> String {
    whoami::username().unwrap_or_else(|_| "default".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn acting(project: Option<&str>) -> Acting {
        Acting {
            principal: Principal {
                user_id: "alice".into(),
                permissions: Permissions::READ_ONLY,
                token_display_id: None,
            },
            guard: None,
            project: project.map(String::from),
        }
    }

    #[test]
    fn a_project_limit_turns_the_session_into_manual_mode_on_that_project() {
        let configured = (ProjectMode::Auto, Some("other".to_string()));
        assert_eq!(
            acting(None).project(configured.0, configured.1.clone()),
            configured
        );
        assert_eq!(
            acting(Some("widgets")).project(configured.0, configured.1),
            (ProjectMode::Manual, Some("widgets".to_string()))
        );
        assert_eq!(
            acting(Some("widgets")).project(ProjectMode::Global, None),
            (ProjectMode::Manual, Some("widgets".to_string()))
        );
    }

    #[test]
    fn the_embedded_user_is_the_configured_one_else_the_os_user() {
        assert_eq!(embedded_user(Some("bob")), "bob");
        assert_eq!(embedded_user(None), os_user_name());
    }
}
