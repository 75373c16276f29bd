//! Formatting helpers shared by server and browser (no clock, no time zone: UTC only).

/// Days since 1970-01-01 for a civil date (proleptic Gregorian).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// `YYYY-MM-DDTHH:MM` in UTC, the format of an `<input type="datetime-local">`.
pub fn datetime_local(unix: i64) -> String {
    format!("{}T{}", date(unix), clock(unix))
}

/// A readable UTC time: `YYYY-MM-DD HH:MM UTC`.
pub fn utc(unix: i64) -> String {
    datetime_local(unix).replace('T', " ") + " UTC"
}

/// Parses `YYYY-MM-DDTHH:MM[:SS]` as UTC.
pub fn parse_datetime_local(text: &str) -> Option<i64> {
    let (date, time) = text.trim().split_once('T')?;
    let mut date = date.split('-').map(|p| p.parse::<i64>().ok());
    let (y, m, d) = (date.next()??, date.next()??, date.next()??);
    let mut time = time.split(':').map(|p| p.parse::<i64>().ok());
    let (h, min) = (time.next()??, time.next()??);
    let s = time.next().flatten().unwrap_or(0);
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) || h > 23 || min > 59 || s > 59 {
        return None;
    }
    Some(days_from_civil(y, m, d) * 86_400 + h * 3600 + min * 60 + s)
}

/// Bytes as B, KB, MB (powers of 1024).
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["B", "KB", "MB", "GB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 { format!("{n} B") } else { format!("{value:.1} {}", UNITS[unit]) }
}

/// A span of seconds: `42s`, `3m 05s`, `2h 10m`.
pub fn duration(secs: i64) -> String {
    let secs = secs.max(0);
    match secs {
        0..60 => format!("{secs}s"),
        60..3600 => format!("{}m {:02}s", secs / 60, secs % 60),
        _ => format!("{}h {:02}m", secs / 3600, secs % 3600 / 60),
    }
}

/// How long ago `then` was, seen at `now`: `just now`, `3 minutes ago`, `2 days ago`.
pub fn ago(then: i64, now: i64) -> String {
    let secs = (now - then).max(0);
    let (n, unit) = match secs {
        0..10 => return "just now".to_owned(),
        10..60 => (secs, "second"),
        60..3600 => (secs / 60, "minute"),
        3600..86_400 => (secs / 3600, "hour"),
        _ => (secs / 86_400, "day"),
    };
    format!("{n} {unit}{} ago", if n == 1 { "" } else { "s" })
}

/// Seconds since 1970 now, by the server's or the browser's clock.
pub fn now_unix() -> i64 {
    #[cfg(target_arch = "wasm32")]
    {
        crate::browser::now()
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
    }
}

/// A UTC time to the second: `YYYY-MM-DD HH:MM:SS UTC`.
pub fn utc_seconds(unix: i64) -> String {
    format!("{}:{:02} UTC", datetime_local(unix).replace('T', " "), unix.rem_euclid(60))
}

/// A count with its noun: `1 key`, `3 keys`.
pub fn count(n: u64, noun: &str) -> String {
    format!("{n} {noun}{}", if n == 1 { "" } else { "s" })
}

/// A count with thousands separators: `1,234`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A change with its sign: `+3`, `-2`, `±0`, each part formatted by `show`.
pub fn signed(n: i64, show: impl Fn(u64) -> String) -> String {
    match n {
        0 => format!("±{}", show(0)),
        n if n > 0 => format!("+{}", show(n.unsigned_abs())),
        n => format!("-{}", show(n.unsigned_abs())),
    }
}

/// The time of day in UTC: `HH:MM`.
pub fn clock(unix: i64) -> String {
    let secs = unix.rem_euclid(86_400);
    format!("{:02}:{:02}", secs / 3600, secs % 3600 / 60)
}

/// The date in UTC: `YYYY-MM-DD`.
pub fn date(unix: i64) -> String {
    let (y, m, d) = civil_from_days(unix.div_euclid(86_400));
    format!("{y:04}-{m:02}-{d:02}")
}

/// A span of whole minutes, hours or days in words: `minute`, `15 minutes`, `2 hours`, `day`.
pub fn span_words(secs: i64) -> String {
    let (n, unit) = match secs {
        s if s >= 86_400 && s % 86_400 == 0 => (s / 86_400, "day"),
        s if s >= 3600 && s % 3600 == 0 => (s / 3600, "hour"),
        s if s >= 60 && s % 60 == 0 => (s / 60, "minute"),
        s => (s, "second"),
    };
    if n == 1 { unit.to_owned() } else { format!("{n} {unit}s") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn datetime_round_trips() {
        assert_eq!(datetime_local(0), "1970-01-01T00:00");
        assert_eq!(datetime_local(1_767_225_600), "2026-01-01T00:00");
        assert_eq!(parse_datetime_local("2026-01-01T00:00"), Some(1_767_225_600));
        assert_eq!(parse_datetime_local(&datetime_local(1_800_000_040)), Some(1_800_000_000));
        assert_eq!(parse_datetime_local("nonsense"), None);
    }

    #[test]
    fn sizes_read_well() {
        assert_eq!(bytes(12), "12 B");
        assert_eq!(bytes(2048), "2.0 KB");
    }

    #[test]
    fn times_read_well() {
        assert_eq!(duration(42), "42s");
        assert_eq!(duration(185), "3m 05s");
        assert_eq!(duration(7800), "2h 10m");
        assert_eq!(ago(100, 103), "just now");
        assert_eq!(ago(0, 180), "3 minutes ago");
        assert_eq!(ago(0, 3600), "1 hour ago");
        assert_eq!(utc_seconds(1_767_225_659), "2026-01-01 00:00:59 UTC");
        assert_eq!(count(1, "key"), "1 key");
        assert_eq!(count(2, "key"), "2 keys");
    }

    #[test]
    fn dashboard_numbers_read_well() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1234), "1,234");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(signed(3, |n| n.to_string()), "+3");
        assert_eq!(signed(-2048, bytes), "-2.0 KB");
        assert_eq!(signed(0, |n| n.to_string()), "±0");
        assert_eq!(clock(1_767_225_600 + 14 * 3600 + 5 * 60), "14:05");
        assert_eq!(date(1_767_225_600), "2026-01-01");
        assert_eq!(span_words(60), "minute");
        assert_eq!(span_words(900), "15 minutes");
        assert_eq!(span_words(7200), "2 hours");
        assert_eq!(span_words(86_400), "day");
    }
}
