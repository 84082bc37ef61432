//! `[[expect]]` and `[report]`.

use toml::Spanned;

use super::{Builder, Resolved};
use crate::scenario::raw::RawExpect;
use crate::scenario::{ExpectValue, Expectation, Op, ReportSpec};
use crate::units::{Millis, SimTime};

impl Builder<'_> {
    pub(super) fn expectations(&self) -> Resolved<Vec<Expectation>> {
        let chosen = self.variant.map(|v| v.name.get_ref().as_str());
        let mut out = Vec::new();
        for e in &self.raw.expect {
            if let Some(vs) = &e.variants {
                for v in vs.get_ref() {
                    if !self.raw.variant.iter().any(|x| x.name.get_ref() == v) {
                        return Err(self.err(
                            vs.span(),
                            "expect.variants",
                            format!("no variant {v:?}"),
                        ));
                    }
                }
                if !vs.get_ref().iter().any(|v| Some(v.as_str()) == chosen) {
                    continue;
                }
            }
            let op = self.op(&e.op)?;
            let value = self.expect_value(&e.value, op)?;
            let tolerance = self.tolerance(e, op)?;
            let metric = e.metric.get_ref().clone();
            let name = e
                .name
                .clone()
                .unwrap_or_else(|| format!("{metric} {}", op.symbol()));
            let (line, _) = self.map.line_column(e.metric.span().start);
            out.push(Expectation {
                name,
                metric,
                op,
                value,
                tolerance,
                line,
            });
        }
        Ok(out)
    }

    /// `op`: how the metric is compared with the value.
    fn op(&self, op: &Spanned<String>) -> Resolved<Op> {
        Ok(match op.get_ref().as_str() {
            "==" => Op::Eq,
            "!=" => Op::Ne,
            "<" => Op::Lt,
            "<=" => Op::Le,
            ">" => Op::Gt,
            ">=" => Op::Ge,
            "about" => Op::About,
            "between" => Op::Between,
            other => {
                return Err(self.err(
                    op.span(),
                    "expect.op",
                    format!("unknown operator {other:?}; use ==, !=, <, <=, >, >=, about, between"),
                ));
            }
        })
    }

    /// `tolerance`: required by `about`, refused by every other operator.
    fn tolerance(&self, e: &RawExpect, op: Op) -> Resolved<f64> {
        Ok(match (&e.tolerance, op) {
            (Some(t), Op::About) => number(t.get_ref())
                .ok_or_else(|| self.err(t.span(), "expect.tolerance", "must be a number"))?,
            (None, Op::About) => {
                return Err(self.err(e.op.span(), "expect.tolerance", "about needs a tolerance"));
            }
            (Some(t), _) => {
                return Err(self.err(t.span(), "expect.tolerance", "only about takes a tolerance"));
            }
            (None, _) => 0.0,
        })
    }

    pub(super) fn expect_value(&self, v: &Spanned<toml::Value>, op: Op) -> Resolved<ExpectValue> {
        let bad = |why: &str| self.err(v.span(), "expect.value", why.to_string());
        match (op, v.get_ref()) {
            (Op::Between, toml::Value::Array(a)) if a.len() == 2 => {
                match (number(&a[0]), number(&a[1])) {
                    (Some(lo), Some(hi)) if lo <= hi => Ok(ExpectValue::Range(lo, hi)),
                    _ => Err(bad("between takes [low, high] with low <= high")),
                }
            }
            (Op::Between, _) => Err(bad("between takes [low, high]")),
            (_, toml::Value::String(s)) if s == "none" => Ok(ExpectValue::None),
            (Op::Eq | Op::Ne, toml::Value::String(s)) => Ok(ExpectValue::Text(s.clone())),
            (Op::Eq | Op::Ne, toml::Value::Boolean(b)) => Ok(ExpectValue::Bool(*b)),
            (_, other) => number(other)
                .map(ExpectValue::Number)
                .ok_or_else(|| bad("expected a number (or a string/boolean with == and !=)")),
        }
    }

    pub(super) fn report(&self) -> Resolved<ReportSpec> {
        let Some(r) = &self.raw.report else {
            return Ok(ReportSpec {
                lag_at: Vec::new(),
                lag_sample: Millis(1000),
                delivery_reports: false,
            });
        };
        let lag_sample = match &r.lag_sample_ms {
            Some(s) if *s.get_ref() == 0 => {
                return Err(self.err(s.span(), "report.lag_sample_ms", "must be > 0"));
            }
            Some(s) => Millis(*s.get_ref()),
            None => Millis(1000),
        };
        Ok(ReportSpec {
            lag_at: r.lag_at_ms.iter().map(|&t| SimTime(t)).collect(),
            lag_sample,
            delivery_reports: r.delivery_reports.unwrap_or(false),
        })
    }
}

fn number(v: &toml::Value) -> Option<f64> {
    match v {
        toml::Value::Integer(i) => Some(*i as f64),
        toml::Value::Float(f) => Some(*f),
        _ => None,
    }
}
