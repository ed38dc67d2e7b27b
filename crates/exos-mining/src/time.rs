//! Timestamp parsing and formatting.
//!
//! XES and OCEL store ISO 8601 / RFC 3339 date-times. This module parses
//! them without allocating, because an import of a million events parses a
//! million of them. Every timestamp becomes microseconds since the Unix epoch
//! in UTC. A date-time without an offset is read in the offset the caller
//! gives (UTC by default), matching how PM4Py's pandas import treats naive
//! times as UTC.

use crate::log::Timestamp;

const MICROS_PER_SECOND: i64 = 1_000_000;

/// Parses `YYYY-MM-DD[(T| )hh:mm[:ss[.fraction]]][Z|±hh[:mm]]`.
///
/// `default_offset_seconds` applies when the text carries no offset. Returns
/// `None` for anything else, including out-of-range fields.
pub fn parse_iso8601(text: &str, default_offset_seconds: i32) -> Option<Timestamp> {
    let bytes = text.trim().as_bytes();
    let mut cursor = Cursor { bytes, at: 0 };

    let year = cursor.digits(4)? as i64;
    cursor.expect(b'-')?;
    let month = cursor.digits(2)?;
    cursor.expect(b'-')?;
    let day = cursor.digits(2)?;
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }

    let (mut hour, mut minute, mut second, mut micros) = (0, 0, 0, 0i64);
    if matches!(cursor.peek(), Some(b'T') | Some(b't') | Some(b' ')) {
        cursor.at += 1;
        hour = cursor.digits(2)?;
        cursor.expect(b':')?;
        minute = cursor.digits(2)?;
        if cursor.peek() == Some(b':') {
            cursor.at += 1;
            second = cursor.digits(2)?;
            if matches!(cursor.peek(), Some(b'.') | Some(b',')) {
                cursor.at += 1;
                micros = cursor.fraction_micros()?;
            }
        }
    }
    if hour > 23 || minute > 59 || second > 60 {
        return None;
    }

    let offset = match cursor.peek() {
        None => default_offset_seconds as i64,
        Some(b'Z') | Some(b'z') => {
            cursor.at += 1;
            0
        }
        Some(sign @ (b'+' | b'-')) => {
            cursor.at += 1;
            let hours = cursor.digits(2)? as i64;
            if cursor.peek() == Some(b':') {
                cursor.at += 1;
            }
            let minutes = if cursor.at < bytes.len() {
                cursor.digits(2)? as i64
            } else {
                0
            };
            let seconds = hours * 3600 + minutes * 60;
            if sign == b'-' {
                -seconds
            } else {
                seconds
            }
        }
        Some(_) => return None,
    };
    if cursor.at != bytes.len() {
        return None;
    }

    let days = days_from_civil(year, month, day);
    let local = days * 86_400 + (hour * 3600 + minute * 60 + second) as i64;
    Some((local - offset) * MICROS_PER_SECOND + micros)
}

/// Formats a timestamp as RFC 3339 in UTC with millisecond precision (the
/// precision XES writers and PM4Py use), or microseconds when present.
pub fn format_rfc3339(timestamp: Timestamp) -> String {
    let seconds = timestamp.div_euclid(MICROS_PER_SECOND);
    let micros = timestamp.rem_euclid(MICROS_PER_SECOND);
    let days = seconds.div_euclid(86_400);
    let of_day = seconds.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    let (hour, minute, second) = (of_day / 3600, of_day % 3600 / 60, of_day % 60);
    let fraction = if micros % 1000 == 0 {
        format!("{:03}", micros / 1000)
    } else {
        format!("{micros:06}")
    };
    format!("{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}.{fraction}+00:00")
}

/// Converts seconds as a float (a duration) from two timestamps.
pub fn seconds_between(from: Timestamp, to: Timestamp) -> f64 {
    (to - from) as f64 / MICROS_PER_SECOND as f64
}

/// Converts a chrono UTC date-time to a [`Timestamp`].
pub fn from_chrono(time: chrono::DateTime<chrono::Utc>) -> Timestamp {
    time.timestamp_micros()
}

struct Cursor<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    fn expect(&mut self, byte: u8) -> Option<()> {
        (self.peek()? == byte).then(|| self.at += 1)
    }

    fn digits(&mut self, count: usize) -> Option<u32> {
        let slice = self.bytes.get(self.at..self.at + count)?;
        let mut value = 0u32;
        for &b in slice {
            if !b.is_ascii_digit() {
                return None;
            }
            value = value * 10 + (b - b'0') as u32;
        }
        self.at += count;
        Some(value)
    }

    /// Reads fractional-second digits, keeping six (microseconds) and
    /// truncating the rest, as pandas does below its resolution.
    fn fraction_micros(&mut self) -> Option<i64> {
        let begin = self.at;
        let mut micros = 0i64;
        while let Some(b) = self.peek().filter(u8::is_ascii_digit) {
            if self.at - begin < 6 {
                micros = micros * 10 + (b - b'0') as i64;
            }
            self.at += 1;
        }
        let digits = self.at - begin;
        if digits == 0 {
            return None;
        }
        for _ in digits..6 {
            micros *= 10;
        }
        Some(micros)
    }
}

fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date, counted in 400-year
/// eras of 146,097 days with March as the first month, so leap days fall at
/// the end of each year.
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month = month as i64;
    let day_of_year =
        (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + day as i64 - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// Inverse of [`days_from_civil`].
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_convert_to_utc() {
        let utc = parse_iso8601("2011-10-01T00:38:44.546Z", 0).unwrap();
        let plus_two = parse_iso8601("2011-10-01T02:38:44.546+02:00", 0).unwrap();
        assert_eq!(utc, plus_two);
        assert_eq!(utc, 1_317_429_524_546_000);
    }

    #[test]
    fn naive_time_uses_default_offset() {
        let naive = parse_iso8601("2011-10-01 02:38:44", 7200).unwrap();
        assert_eq!(naive, parse_iso8601("2011-10-01T00:38:44Z", 0).unwrap());
    }

    #[test]
    fn invalid_dates_are_rejected() {
        for text in [
            "2011-02-30T00:00:00",
            "2011-13-01",
            "yesterday",
            "2011-10-01T25:00:00",
            "2011-10-01T10:00:00+02:00junk",
        ] {
            assert_eq!(parse_iso8601(text, 0), None, "{text}");
        }
    }

    #[test]
    fn format_round_trips() {
        for text in [
            "1999-12-31T23:59:59.999+00:00",
            "2024-02-29T00:00:00.000+00:00",
            "1960-01-01T00:00:00.000001+00:00",
        ] {
            let parsed = parse_iso8601(text, 0).unwrap();
            assert_eq!(format_rfc3339(parsed), text);
        }
    }
}
