//! The `Received:` header (RFC 5321 4.4) this server puts on top of every message.
//!
//! It records the client's EHLO name and IP address, this host, the protocol (`ESMTPSA`,
//! or `UTF8SMTPSA` with SMTPUTF8: RFC 3848, RFC 6531), the TLS version and cipher suite,
//! the session id and the time. It has no `for` clause: recipients are PHI.

use std::net::IpAddr;
use std::time::{SystemTime, UNIX_EPOCH};

use super::handler::TlsInfo;

/// What the header records.
pub(super) struct Trace<'a> {
    pub(super) helo: &'a str,
    pub(super) peer: IpAddr,
    pub(super) hostname: &'a str,
    pub(super) tls: &'a TlsInfo,
    pub(super) session_id: &'a str,
    pub(super) smtputf8: bool,
    pub(super) now: SystemTime,
}

/// The header, folded, ending in CRLF.
pub(super) fn header(trace: &Trace<'_>) -> String {
    let peer = match trace.peer {
        IpAddr::V4(ip) => format!("[{ip}]"),
        IpAddr::V6(ip) => format!("[IPv6:{ip}]"),
    };
    let protocol = if trace.smtputf8 {
        "UTF8SMTPSA"
    } else {
        "ESMTPSA"
    };
    format!(
        "Received: from {helo} ({peer})\r\n\tby {host} (carepost) with {protocol}\r\n\t\
         (using {version} with cipher {cipher})\r\n\tid {id}; {date}\r\n",
        helo = clean(trace.helo),
        host = trace.hostname,
        version = clean(&trace.tls.version),
        cipher = clean(&trace.tls.cipher_suite),
        id = clean(trace.session_id),
        date = rfc5322_date(trace.now),
    )
}

/// Keeps characters that are safe in a header token; others become `_`.
fn clean(text: &str) -> String {
    let safe = |c: char| c.is_ascii_alphanumeric() || ".-_:[]".contains(c);
    let cleaned: String = text
        .chars()
        .take(255)
        .map(|c| if safe(c) { c } else { '_' })
        .collect();
    if cleaned.is_empty() {
        "unknown".to_owned()
    } else {
        cleaned
    }
}

/// `Tue, 14 Nov 2023 22:13:20 +0000` (RFC 5322 3.3, in UTC).
fn rfc5322_date(now: SystemTime) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let seconds = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let days = seconds / 86_400;
    let (year, month, day) = civil_from_days(days);
    let weekday = DAYS.get((days % 7) as usize).copied().unwrap_or("Thu");
    let month_name = MONTHS
        .get(month.saturating_sub(1) as usize)
        .copied()
        .unwrap_or("Jan");
    let time = seconds % 86_400;
    format!(
        "{weekday}, {day} {month_name} {year} {:02}:{:02}:{:02} +0000",
        time / 3600,
        time % 3600 / 60,
        time % 60
    )
}

/// Year, month (1-12) and day (1-31) of a day count since 1970-01-01 (the proleptic
/// Gregorian calendar, shifted so that years start in March and leap days come last).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let day_of_era = z % 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    let month = if shifted_month < 10 {
        shifted_month + 3
    } else {
        shifted_month - 9
    };
    let year = year_of_era + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn formats_dates_in_rfc5322_form() {
        let at = |s| UNIX_EPOCH + Duration::from_secs(s);
        assert_eq!(rfc5322_date(at(0)), "Thu, 1 Jan 1970 00:00:00 +0000");
        assert_eq!(
            rfc5322_date(at(1_700_000_000)),
            "Tue, 14 Nov 2023 22:13:20 +0000"
        );
        assert_eq!(
            rfc5322_date(at(951_782_400)),
            "Tue, 29 Feb 2000 00:00:00 +0000"
        );
    }

    #[test]
    fn records_tls_and_cleans_what_the_client_chose() {
        let tls = TlsInfo::new("TLSv1.3", "TLS13_AES_128_GCM_SHA256");
        let header = header(&Trace {
            helo: "evil\r\nBcc: x",
            peer: "::1".parse().unwrap(),
            hostname: "mail.clinic.test",
            tls: &tls,
            session_id: "abc",
            smtputf8: false,
            now: UNIX_EPOCH,
        });
        assert!(header.starts_with("Received: from evil__Bcc:_x ([IPv6:::1])\r\n"));
        assert!(header.contains("with ESMTPSA\r\n\t(using TLSv1.3 with cipher TLS13_AES_128"));
        assert!(header.ends_with("id abc; Thu, 1 Jan 1970 00:00:00 +0000\r\n"));
    }
}
