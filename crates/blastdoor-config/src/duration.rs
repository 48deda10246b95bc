//! Durations written as `"90s"`, `"10m"`, `"1h30m"`, `"0s"`: the only form the config accepts.

use std::time::Duration;

/// Parses one or more `<number><unit>` groups, units `ms`, `s`, `m`, `h`, `d`
/// (`"1h30m"`, `"250ms"`, `"0s"`). A bare number, an unknown unit, an empty string or an
/// overflowing value is an error whose message says what is accepted.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let expected =
        "expected a duration such as \"90s\", \"10m\", \"1h30m\" or \"0s\" (units: ms, s, m, h, d)";
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(format!("empty duration; {expected}"));
    }
    let mut total = Duration::ZERO;
    let mut rest = trimmed;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        let (number, after) = rest.split_at(digits);
        if number.is_empty() {
            return Err(format!("`{text}` is not a duration; {expected}"));
        }
        let unit_length = after
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(after.len());
        let (unit, after) = after.split_at(unit_length);
        let seconds_per_unit: Option<(u64, u64)> = match unit {
            "ms" => Some((0, 1)),
            "s" => Some((1, 0)),
            "m" => Some((60, 0)),
            "h" => Some((3600, 0)),
            "d" => Some((86_400, 0)),
            _ => None,
        };
        let Some((seconds, millis)) = seconds_per_unit else {
            return Err(if unit.is_empty() {
                format!("`{text}` has no unit; {expected}")
            } else {
                format!("`{text}` has an unknown unit `{unit}`; {expected}")
            });
        };
        let value: u64 = number
            .parse()
            .map_err(|_| format!("`{text}` is too large"))?;
        let part = if millis > 0 {
            Some(Duration::from_millis(value))
        } else {
            value.checked_mul(seconds).map(Duration::from_secs)
        };
        total = part
            .and_then(|part| total.checked_add(part))
            .ok_or_else(|| format!("`{text}` is too large"))?;
        rest = after;
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(text: &str, expected: Result<u64, &str>) {
        match (parse_duration(text), expected) {
            (Ok(actual), Ok(millis)) => assert_eq!(actual, Duration::from_millis(millis), "{text}"),
            (Err(actual), Err(fragment)) => assert!(actual.contains(fragment), "{text}: {actual}"),
            (actual, expected) => panic!("{text}: got {actual:?}, expected {expected:?}"),
        }
    }

    #[test]
    fn durations() {
        check("0s", Ok(0));
        check("90s", Ok(90_000));
        check("10m", Ok(600_000));
        check("1h", Ok(3_600_000));
        check("1h30m", Ok(5_400_000));
        check("2d", Ok(172_800_000));
        check("250ms", Ok(250));
        check(" 5s ", Ok(5_000));
        check("", Err("empty duration"));
        check("10", Err("has no unit"));
        check("10 m", Err("unknown unit ` m`"));
        check("ten minutes", Err("is not a duration"));
        check("5y", Err("unknown unit `y`"));
        check("-5s", Err("is not a duration"));
        check("1.5h", Err("unknown unit `.`"));
        check("99999999999999999999s", Err("too large"));
        check("999999999999999999d", Err("too large"));
    }
}
