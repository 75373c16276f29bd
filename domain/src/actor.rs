//! Who performs an operation, through which surface, and what they may do.

use serde::{Deserialize, Serialize};

/// The surface a request came through.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Source {
    Console,
    Script,
    Kevi,
    CfApi,
    Cli,
    Job,
}

impl Source {
    /// The name recorded and shown (`console`, `script`, `kevi`, `cf-api`, `cli`, `job`): its
    /// serialized form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Console => "console",
            Self::Script => "script",
            Self::Kevi => "kevi",
            Self::CfApi => "cf-api",
            Self::Cli => "cli",
            Self::Job => "job",
        }
    }

    /// Surfaces that never see protected namespaces (`KVM_PROTECTED_NAMESPACES`): the console, its
    /// script API and the Cloudflare-compatible API. Kevi services, the CLI (an operator on the
    /// database itself) and jobs already admitted at their start do.
    pub fn hides_protected(self) -> bool {
        matches!(self, Self::Console | Self::Script | Self::CfApi)
    }
}

/// What an actor may do.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Everything, including every user's jobs, downloads and audit rows (`KVM_ADMINS`).
    Admin,
    /// Reads and writes; sees their own jobs and downloads, and the audit rows of the namespaces
    /// they can see.
    #[default]
    User,
    /// Reads only (`KVM_READONLY_USERS`): every mutation is refused with 403.
    ReadOnly,
}

/// The identity behind a request: the user (email, service or token name, or `local`), the surface,
/// the request id that ties log lines together, and the role.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    pub user: String,
    pub source: Source,
    pub request_id: Option<String>,
    #[serde(default)]
    pub role: Role,
    /// The job whose work this is: its writes are recorded so that it can be undone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_id: Option<String>,
}

impl Actor {
    pub fn new(user: impl Into<String>, source: Source, role: Role) -> Self {
        Self { user: user.into(), source, request_id: None, role, job_id: None }
    }

    /// The single person on their own machine (`KVM_AUTH=none`): an admin.
    pub fn local(source: Source) -> Self {
        Self::new("local", source, Role::Admin)
    }

    pub fn with_request_id(mut self, request_id: Option<String>) -> Self {
        self.request_id = request_id;
        self
    }

    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }

    pub fn can_write(&self) -> bool {
        self.role != Role::ReadOnly
    }
}

/// Refuses every change by a read-only user.
pub fn require_write(actor: &Actor) -> crate::error::DomainResult<()> {
    if actor.can_write() {
        Ok(())
    } else {
        Err(crate::error::DomainError::forbidden(format!(
            "{} has read-only access: changes are not allowed",
            actor.user
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::Source;

    #[test]
    fn a_sources_name_is_its_serialized_form() {
        for source in [Source::Console, Source::Script, Source::Kevi, Source::CfApi, Source::Cli, Source::Job] {
            assert_eq!(serde_json::to_value(source).unwrap(), source.as_str());
        }
    }
}
