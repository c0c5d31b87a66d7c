//! Magic cookies: the node's own, read from `~/.erlang.cookie` unless given,
//! and per-node overrides as `erlang:set_cookie/2` sets them.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Mutex;

use dist_proto::Cookie;

use crate::data::error::NodeError;

/// The cookie file OTP reads: `$HOME/.erlang.cookie`.
pub(crate) fn cookie_path() -> PathBuf {
    let home = std::env::var_os("HOME").unwrap_or_default();
    PathBuf::from(home).join(".erlang.cookie")
}

/// Reads the cookie file, trimming white space as `erl` does.
pub(crate) fn read_cookie_file() -> Result<Cookie, NodeError> {
    read_cookie_at(cookie_path())
}

fn read_cookie_at(path: PathBuf) -> Result<Cookie, NodeError> {
    let text = std::fs::read(&path).map_err(|source| NodeError::CookieFile {
        path: path.clone(),
        source,
    })?;
    let trimmed = text.trim_ascii();
    if trimmed.is_empty() {
        return Err(NodeError::EmptyCookie { path });
    }
    Ok(Cookie::new(trimmed))
}

/// The default cookie and the per-node ones.
#[derive(Debug)]
pub(crate) struct Cookies {
    default: Cookie,
    per_node: Mutex<HashMap<String, Cookie>>,
}

impl Cookies {
    pub(crate) fn new(default: Cookie, per_node: HashMap<String, Cookie>) -> Cookies {
        Cookies {
            default,
            per_node: Mutex::new(per_node),
        }
    }

    /// The cookie to use with `node`.
    pub(crate) fn for_node(&self, node: &str) -> Cookie {
        let per_node = self.per_node.lock().unwrap_or_else(|e| e.into_inner());
        per_node
            .get(node)
            .cloned()
            .unwrap_or_else(|| self.default.clone())
    }

    /// Sets the cookie for `node` (later connections use it).
    pub(crate) fn set(&self, node: &str, cookie: Cookie) {
        let mut per_node = self.per_node.lock().unwrap_or_else(|e| e.into_inner());
        per_node.insert(node.to_owned(), cookie);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cookie_file_is_trimmed_and_a_missing_or_empty_one_is_named() {
        let dir = std::env::temp_dir().join(format!("cnode_cookie_{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let file = dir.join(".erlang.cookie");
        std::fs::write(&file, b"  SECRET\n").expect("write");
        let cookie = read_cookie_at(file.clone()).expect("read");
        assert_eq!(cookie.as_bytes(), b"SECRET");
        std::fs::write(&file, b" \n").expect("write");
        assert!(
            matches!(read_cookie_at(file.clone()), Err(NodeError::EmptyCookie { path }) if path == file)
        );
        let missing = dir.join("missing");
        assert!(
            matches!(read_cookie_at(missing.clone()), Err(NodeError::CookieFile { path, .. }) if path == missing)
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_per_node_cookie_overrides_the_default() {
        let cookies = Cookies::new(Cookie::new("default"), HashMap::new());
        cookies.set("b@h", Cookie::new("special"));
        assert_eq!(cookies.for_node("b@h").as_bytes(), b"special");
        assert_eq!(cookies.for_node("c@h").as_bytes(), b"default");
    }
}
