//! UTC calendar formatting for manifests and S3 (`20261125T082000Z`, `2026-11-25T08:20:00Z`),
//! without a date library. Times are passed in as unix seconds.

/// `(year, month, day, hour, minute, second)` of a unix time (before 1970 clamps to 1970).
pub(crate) fn civil(unix: i64) -> (i64, u32, u32, u32, u32, u32) {
    let unix = unix.max(0);
    let days = unix.div_euclid(86_400);
    let seconds = unix.rem_euclid(86_400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let narrow = |value: i64| u32::try_from(value).unwrap_or(0);
    (
        year,
        narrow(month),
        narrow(day),
        narrow(seconds / 3_600),
        narrow(seconds % 3_600 / 60),
        narrow(seconds % 60),
    )
}

/// `2026-11-25T08:20:00Z`.
pub(crate) fn rfc3339(unix: i64) -> String {
    let (year, month, day, hour, minute, second) = civil(unix);
    format!("{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}Z")
}

/// `20261125T082000Z`, the SigV4 `x-amz-date`.
pub(crate) fn amz_date(unix: i64) -> String {
    let (year, month, day, hour, minute, second) = civil(unix);
    format!("{year:04}{month:02}{day:02}T{hour:02}{minute:02}{second:02}Z")
}

/// Unix seconds now. Only the IO edges (S3 signing, the CLI) call this.
pub fn now_unix() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| {
            i64::try_from(elapsed.as_secs()).unwrap_or(i64::MAX)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_known_instants() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_369_353_600), "2013-05-24T00:00:00Z");
        assert_eq!(amz_date(1_709_251_199), "20240229T235959Z");
        assert_eq!(rfc3339(1_798_761_600), "2027-01-01T00:00:00Z");
    }
}
