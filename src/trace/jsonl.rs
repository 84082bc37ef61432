//! The JSONL form of a trace: a header line, then one [`TraceRecord`] per line with `t_ms`, `seq`,
//! `component` and `event` first, then the event's own fields in declaration order.
//!
//! No wall-clock time and no floats are ever written, so the same (scenario, seed, version)
//! gives the same bytes.
//!
//! A run that stopped early (its event limit, an error) still writes what it traced, and ends
//! the file with one [`Incomplete`] marker line, `{"incomplete":{"reason":...,"at_ms":...}}`,
//! so that no reader mistakes a cut-off run for one that settled. A complete trace has no such
//! line (its last record is `RunEnded`).

use std::fs::File;
use std::io::{self, BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::trace::{
    Detail, FORMAT, FORMAT_VERSION, TraceEvent, TraceHeader, TraceRecord, TraceSink,
};
use crate::units::SimTime;

/// Writes a trace as it is produced.
#[derive(Debug)]
pub struct JsonlWriter<W: Write> {
    out: W,
    detail: Detail,
    next_seq: u64,
    error: Option<io::Error>,
}

impl<W: Write> JsonlWriter<W> {
    /// Writes `header` and returns a sink that appends events to `out`.
    pub fn new(mut out: W, header: &TraceHeader, detail: Detail) -> io::Result<JsonlWriter<W>> {
        serde_json::to_writer(&mut out, header)?;
        out.write_all(b"\n")?;
        Ok(JsonlWriter {
            out,
            detail,
            next_seq: 0,
            error: None,
        })
    }

    /// Flushes and returns the writer, or the first I/O error met while tracing.
    pub fn finish(mut self) -> io::Result<W> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        self.out.flush()?;
        Ok(self.out)
    }
}

impl<W: Write> TraceSink for JsonlWriter<W> {
    fn detail(&self) -> Detail {
        self.detail
    }

    fn record(&mut self, at: SimTime, component: &Arc<str>, cause: Option<u64>, event: TraceEvent) {
        if self.error.is_some() {
            return;
        }
        let record = TraceRecord {
            t_ms: at.0,
            seq: self.next_seq,
            component: component.clone(),
            cause,
            event,
        };
        self.next_seq += 1;
        let written = serde_json::to_writer(&mut self.out, &record)
            .map_err(io::Error::from)
            .and_then(|()| self.out.write_all(b"\n"));
        if let Err(e) = written {
            self.error = Some(e);
        }
    }
}

/// Serialises a whole in-memory trace.
pub fn to_string(header: &TraceHeader, records: &[TraceRecord]) -> String {
    let mut out = serde_json::to_string(header).expect("header serialises");
    out.push('\n');
    for r in records {
        out.push_str(&serde_json::to_string(r).expect("trace records serialise"));
        out.push('\n');
    }
    out
}

/// Why a trace stops before its run's end: the last line of a cut-off trace.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Incomplete {
    /// What stopped the run, in words (the event limit reached, an error).
    pub reason: String,
    /// Virtual time at which it stopped.
    pub at_ms: u64,
}

/// The marker line's shape: `{"incomplete": {...}}`.
#[derive(serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct IncompleteLine {
    incomplete: Incomplete,
}

/// Serialises the trace of a run that stopped early: [`to_string`] plus the marker line.
pub fn to_string_incomplete(
    header: &TraceHeader,
    records: &[TraceRecord],
    incomplete: &Incomplete,
) -> String {
    let mut out = to_string(header, records);
    let line = IncompleteLine {
        incomplete: incomplete.clone(),
    };
    out.push_str(&serde_json::to_string(&line).expect("the marker serialises"));
    out.push('\n');
    out
}

/// What a reader of a cut-off trace tells its user before showing it.
pub fn incomplete_warning(file: &str, marker: &Incomplete) -> String {
    format!(
        "warning: {file} is incomplete: its run stopped at {} ms ({}); what follows covers \
         only what it traced until then",
        marker.at_ms, marker.reason
    )
}

