//! A small builder for the few statements whose SQL the query builder cannot express
//! (insert-select, row-value cursors, the substring index), with placeholders for either backend.

use sea_orm::{DbBackend, Statement, Value};

/// Stands for a bound value until the statement is numbered for its backend.
const SLOT: char = '\u{1}';

pub(crate) struct Sql {
    backend: DbBackend,
    text: String,
    values: Vec<Value>,
}

impl Sql {
    pub fn new(backend: DbBackend, text: &str) -> Self {
        Self { backend, text: text.to_owned(), values: Vec::new() }
    }

    /// Appends SQL text.
    pub fn push(&mut self, text: &str) -> &mut Self {
        self.text.push_str(text);
        self
    }

    /// Appends a placeholder bound to `value`.
    pub fn bind(&mut self, value: impl Into<Value>) -> &mut Self {
        self.values.push(value.into());
        self.text.push(SLOT);
        self
    }

    /// Appends `(?, ?, ...)` bound to `values`.
    pub fn bind_list<V: Into<Value> + Clone>(&mut self, values: &[V]) -> &mut Self {
        self.text.push('(');
        for (i, value) in values.iter().enumerate() {
            if i > 0 {
                self.text.push_str(", ");
            }
            self.bind(value.clone());
        }
        self.text.push(')');
        self
    }

    /// Appends another builder's SQL and values.
    pub fn push_sql(&mut self, other: &Sql) -> &mut Self {
        self.text.push_str(&other.text);
        self.values.extend(other.values.iter().cloned());
        self
    }

    /// The statement with `?` (SQLite) or `$n` (PostgreSQL) placeholders.
    pub fn statement(&self) -> Statement {
        let mut text = String::with_capacity(self.text.len() + self.values.len() * 3);
        let mut n = 0;
        for c in self.text.chars() {
            if c == SLOT {
                n += 1;
                match self.backend {
                    DbBackend::Postgres => text.push_str(&format!("${n}")),
                    _ => text.push('?'),
                }
            } else {
                text.push(c);
            }
        }
        Statement::from_sql_and_values(self.backend, text, self.values.clone())
    }
}
