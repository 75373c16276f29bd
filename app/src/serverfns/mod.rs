//! Server functions: the script API and what the console calls. Each is `POST /api/<name>` with a
//! JSON object in and JSON out, and a thin adapter over `domain::Kv`.

pub mod keys;
pub mod namespaces;

#[cfg(feature = "ssr")]
pub(crate) mod ssr {
    use domain::{Actor, Kv, Source};
    use leptos::prelude::*;

    use crate::dto::*;
    use crate::error::AppError;
    use crate::state::AppState;

    /// The KV service from the server's state.
    pub fn kv() -> Result<Kv, AppError> {
        use_context::<AppState>().map(|state| state.kv).ok_or_else(|| {
            tracing::error!("AppState missing from the server function context");
            AppError::internal()
        })
    }

    /// Who is calling, as the identity middleware recorded it.
    pub fn actor() -> Actor {
        use_context::<http::request::Parts>()
            .and_then(|parts| parts.extensions.get::<Actor>().cloned())
            .unwrap_or_else(|| Actor::local(Source::Console))
    }

    impl From<domain::Namespace> for NamespaceDto {
        fn from(n: domain::Namespace) -> Self {
            Self {
                id: n.id,
                title: n.title,
                key_count: n.key_count,
                size_bytes: n.size_bytes,
                created_at: domain::rfc3339(n.created_at),
                last_accessed: domain::rfc3339(n.last_accessed),
            }
        }
    }

    impl From<domain::NamespacePage> for NamespacePageDto {
        fn from(p: domain::NamespacePage) -> Self {
            Self {
                namespaces: p.namespaces.into_iter().map(Into::into).collect(),
                total: p.total,
                page: p.page,
                per_page: p.per_page,
            }
        }
    }

    impl From<domain::KeyPage> for KeyListDto {
        fn from(p: domain::KeyPage) -> Self {
            Self {
                keys: p
                    .keys
                    .into_iter()
                    .map(|k| KeyEntryDto { name: k.name, expiration: k.expiration, metadata: k.metadata, size: k.size })
                    .collect(),
                cursor: p.cursor,
                list_complete: p.list_complete,
            }
        }
    }

    impl From<domain::KeyValue> for KeyDto {
        fn from(k: domain::KeyValue) -> Self {
            use base64::Engine;
            let size = k.value.len() as u64;
            let (value, value_base64) = match String::from_utf8(k.value) {
                Ok(text) => (Some(text), None),
                Err(err) => (None, Some(base64::engine::general_purpose::STANDARD.encode(err.as_bytes()))),
            };
            Self { name: k.name, value, value_base64, size, metadata: k.metadata, expiration: k.expiration }
        }
    }
}
