//! `Result<T, E>` as Erlang's `{ok, Value} | {error, Reason}`.
//!
//! serde sees `Result` as an enum named `Result` with the newtype variants
//! `Ok` and `Err`. Written as other enums are, it would give
//! `{'Ok', Value}`, which no Erlang or Elixir code matches on; both
//! directions rename its variants to the atoms OTP uses instead. A bare
//! `ok` or `error` (what `file:write_file/2` returns) stands for the
//! variant with `()` inside.

/// The serde name of `Result`.
const NAME: &str = "Result";

/// The variants serde gives `Result`, in order.
pub(crate) const VARIANTS: [&str; 2] = ["Ok", "Err"];

/// The tag atom that stands for `variant` of enum `name`, if the enum is
/// `Result`.
pub(crate) fn tag(name: &str, variant: &str) -> Option<&'static str> {
    match (name, variant) {
        (NAME, "Ok") => Some("ok"),
        (NAME, "Err") => Some("error"),
        _ => None,
    }
}

/// The variant that the tag atom `tag` stands for, if the enum `name` with
/// `variants` is `Result`: `Some("Ok")` or `Some("Err")`, `None` for
/// another tag. Other enums' tags are their variants' names as they are.
pub(crate) fn variant<'a>(name: &str, variants: &[&str], tag: &'a str) -> Option<&'a str> {
    if !is_result(name, variants) {
        return Some(tag);
    }
    match tag {
        "ok" => Some(VARIANTS[0]),
        "error" => Some(VARIANTS[1]),
        _ => None,
    }
}

/// What a `Result` reads, for its errors.
pub(crate) const EXPECTED: &str = "`ok`, `error`, `{ok, Value}` or `{error, Reason}`";

/// Whether the enum `name` with `variants` is `Result`.
pub(crate) fn is_result(name: &str, variants: &[&str]) -> bool {
    name == NAME && variants == VARIANTS
}