/// A whole trace as read back.
#[derive(Debug, Clone, PartialEq)]
pub struct Trace {
    /// The first line.
    pub header: TraceHeader,
    /// Every record, in file order.
    pub records: Vec<TraceRecord>,
    /// Set when the run stopped early (the file's last line says why).
    pub incomplete: Option<Incomplete>,
}

/// A trace that could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The underlying reader failed.
    #[error("reading the trace: {0}")]
    Io(#[from] io::Error),
    /// The file is empty.
    #[error("the trace is empty: expected a header line first")]
    Empty,
    /// A line is not what the format says.
    #[error("line {line}: {message}")]
    Line {
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// The trace was written in another version of the format: its events may mean something
    /// else, so it is not read at all. [`TraceFileError`] says how to rewrite it.
    #[error(
        "written in trace format version {found}, but this kafka-sim reads version {expected} \
         only"
    )]
    Version {
        /// The header's `format_version`.
        found: u32,
        /// [`FORMAT_VERSION`].
        expected: u32,
        /// The header, for the command that rewrites the trace.
        header: Box<TraceHeader>,
    },
}

/// A trace file that could not be opened or read: the file, and why.
#[derive(Debug, thiserror::Error)]
#[error("{}", describe_file_error(path, error))]
pub struct TraceFileError {
    /// The file.
    pub path: PathBuf,
    /// What went wrong (part of the message, so not also a `source`).
    pub error: ReadError,
}

/// The message of a [`TraceFileError`]: the file first; for a trace of another format version,
/// the command that writes it again in this one.
fn describe_file_error(path: &Path, error: &ReadError) -> String {
    let file = path.display();
    let header = match error {
        ReadError::Io(e) => return format!("cannot open the trace {file}: {e}"),
        ReadError::Version { header, .. } => header,
        other => return format!("{file} is not a readable kafka-sim trace: {other}"),
    };
    if header.sim_version.starts_with("kafka-sim-real") {
        return format!(
            "{file}: {error}; record it again with this version's kafka-sim-real (scenario {:?})",
            header.scenario
        );
    }
    let variant = header
        .variant
        .as_ref()
        .map_or_else(String::new, |v| format!(" --variant {v}"));
    format!(
        "{file}: {error}; rewrite it with: kafka-sim run scenarios/{}.toml{variant} --seed {} \
         --trace {file}",
        header.scenario, header.seed
    )
}

/// Opens and reads the trace at `path` ([`read_trace`]); errors name the file.
pub fn read_trace_file(path: &Path) -> Result<Trace, TraceFileError> {
    let failed = |error| TraceFileError {
        path: path.to_path_buf(),
        error,
    };
    let file = File::open(path).map_err(|e| failed(ReadError::Io(e)))?;
    read_trace(BufReader::new(file)).map_err(failed)
}

/// Reads a whole trace: the header, then every record. A cut-off trace reads too (its records
/// so far); [`read_trace`] also says whether it was.
pub fn read(input: impl BufRead) -> Result<(TraceHeader, Vec<TraceRecord>), ReadError> {
    let trace = read_trace(input)?;
    Ok((trace.header, trace.records))
}

