//! The directory: who each user's manager is, from a CSV export of HR or the AD.
//!
//! Columns are found by their header name (`user`, `name`, `unit`, `manager`, in any case and
//! order); other columns are ignored. The separator is `;` or `,` (whichever the header line
//! has more of), the text UTF-8 with or without a byte-order mark.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// One person in the directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    pub name: Option<String>,
    pub unit: Option<String>,
    /// The manager's e-mail address, when the directory gives one.
    pub manager: Option<String>,
}

/// A directory file that cannot be used. Messages name the file and the line.
#[derive(Debug, thiserror::Error)]
pub enum DirectoryError {
    #[error("directory {path}: cannot read it: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("directory {path}: line {line}: {reason}")]
    Invalid {
        path: PathBuf,
        line: u64,
        reason: String,
    },
}

/// Users by address (lower case).
#[derive(Debug, Clone, Default)]
pub struct Directory {
    people: HashMap<String, Person>,
}

impl Directory {
    pub fn load(path: &Path) -> Result<Directory, DirectoryError> {
        let bytes = std::fs::read(path).map_err(|source| DirectoryError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Directory::parse(&bytes, path)
    }

    /// Parses directory CSV; `path` only names it in errors.
    pub fn parse(bytes: &[u8], path: &Path) -> Result<Directory, DirectoryError> {
        let invalid = |line: u64, reason: String| DirectoryError::Invalid {
            path: path.to_path_buf(),
            line,
            reason,
        };
        let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        let text = std::str::from_utf8(bytes).map_err(|e| {
            let line = 1 + bytes[..e.valid_up_to()]
                .iter()
                .filter(|&&b| b == b'\n')
                .count();
            invalid(line as u64, "not UTF-8 text".into())
        })?;
        let head = text.lines().next().unwrap_or("");
        let delimiter = if head.matches(';').count() > head.matches(',').count() {
            b';'
        } else {
            b','
        };
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .flexible(true)
            .trim(csv::Trim::All)
            .from_reader(text.as_bytes());
        let headers = reader
            .headers()
            .map_err(|e| invalid(1, format!("cannot read the header line: {e}")))?
            .clone();
        let column = |name: &str| {
            headers
                .iter()
                .position(|h| h.trim().eq_ignore_ascii_case(name))
        };
        let user = column("user").ok_or_else(|| {
            invalid(
                1,
                "the header line has no `user` column (expected user, name, unit, manager)".into(),
            )
        })?;
        let manager = column("manager").ok_or_else(|| {
            invalid(
                1,
                "the header line has no `manager` column (expected user, name, unit, manager)"
                    .into(),
            )
        })?;
        let (name, unit) = (column("name"), column("unit"));
        let mut people = HashMap::new();
        for record in reader.records() {
            let record = record.map_err(|e| {
                let line = e.position().map_or(0, |p| p.line());
                invalid(line, format!("{e}"))
            })?;
            let line = record.position().map_or(0, |p| p.line());
            if record.iter().all(|f| f.is_empty()) {
                continue;
            }
            let field = |i: Option<usize>| {
                i.and_then(|i| record.get(i))
                    .filter(|v| !v.is_empty())
                    .map(str::to_string)
            };
            let Some(id) = field(Some(user)) else {
                return Err(invalid(line, "the `user` column is empty".into()));
            };
            let manager = field(Some(manager));
            if let Some(m) = &manager
                && !looks_like_address(m)
            {
                return Err(invalid(
                    line,
                    "the `manager` column is not an e-mail address".into(),
                ));
            }
            let key = id.to_lowercase();
            if people.contains_key(&key) {
                return Err(invalid(line, "this user is listed twice".into()));
            }
            people.insert(
                key,
                Person {
                    name: field(name),
                    unit: field(unit),
                    manager,
                },
            );
        }
        Ok(Directory { people })
    }

    /// The person with this address or UPN, in any case.
    pub fn person(&self, user: &str) -> Option<&Person> {
        self.people.get(&user.trim().to_lowercase())
    }

    pub fn len(&self) -> usize {
        self.people.len()
    }

    /// How many users have a manager.
    pub fn with_manager(&self) -> usize {
        self.people.values().filter(|p| p.manager.is_some()).count()
    }

    pub fn is_empty(&self) -> bool {
        self.people.is_empty()
    }

    /// Whether anyone is in `unit` (in any case).
    pub fn has_unit(&self, unit: &str) -> bool {
        let unit = unit.trim().to_lowercase();
        self.people
            .values()
            .any(|p| p.unit.as_deref().is_some_and(|u| u.to_lowercase() == unit))
    }

    /// The managers' addresses (lower case), sorted, each once.
    pub fn managers(&self) -> Vec<String> {
        let set: std::collections::BTreeSet<String> = self
            .people
            .values()
            .filter_map(|p| p.manager.as_deref())
            .map(|m| m.trim().to_lowercase())
            .collect();
        set.into_iter().collect()
    }

    /// Whether anyone has `manager` (an address, in any case) as manager.
    pub fn has_manager(&self, manager: &str) -> bool {
        let manager = manager.trim().to_lowercase();
        self.people.values().any(|p| {
            p.manager
                .as_deref()
                .is_some_and(|m| m.to_lowercase() == manager)
        })
    }
}

/// An address one can send to: `local@domain`, no white space or controls.
pub fn looks_like_address(s: &str) -> bool {
    let Some((local, domain)) = s.rsplit_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !s
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '<' || c == '>')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Directory, DirectoryError> {
        Directory::parse(text.as_bytes(), Path::new("dir.csv"))
    }

    #[test]
    fn columns_by_header_either_separator_bom_and_extra_columns() {
        let d = parse("\u{feff}Unit;USER;extra;Manager;Name\nAkuten;Anna@Region.se;x;chef@region.se;Anna A\n\n")
            .unwrap();
        let p = d.person("anna@region.se").unwrap();
        assert_eq!(p.manager.as_deref(), Some("chef@region.se"));
        assert_eq!(p.unit.as_deref(), Some("Akuten"));
        assert_eq!(p.name.as_deref(), Some("Anna A"));
        let d = parse("user,manager\nbo@region.se,\n").unwrap();
        assert_eq!(d.person("BO@region.se").unwrap().manager, None);
        assert_eq!(d.len(), 1);
    }

    #[test]
    fn errors_name_the_line() {
        let e = parse("user;name\na@r.se;A\n").unwrap_err().to_string();
        assert!(
            e.contains("dir.csv: line 1") && e.contains("`manager`"),
            "{e}"
        );
        let e = parse("user;manager\na@r.se;chef@r.se\n;chef@r.se\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("line 3") && e.contains("`user` column is empty"),
            "{e}"
        );
        let e = parse("user;manager\na@r.se;not an address\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 2"), "{e}");
        let e = parse("user;manager\na@r.se;c@r.se\nA@r.se;c@r.se\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 3") && e.contains("twice"), "{e}");
        let e = Directory::parse(b"user;manager\n\xff\n", Path::new("d.csv"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 2") && e.contains("UTF-8"), "{e}");
    }
}
