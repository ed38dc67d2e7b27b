//! Simulated time: working hours, weekends, weekly and month-end peaks.
//!
//! Times are Unix nanoseconds in UTC (`i64`). Order arrivals follow an hourly
//! intensity curve over the simulated window; operators work only inside their
//! shift, in their own time zone, on weekdays.

pub const MILLISECOND_NS: i64 = 1_000_000;
pub const SECOND_NS: i64 = 1_000 * MILLISECOND_NS;
pub const MINUTE_NS: i64 = 60 * SECOND_NS;
pub const HOUR_NS: i64 = 60 * MINUTE_NS;
pub const DAY_NS: i64 = 24 * HOUR_NS;

/// Customers' offset from UTC that arrival peaks follow (US Central standard time).
const CUSTOMER_UTC_OFFSET_HOURS: i64 = -6;

/// Day of the week, Monday = 0, of the day `days` after 1970-01-01 (a Thursday).
pub fn weekday(days: i64) -> i64 {
    (days + 3).rem_euclid(7)
}

/// Converts days since 1970-01-01 into (year, month 1-12, day 1-31) of the proleptic
/// Gregorian calendar (Howard Hinnant's `civil_from_days` algorithm).
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Converts a proleptic Gregorian date into days since 1970-01-01 (Howard
/// Hinnant's `days_from_civil` algorithm, the inverse of [`civil_from_days`]).
pub fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let yoe = year - era * 400;
    let month = i64::from(month);
    let doy = (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Parses a UTC time given as Unix seconds or as RFC 3339 with a `Z` offset
/// (`2026-03-01T00:00:00Z`); returns Unix nanoseconds.
pub fn parse_utc(text: &str) -> Option<i64> {
    if let Ok(seconds) = text.parse::<i64>() {
        return seconds.checked_mul(SECOND_NS);
    }
    let text = text
        .strip_suffix('Z')
        .or_else(|| text.strip_suffix("+00:00"))?;
    let (date, time) = text.split_once(['T', ' '])?;
    let mut date_parts = date.splitn(3, '-').map(str::parse::<i64>);
    let (year, month, day) = (
        date_parts.next()?.ok()?,
        date_parts.next()?.ok()?,
        date_parts.next()?.ok()?,
    );
    let mut time_parts = time.splitn(3, ':');
    let hour: i64 = time_parts.next()?.parse().ok()?;
    let minute: i64 = time_parts.next()?.parse().ok()?;
    let second: f64 = time_parts.next().unwrap_or("0").parse().ok()?;
    let valid = (1..=12).contains(&month)
        && (1..=31).contains(&day)
        && hour < 24
        && minute < 60
        && (0.0..61.0).contains(&second);
    if !valid {
        return None;
    }
    let days = days_from_civil(year, month as u32, day as u32);
    Some(days * DAY_NS + hour * HOUR_NS + minute * MINUTE_NS + (second * SECOND_NS as f64) as i64)
}

/// Returns the year of the UTC instant `t_ns`.
pub fn year_of(t_ns: i64) -> i64 {
    civil_from_days(t_ns.div_euclid(DAY_NS)).0
}

/// Returns true in the last three days of a month, when orders peak.
fn is_month_end(days: i64) -> bool {
    let (_, month, _) = civil_from_days(days);
    let (_, month_in_three_days, _) = civil_from_days(days + 3);
    month != month_in_three_days
}

/// Relative order-arrival intensity at `t_ns`: the customer's working day, quieter
/// weekends, a Monday peak and a month-end peak.
pub fn arrival_intensity(t_ns: i64) -> f64 {
    let local = t_ns + CUSTOMER_UTC_OFFSET_HOURS * HOUR_NS;
    let days = local.div_euclid(DAY_NS);
    let hour = local.rem_euclid(DAY_NS) / HOUR_NS;
    let by_hour = match hour {
        0..=5 => 0.05,
        6..=7 => 0.4,
        8..=11 => 1.6,
        12 => 1.1,
        13..=16 => 1.4,
        17..=19 => 0.6,
        _ => 0.15,
    };
    let by_weekday = [1.3, 1.0, 1.0, 1.0, 0.9, 0.2, 0.1][weekday(days) as usize];
    let month_end = if is_month_end(days) { 1.7 } else { 1.0 };
    by_hour * by_weekday * month_end
}

/// Cumulative arrival intensity over a window, in hourly buckets, to place the
/// i-th of N orders at the matching quantile of the window's intensity.
pub struct ArrivalCurve {
    start_ns: i64,
    cumulative: Vec<f64>,
}

impl ArrivalCurve {
    pub fn new(start_ns: i64, end_ns: i64) -> Self {
        let hours = ((end_ns - start_ns) / HOUR_NS).max(1);
        let mut total = 0.0;
        let cumulative = (0..hours)
            .map(|hour| {
                total += arrival_intensity(start_ns + hour * HOUR_NS + HOUR_NS / 2);
                total
            })
            .collect();
        Self {
            start_ns,
            cumulative,
        }
    }

    /// Returns the instant below which a fraction `quantile` (0..1) of the window's arrivals fall.
    pub fn time_at(&self, quantile: f64) -> i64 {
        let total = *self.cumulative.last().unwrap_or(&1.0);
        let target = quantile.clamp(0.0, 1.0) * total;
        let hour = self.cumulative.partition_point(|value| *value < target);
        let hour = hour.min(self.cumulative.len() - 1);
        let before = if hour == 0 {
            0.0
        } else {
            self.cumulative[hour - 1]
        };
        let width = (self.cumulative[hour] - before).max(f64::MIN_POSITIVE);
        let within = ((target - before) / width).clamp(0.0, 1.0);
        self.start_ns + hour as i64 * HOUR_NS + (within * HOUR_NS as f64) as i64
    }
}

/// An operator's working hours: weekdays, from `start_hour` for `hours`, local time.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct Shift {
    pub utc_offset_minutes: i32,
    pub start_hour: u8,
    pub hours: u8,
}

impl Shift {
    /// Returns the first instant at or after `t_ns` inside the shift.
    pub fn next_working(&self, t_ns: i64) -> i64 {
        let offset = i64::from(self.utc_offset_minutes) * MINUTE_NS;
        let local = t_ns + offset;
        let mut day = local.div_euclid(DAY_NS);
        let start = i64::from(self.start_hour) * HOUR_NS;
        let end = start + i64::from(self.hours) * HOUR_NS;
        let within = local.rem_euclid(DAY_NS);
        if weekday(day) < 5 && within >= start && within < end {
            return t_ns;
        }
        if weekday(day) >= 5 || within >= end {
            day += 1;
        }
        while weekday(day) >= 5 {
            day += 1;
        }
        day * DAY_NS + start - offset
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates_known() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(20_454), (2026, 1, 1));
        assert_eq!(civil_from_days(20_513), (2026, 3, 1));
    }

    #[test]
    fn utc_times_parse() {
        assert_eq!(parse_utc("2026-03-01T00:00:00Z"), Some(20_513 * DAY_NS));
        assert_eq!(parse_utc("1772323200"), Some(20_513 * DAY_NS));
        assert_eq!(
            parse_utc("2026-03-01T12:30:00+00:00"),
            Some(20_513 * DAY_NS + 12 * HOUR_NS + 30 * MINUTE_NS)
        );
        assert_eq!(parse_utc("2026-13-01T00:00:00Z"), None);
        assert_eq!(parse_utc("yesterday"), None);
        for days in [0, 20_454, 20_513, -1] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }

    #[test]
    fn weekday_of_known_dates() {
        assert_eq!(weekday(0), 3, "1970-01-01 was a Thursday");
        assert_eq!(weekday(20_454), 3, "2026-01-01 is a Thursday");
    }

    #[test]
    fn shift_skips_weekend_and_night() {
        let shift = Shift {
            utc_offset_minutes: 0,
            start_hour: 9,
            hours: 8,
        };
        // 2026-01-02 (Friday) 18:00 UTC is after the shift: next is Monday 2026-01-05 09:00.
        let friday_evening = 20_455 * DAY_NS + 18 * HOUR_NS;
        assert_eq!(
            shift.next_working(friday_evening),
            20_458 * DAY_NS + 9 * HOUR_NS
        );
        let monday_noon = 20_458 * DAY_NS + 12 * HOUR_NS;
        assert_eq!(shift.next_working(monday_noon), monday_noon);
    }

    #[test]
    fn arrivals_sorted_and_inside_window() {
        let start = 20_454 * DAY_NS;
        let end = start + 30 * DAY_NS;
        let curve = ArrivalCurve::new(start, end);
        let times: Vec<i64> = (0..100).map(|i| curve.time_at(i as f64 / 100.0)).collect();
        assert!(times.windows(2).all(|pair| pair[0] <= pair[1]));
        assert!(times.iter().all(|t| (start..end).contains(t)));
    }
}
