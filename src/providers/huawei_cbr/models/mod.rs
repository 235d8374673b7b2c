//! Typed CBR requests and responses. Responses are read leniently (see [`de`]): unknown fields
//! are ignored, `null` is accepted almost everywhere, and the document's inconsistent spellings,
//! number and time formats are all understood. Requests send only what the caller set.

mod checkpoint;
pub mod de;
mod policy;
mod task;
mod vault;

pub use checkpoint::*;
pub use policy::*;
pub use task::*;
pub use vault::*;

/// The JSON string of a unit enum (`CbrObjectType::Server` → `server`).
pub fn enum_text<T: serde::Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        _ => String::new(),
    }
}

#[cfg(test)]
#[path = "tests.rs"]
mod tests;
