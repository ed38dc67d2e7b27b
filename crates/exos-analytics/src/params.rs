//! Raw query parameters as the server receives them, read with clear errors.
//!
//! The server hands over every `name=value` pair of the query string in order.
//! Each route's `from_query` reads the names it accepts and rejects any other,
//! so a misspelt parameter fails loudly instead of being ignored.

use crate::error::AnalyticsError;

/// The query parameters of one request.
#[derive(Debug, Clone, Default)]
pub struct Params<'a> {
    pairs: &'a [(String, String)],
}

impl<'a> Params<'a> {
    /// Wraps the pairs and rejects names outside `known`.
    pub fn new(pairs: &'a [(String, String)], known: &[&str]) -> Result<Self, AnalyticsError> {
        if let Some((name, _)) = pairs
            .iter()
            .find(|(name, _)| !known.contains(&name.as_str()))
        {
            return Err(AnalyticsError::bad(
                name,
                format!("unknown parameter; this route accepts {}", known.join(", ")),
            ));
        }
        Ok(Self { pairs })
    }

    /// Returns the single value of `name`, if given; an empty value counts as absent.
    pub fn one(&self, name: &str) -> Result<Option<&'a str>, AnalyticsError> {
        let mut values = self.all(name).into_iter().filter(|v| !v.is_empty());
        let first = values.next();
        if values.next().is_some() {
            return Err(AnalyticsError::bad(
                name,
                "given more than once; pass it once",
            ));
        }
        Ok(first)
    }

    /// Returns every value of a repeatable parameter, in order.
    pub fn all(&self, name: &str) -> Vec<&'a str> {
        self.pairs
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// Returns a whole number in `1..=max`, `default` when absent.
    pub fn count(&self, name: &str, default: usize, max: usize) -> Result<usize, AnalyticsError> {
        let Some(text) = self.one(name)? else {
            return Ok(default);
        };
        match text.parse::<usize>() {
            Ok(value) if (1..=max).contains(&value) => Ok(value),
            _ => Err(AnalyticsError::bad(
                name,
                format!("{text:?} is not a whole number from 1 to {max}"),
            )),
        }
    }
}

/// Rejects text that cannot be a parameter value: NUL characters and overlong values.
pub fn check_text(name: &str, value: &str) -> Result<(), AnalyticsError> {
    const MAX_VALUE_BYTES: usize = 4096;
    if value.contains('\0') {
        return Err(AnalyticsError::bad(
            name,
            "the value contains a NUL character; remove it",
        ));
    }
    if value.len() > MAX_VALUE_BYTES {
        return Err(AnalyticsError::bad(
            name,
            format!(
                "the value is {} bytes long; the maximum is {MAX_VALUE_BYTES}",
                value.len()
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
        items
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn unknown_names_are_rejected() {
        let raw = pairs(&[("fitler", "Lob=Title")]);
        let error = Params::new(&raw, &["from", "to", "filter"]).unwrap_err();
        let text = error.to_string();
        assert!(text.contains("`fitler`"), "{text}");
        assert!(text.contains("from, to, filter"), "{text}");
    }

    #[test]
    fn repeated_single_values_are_rejected() {
        let raw = pairs(&[("from", "1"), ("from", "2")]);
        let params = Params::new(&raw, &["from"]).unwrap();
        assert!(params.one("from").is_err());
    }

    #[test]
    fn counts_are_bounded() {
        let raw = pairs(&[("limit", "5000")]);
        let params = Params::new(&raw, &["limit"]).unwrap();
        let error = params.count("limit", 100, 1000).unwrap_err().to_string();
        assert!(error.contains("1 to 1000"), "{error}");
        let empty = Params::new(&[], &["limit"]).unwrap();
        assert_eq!(empty.count("limit", 100, 1000).unwrap(), 100);
    }
}
