//! Container output: the bounded tail the log viewer shows, and the whole
//! log as a stream for downloads. Nothing here holds more than a tail's
//! byte cap in memory, however much a container printed.

use std::collections::VecDeque;

use bollard::query_parameters::LogsOptionsBuilder;
use bytes::Bytes;
use futures_util::{Stream, StreamExt};

use super::containers::is_404;
use super::{Runtime, RuntimeError};

/// Most bytes of a container's output kept when it is removed.
pub const KEPT_LOG_BYTES: usize = 256 * 1024;

/// The end of a log: at most `max_lines` lines and `max_bytes` bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogTail {
    /// The text (lossy UTF-8; a cut never splits a character).
    pub text: String,
    /// Older output was left out.
    pub truncated: bool,
}

/// Keeps the last `max_bytes` of what is pushed into it.
#[derive(Debug)]
struct TailBuffer {
    buf: VecDeque<u8>,
    max_bytes: usize,
    /// Bytes pushed in all.
    total: usize,
}

impl TailBuffer {
    fn new(max_bytes: usize) -> Self {
        Self {
            buf: VecDeque::new(),
            max_bytes,
            total: 0,
        }
    }

    fn push(&mut self, chunk: &[u8]) {
        // Only the chunk's last max_bytes can survive.
        self.total = self.total.saturating_add(chunk.len());
        let chunk = &chunk[chunk.len().saturating_sub(self.max_bytes)..];
        let over = (self.buf.len() + chunk.len()).saturating_sub(self.max_bytes);
        self.buf.drain(..over.min(self.buf.len()));
        self.buf.extend(chunk);
    }

    fn dropped(&self) -> bool {
        self.total > self.max_bytes
    }

    /// The kept bytes as text, at most `max_lines` lines of it.
    fn finish(self, max_lines: usize) -> LogTail {
        let dropped = self.dropped();
        let bytes: Vec<u8> = self.buf.into();
        let mut text = String::from_utf8_lossy(&bytes).into_owned();
        if dropped {
            // The cut may have split a character or a line: start at the
            // next full line when there is one.
            if let Some(nl) = text.find('\n') {
                if nl + 1 < text.len() {
                    text.drain(..=nl);
                }
            }
        }
        let mut truncated = dropped;
        let lines = text.lines().count();
        if lines > max_lines {
            let mut cut = 0;
            for _ in 0..lines - max_lines {
                cut += text[cut..].find('\n').map_or(text.len() - cut, |i| i + 1);
            }
            text.drain(..cut);
            truncated = true;
        }
        LogTail { text, truncated }
    }
}

/// The last `max_lines` lines of `text`, at most `max_bytes` bytes.
pub fn tail_of(text: &str, max_lines: u32, max_bytes: usize) -> LogTail {
    let mut buf = TailBuffer::new(max_bytes);
    buf.push(text.as_bytes());
    buf.finish(max_lines as usize)
}

impl Runtime {
    /// The last `max_lines` lines of a container's stdout and stderr, at
    /// most `max_bytes` of them, read as a stream.
    pub async fn log_tail(
        &self,
        id: &str,
        max_lines: u32,
        max_bytes: usize,
    ) -> Result<LogTail, RuntimeError> {
        // One line more than asked tells whether older lines exist.
        let mut stream = self
            .log_stream(id, Some(max_lines.saturating_add(1)))
            .await?;
        let mut buf = TailBuffer::new(max_bytes);
        while let Some(chunk) = stream.next().await {
            buf.push(&chunk?);
        }
        Ok(buf.finish(max_lines as usize))
    }

    /// A container's whole output (or its last `tail` lines) as it comes
    /// from the engine, for downloads. Fails with `ContainerNotFound` before
    /// the first byte when the container is gone.
    pub async fn log_stream(
        &self,
        id: &str,
        tail: Option<u32>,
    ) -> Result<impl Stream<Item = Result<Bytes, RuntimeError>> + Send + 'static, RuntimeError>
    {
        let docker = self.client().await?.clone();
        // Ask once so that a missing container is an error, not an empty log.
        self.state(id)
            .await?
            .ok_or_else(|| RuntimeError::ContainerNotFound(id.into()))?;
        let tail = tail.map_or_else(|| "all".to_string(), |t| t.to_string());
        let opts = LogsOptionsBuilder::default()
            .stdout(true)
            .stderr(true)
            .tail(&tail)
            .build();
        let id = id.to_string();
        Ok(docker.logs(&id, Some(opts)).map(move |item| match item {
            Ok(chunk) => Ok(chunk.into_bytes()),
            Err(e) if is_404(&e) => Err(RuntimeError::ContainerNotFound(id.clone())),
            Err(e) => Err(e.into()),
        }))
    }

    /// The last [`KEPT_LOG_BYTES`] of output, to keep after removal.
    pub async fn logs_to_keep(&self, id: &str) -> Option<String> {
        self.log_tail(id, 10_000, KEPT_LOG_BYTES)
            .await
            .ok()
            .map(|t| t.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_short_log_is_whole() {
        assert_eq!(
            tail_of("a\nb\n", 10, 100),
            LogTail {
                text: "a\nb\n".into(),
                truncated: false
            }
        );
    }

    #[test]
    fn lines_and_bytes_are_capped_from_the_start() {
        let t = tail_of("a\nb\nc\n", 2, 100);
        assert_eq!(t.text, "b\nc\n");
        assert!(t.truncated);
        let t = tail_of("aaaa\nbbbb\ncccc\n", 100, 8);
        assert_eq!(t.text, "cccc\n", "a cut line is dropped");
        assert!(t.truncated);
    }

    #[test]
    fn one_huge_line_is_cut_to_the_cap() {
        let text = "x".repeat(10_000);
        let t = tail_of(&text, 10, 100);
        assert_eq!(t.text.len(), 100);
        assert!(t.truncated);
    }

    proptest! {
        #[test]
        fn a_tail_never_exceeds_its_bounds(
            chunks in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..300), 0..20),
            lines in 1u32..20,
            bytes in 1usize..500,
        ) {
            let mut buf = TailBuffer::new(bytes);
            let mut all = Vec::new();
            for c in &chunks {
                buf.push(c);
                all.extend_from_slice(c);
            }
            prop_assert!(buf.buf.len() <= bytes);
            let kept: Vec<u8> = buf.buf.iter().copied().collect();
            prop_assert!(all.ends_with(&kept), "keeps the end");
            prop_assert_eq!(buf.dropped(), all.len() > bytes);
            let t = buf.finish(lines as usize);
            prop_assert!(t.text.lines().count() <= lines as usize);
        }
    }
}
