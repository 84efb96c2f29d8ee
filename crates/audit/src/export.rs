//! Writing audit records out: JSON lines or CSV.
//!
//! CSV cells that a spreadsheet would read as a formula (starting with `=`, `+`, `-`,
//! `@`, tab or carriage return) are prefixed with `'`, so an exported log opened in a
//! spreadsheet cannot run anything.

use std::io::Write;

use crate::AuditRecord;

/// An export format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// One JSON object per line.
    JsonLines,
    /// Comma-separated values with a header row.
    Csv,
}

impl std::str::FromStr for Format {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "jsonl" => Ok(Self::JsonLines),
            "csv" => Ok(Self::Csv),
            other => Err(format!("unknown export format '{other}': use jsonl or csv")),
        }
    }
}

const CSV_HEADER: [&str; 13] = [
    "org",
    "seq",
    "time",
    "actor_kind",
    "actor_id",
    "action",
    "object_type",
    "object_id",
    "outcome",
    "source",
    "detail",
    "prev_hash",
    "hash",
];

/// Writes records in one format, one at a time.
pub struct Exporter<W: Write> {
    format: Format,
    csv: Option<csv::Writer<W>>,
    out: Option<W>,
}

impl<W: Write> Exporter<W> {
    /// An exporter writing to `out`.
    pub fn new(format: Format, out: W) -> std::io::Result<Self> {
        match format {
            Format::JsonLines => Ok(Self {
                format,
                csv: None,
                out: Some(out),
            }),
            Format::Csv => {
                let mut w = csv::Writer::from_writer(out);
                w.write_record(CSV_HEADER).map_err(std::io::Error::other)?;
                Ok(Self {
                    format,
                    csv: Some(w),
                    out: None,
                })
            }
        }
    }

    /// Writes one record.
    pub fn write(&mut self, r: &AuditRecord) -> std::io::Result<()> {
        match (self.format, &mut self.csv, &mut self.out) {
            (Format::Csv, Some(w), _) => {
                let time = r
                    .time()
                    .to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
                let cells = [
                    r.org.to_string(),
                    r.seq.to_string(),
                    time,
                    r.actor.kind().to_owned(),
                    r.actor.id().to_owned(),
                    r.action.clone(),
                    r.object.kind.clone(),
                    r.object.id.clone(),
                    r.outcome.as_str().to_owned(),
                    r.source.clone().unwrap_or_default(),
                    r.detail.clone().unwrap_or_default(),
                    hex::encode(r.prev_hash),
                    hex::encode(r.hash),
                ];
                w.write_record(cells.iter().map(|c| defuse(c).into_owned()))
                    .map_err(std::io::Error::other)
            }
            (_, _, Some(out)) => {
                let mut v = serde_json::to_value(r).map_err(std::io::Error::other)?;
                if let Some(obj) = v.as_object_mut() {
                    let time = r
                        .time()
                        .to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
                    obj.insert("time".into(), serde_json::Value::String(time));
                }
                serde_json::to_writer(&mut *out, &v).map_err(std::io::Error::other)?;
                out.write_all(b"\n")
            }
            _ => Err(std::io::Error::other(
                "exporter is in an inconsistent state",
            )),
        }
    }

    /// Flushes everything written.
    pub fn finish(self) -> std::io::Result<()> {
        if let Some(mut w) = self.csv {
            w.flush()?;
        }
        if let Some(mut out) = self.out {
            out.flush()?;
        }
        Ok(())
    }
}

fn defuse(cell: &str) -> std::borrow::Cow<'_, str> {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{cell}").into(),
        _ => cell.into(),
    }
}

#[cfg(test)]
mod tests {
    use carepost_core::{Actor, OrgId};

    use super::*;
    use crate::{AuditEvent, ObjectRef, genesis_hash};

    fn record(object_id: &str) -> AuditRecord {
        let org = OrgId::new();
        let e = AuditEvent::new(
            Actor::User("=cmd|' /C calc'!A0".into()),
            "contact.read",
            ObjectRef::new("contact", object_id),
        );
        AuditRecord::seal(org, 1, 1_700_000_000_000_000, e, genesis_hash(org))
    }

    #[test]
    fn csv_export_defuses_spreadsheet_formulas() {
        let mut buf = Vec::new();
        let mut x = Exporter::new(Format::Csv, &mut buf).unwrap();
        x.write(&record("+1")).unwrap();
        x.finish().unwrap();
        let text = String::from_utf8(buf).unwrap();
        assert!(text.contains("'=cmd"), "{text}");
        assert!(text.contains(",'+1,"), "{text}");
        assert!(text.starts_with("org,seq,time"));
    }

    #[test]
    fn json_lines_export_writes_one_object_per_record() {
        let mut buf = Vec::new();
        let mut x = Exporter::new(Format::JsonLines, &mut buf).unwrap();
        x.write(&record("a")).unwrap();
        x.write(&record("b")).unwrap();
        x.finish().unwrap();
        let text = String::from_utf8(buf).unwrap();
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0]["object"]["id"], "a");
        assert_eq!(lines[0]["time"], "2023-11-14T22:13:20.000000Z");
        assert_eq!(lines[0]["actor"]["kind"], "user");
    }
}