/// Reads a whole trace: the header, every record, and the [`Incomplete`] marker if any.
pub fn read_trace(input: impl BufRead) -> Result<Trace, ReadError> {
    let mut lines = input.lines();
    let first = lines.next().ok_or(ReadError::Empty)??;
    let header: TraceHeader = serde_json::from_str(&first).map_err(|e| ReadError::Line {
        line: 1,
        message: format!("not a trace header: {e}"),
    })?;
    if header.format != FORMAT {
        return Err(ReadError::Line {
            line: 1,
            message: format!("format is {:?}, expected {FORMAT:?}", header.format),
        });
    }
    if header.format_version != FORMAT_VERSION {
        return Err(ReadError::Version {
            found: header.format_version,
            expected: FORMAT_VERSION,
            header: Box::new(header),
        });
    }
    let mut records = Vec::new();
    let mut incomplete: Option<(usize, Incomplete)> = None;
    for (i, line) in lines.enumerate() {
        let (number, line) = (i + 2, line?);
        if line.trim().is_empty() {
            continue;
        }
        if let Some((marker, _)) = &incomplete {
            return Err(ReadError::Line {
                line: number,
                message: format!("nothing may follow the incomplete marker of line {marker}"),
            });
        }
        match serde_json::from_str::<TraceRecord>(&line) {
            Ok(record) => records.push(record),
            Err(e) => match serde_json::from_str::<IncompleteLine>(&line) {
                Ok(marker) => incomplete = Some((number, marker.incomplete)),
                Err(_) => {
                    return Err(ReadError::Line {
                        line: number,
                        message: record_error(&line, &e),
                    });
                }
            },
        }
    }
    Ok(Trace {
        header,
        records,
        incomplete: incomplete.map(|(_, marker)| marker),
    })
}

/// What is wrong with a record line: where its JSON breaks, or else its event and the field at
/// fault. serde reads a
/// record's event through a buffer (the event is flattened into the record), so its position
/// is that of the line's end, and of a wrong type it names the value, not the field holding it:
/// the field is the one whose value is the one named.
fn record_error(line: &str, error: &serde_json::Error) -> String {
    let value = match serde_json::from_str::<serde_json::Value>(line) {
        Ok(value) => value,
        Err(e) => {
            // serde stops at the first problem it meets; a line that is not JSON at all is
            // reported as such, where it breaks.
            let message = e.to_string();
            let message = message
                .rsplit_once(" at line ")
                .map_or(message.as_str(), |(m, _)| m);
            return format!("column {}: not valid JSON: {message}", e.column());
        }
    };
    let message = error.to_string();
    let message = message
        .rsplit_once(" at line ")
        .map_or(message.as_str(), |(m, _)| m);
    let event = value.get("event").and_then(|e| e.as_str());
    let mut out = String::new();
    if let Some(event) = event {
        out.push_str(&format!("event {event}, "));
    }
    let named = message.starts_with("missing field") || message.starts_with("unknown field");
    let culprit = message
        .strip_prefix("invalid type: ")
        .or_else(|| message.strip_prefix("invalid value: "))
        .and_then(|m| m.split_once(", expected"))
        .map(|(unexpected, _)| unexpected.to_owned())
        .or_else(|| {
            let variant = message
                .strip_prefix("unknown variant `")?
                .split_once('`')?
                .0;
            Some(format!("string {variant:?}"))
        });
    if let (false, Some(culprit)) = (named, culprit) {
        let mut fields = Vec::new();
        fields_holding(&value, "", &culprit, &mut fields);
        if !fields.is_empty() {
            let fields: Vec<String> = fields.iter().map(|f| format!("`{f}`")).collect();
            out.push_str(&format!("field {}, ", fields.join(" or ")));
        }
    }
    out.push_str(message);
    out
}

