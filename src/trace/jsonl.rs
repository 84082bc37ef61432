//! The JSONL form of a trace: a header line, then one [`TraceRecord`] per line with `t_ms`, `seq`,
//! `component` and `event` first, then the event's own fields in declaration order.
//!
//! No wall-clock time and no floats are ever written, so the same (scenario, seed, version)
//! gives the same bytes.

use std::io::{self, BufRead, Write};
use std::sync::Arc;

use crate::trace::{Detail, FORMAT, TraceEvent, TraceHeader, TraceRecord, TraceSink};
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

    fn record(&mut self, at: SimTime, component: &Arc<str>, event: TraceEvent) {
        if self.error.is_some() {
            return;
        }
        let record = TraceRecord {
            t_ms: at.0,
            seq: self.next_seq,
            component: component.clone(),
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
}

/// Reads a whole trace: the header, then every record.
pub fn read(input: impl BufRead) -> Result<(TraceHeader, Vec<TraceRecord>), ReadError> {
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
    let mut records = Vec::new();
    for (i, line) in lines.enumerate() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let record: TraceRecord = serde_json::from_str(&line).map_err(|e| ReadError::Line {
            line: i + 2,
            message: e.to_string(),
        })?;
        records.push(record);
    }
    Ok((header, records))
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
        w.record(SimTime(1500), &Arc::from("broker/1"), event.clone());
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
}
