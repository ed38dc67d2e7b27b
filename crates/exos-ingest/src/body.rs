//! Request bodies: content types, gzip with a size limit, and decoding per signal.
//!
//! The size limit applies to the decompressed body and is enforced while
//! inflating, so a gzip bomb stops at the limit instead of filling memory.

use std::io::Read;

use prost::Message;

use crate::limits::Limits;
use crate::outcome::Mapped;
use crate::{json, logs, metrics, traces};

/// The three OTLP signals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    Traces,
    Logs,
    Metrics,
}

impl Signal {
    /// Returns the signal's name as used in metrics labels and messages.
    pub fn as_str(self) -> &'static str {
        match self {
            Signal::Traces => "traces",
            Signal::Logs => "logs",
            Signal::Metrics => "metrics",
        }
    }
}

/// The two OTLP/HTTP body encodings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Protobuf,
    Json,
}

/// A body that could not be decoded; each variant maps to one HTTP status.
#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    #[error("unsupported content type {0:?}: send application/x-protobuf or application/json")]
    UnsupportedMediaType(String),
    #[error("unsupported content encoding {0:?}: send gzip or no encoding")]
    UnsupportedEncoding(String),
    #[error("body is larger than {limit} bytes after decompression; send smaller batches")]
    TooLarge { limit: usize },
    #[error("invalid gzip body: {0}")]
    Gzip(String),
    #[error("invalid protobuf {message}: {reason}")]
    Protobuf {
        message: &'static str,
        reason: String,
    },
    #[error(transparent)]
    Json(#[from] json::JsonError),
}

/// Picks the encoding from a Content-Type header value (parameters ignored).
pub fn encoding_of(content_type: Option<&str>) -> Result<Encoding, BodyError> {
    let media = content_type
        .unwrap_or_default()
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    match media.as_str() {
        "application/x-protobuf" | "application/protobuf" => Ok(Encoding::Protobuf),
        "application/json" => Ok(Encoding::Json),
        _ => Err(BodyError::UnsupportedMediaType(
            content_type.unwrap_or("").to_string(),
        )),
    }
}

/// Returns the body decompressed according to Content-Encoding, at most `limit` bytes.
pub fn decompress(
    body: &[u8],
    content_encoding: Option<&str>,
    limit: usize,
) -> Result<Vec<u8>, BodyError> {
    let encoding = content_encoding.unwrap_or("").trim().to_ascii_lowercase();
    match encoding.as_str() {
        "" | "identity" => {
            if body.len() > limit {
                return Err(BodyError::TooLarge { limit });
            }
            Ok(body.to_vec())
        }
        "gzip" | "x-gzip" => gunzip(body, limit),
        _ => Err(BodyError::UnsupportedEncoding(encoding)),
    }
}

fn gunzip(body: &[u8], limit: usize) -> Result<Vec<u8>, BodyError> {
    let decoder = flate2::read::MultiGzDecoder::new(body);
    let mut out = Vec::with_capacity(body.len().saturating_mul(4).min(limit));
    // Reading one byte past the limit distinguishes "exactly at the limit" from "over it".
    decoder
        .take(limit as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|error| BodyError::Gzip(error.to_string()))?;
    if out.len() > limit {
        return Err(BodyError::TooLarge { limit });
    }
    Ok(out)
}

/// Decodes a decompressed body of one signal and maps it to rows.
pub fn decode(
    signal: Signal,
    encoding: Encoding,
    body: &[u8],
    limits: &Limits,
    now_ns: i64,
) -> Result<Mapped, BodyError> {
    use opentelemetry_proto::tonic::collector::{logs::v1 as l, metrics::v1 as m, trace::v1 as t};
    let protobuf = |message: &'static str| {
        move |error: prost::DecodeError| BodyError::Protobuf {
            message,
            reason: error.to_string(),
        }
    };
    Ok(match (signal, encoding) {
        (Signal::Traces, Encoding::Protobuf) => traces::map(
            t::ExportTraceServiceRequest::decode(body)
                .map_err(protobuf("ExportTraceServiceRequest"))?,
            limits,
        ),
        (Signal::Traces, Encoding::Json) => traces::map(json::traces(body)?, limits),
        (Signal::Logs, Encoding::Protobuf) => logs::map(
            l::ExportLogsServiceRequest::decode(body)
                .map_err(protobuf("ExportLogsServiceRequest"))?,
            limits,
            now_ns,
        ),
        (Signal::Logs, Encoding::Json) => logs::map(json::logs(body)?, limits, now_ns),
        (Signal::Metrics, Encoding::Protobuf) => metrics::map(
            m::ExportMetricsServiceRequest::decode(body)
                .map_err(protobuf("ExportMetricsServiceRequest"))?,
            limits,
        ),
        (Signal::Metrics, Encoding::Json) => metrics::map(json::metrics(body)?, limits),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        encoder.write_all(data).unwrap();
        encoder.finish().unwrap()
    }

    #[test]
    fn gzip_bomb_stops_at_limit() {
        let bomb = gzip(&vec![0u8; 50 * 1024 * 1024]);
        assert!(bomb.len() < 100 * 1024);
        let error = decompress(&bomb, Some("gzip"), 1024 * 1024).unwrap_err();
        assert!(matches!(error, BodyError::TooLarge { .. }));
    }

    #[test]
    fn gzip_at_exact_limit_passes() {
        let body = gzip(&[7u8; 1000]);
        assert_eq!(decompress(&body, Some("gzip"), 1000).unwrap().len(), 1000);
    }

    #[test]
    fn invalid_gzip_is_reported() {
        assert!(matches!(
            decompress(b"not gzip", Some("gzip"), 100),
            Err(BodyError::Gzip(_))
        ));
    }

    #[test]
    fn content_types_are_recognised() {
        assert_eq!(
            encoding_of(Some("application/json; charset=utf-8")).unwrap(),
            Encoding::Json
        );
        assert_eq!(
            encoding_of(Some("application/x-protobuf")).unwrap(),
            Encoding::Protobuf
        );
        assert!(encoding_of(Some("text/plain")).is_err());
        assert!(encoding_of(None).is_err());
    }
}