/// Every field of `value` (a path like `key.bytes`) whose value serde would describe as
/// `culprit` (`string "six"`, ``integer `5` ``, `map`...).
fn fields_holding(value: &serde_json::Value, path: &str, culprit: &str, out: &mut Vec<String>) {
    use serde_json::Value;
    let Value::Object(map) = value else { return };
    for (key, v) in map {
        let field = if path.is_empty() {
            key.clone()
        } else {
            format!("{path}.{key}")
        };
        let described = match v {
            Value::Null => "null".to_owned(),
            Value::Bool(b) => format!("boolean `{b}`"),
            Value::Number(n) if n.is_f64() => format!("floating point `{n}`"),
            Value::Number(n) => format!("integer `{n}`"),
            Value::String(s) => format!("string {s:?}"),
            Value::Array(_) => "sequence".to_owned(),
            Value::Object(_) => "map".to_owned(),
        };
        if described == culprit {
            out.push(field.clone());
        }
        fields_holding(v, &field, culprit, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::TraceBytes;

    #[test]
    fn field_order_and_round_trip() {
        let header = TraceHeader::new("demo", None, 42);
        let mut w = JsonlWriter::new(Vec::new(), &header, Detail::Records).unwrap();
        let event = TraceEvent::RecordAppended {
            topic: Arc::from("orders"),
            partition: 2,
            offset: 7,
            key: Some(TraceBytes::Utf8("user123".into())),
            value: None,
            producer: None,
            producer_id: None,
            producer_epoch: None,
            sequence: None,
        };
        w.record(SimTime(1500), &Arc::from("broker/1"), None, event.clone());
        let bytes = w.finish().unwrap();
        let text = String::from_utf8(bytes).unwrap();
        let second = text.lines().nth(1).unwrap();
        let expected_start = concat!(
            r#"{"t_ms":1500,"seq":0,"component":"broker/1","#,
            r#""event":"RecordAppended","topic":"orders""#
        );
        assert!(second.starts_with(expected_start), "{second}");
        let (h, records) = read(text.as_bytes()).unwrap();
        assert_eq!(h, header);
        assert_eq!(records[0].event, event);
    }

    #[test]
    fn bad_lines_are_located() {
        let err = read("{\"nope\":1}\n".as_bytes()).unwrap_err();
        assert!(err.to_string().starts_with("line 1:"), "{err}");
        let header = serde_json::to_string(&TraceHeader::new("x", None, 1)).unwrap();
        let err = read(format!("{header}\n{{\"t_ms\":1}}\n").as_bytes()).unwrap_err();
        assert!(err.to_string().starts_with("line 2:"), "{err}");
    }

    #[test]
    fn a_wrong_type_names_the_event_and_the_field() {
        let header = serde_json::to_string(&TraceHeader::new("x", None, 1)).unwrap();
        let line = concat!(
            r#"{"t_ms":1,"seq":0,"component":"broker/1","event":"TopicCreated","#,
            r#""topic":"orders","partitions":"six","replication_factor":1}"#
        );
        let err = read(format!("{header}\n{line}\n").as_bytes()).unwrap_err();
        let text = err.to_string();
        assert!(
            text.starts_with("line 2: event TopicCreated, field `partitions`"),
            "{text}"
        );
    }

    #[test]
    fn another_format_version_is_refused_with_the_command_that_rewrites_it() {
        let mut header = TraceHeader::new("crash_vs_close", Some("kill"), 42);
        header.format_version = 1;
        let text = to_string(&header, &[]);
        let err = read(text.as_bytes()).unwrap_err();
        assert!(
            matches!(
                err,
                ReadError::Version {
                    found: 1,
                    expected: FORMAT_VERSION,
                    ..
                }
            ),
            "{err}"
        );
        let err = TraceFileError {
            path: PathBuf::from("old.jsonl"),
            error: err,
        };
        assert_eq!(
            err.to_string(),
            format!(
                "old.jsonl: written in trace format version 1, but this kafka-sim reads version \
                 {FORMAT_VERSION} only; rewrite it with: kafka-sim run \
                 scenarios/crash_vs_close.toml --variant kill --seed 42 --trace old.jsonl"
            )
        );
    }

    #[test]
    fn the_incomplete_marker_reads_back_and_must_come_last() {
        let header = TraceHeader::new("x", None, 1);
        let marker = Incomplete {
            reason: "event limit".into(),
            at_ms: 40,
        };
        let text = to_string_incomplete(&header, &[], &marker);
        assert!(text.ends_with("{\"incomplete\":{\"reason\":\"event limit\",\"at_ms\":40}}\n"));
        let trace = read_trace(text.as_bytes()).unwrap();
        assert_eq!(trace.incomplete, Some(marker));
        let complete = read_trace(to_string(&header, &[]).as_bytes()).unwrap();
        assert_eq!(complete.incomplete, None);
        let err = read(format!("{text}{text}").as_bytes()).unwrap_err();
        assert!(err.to_string().starts_with("line 3:"), "{err}");
    }
}
