//! The listener `serve` accepts connections with. hyper answers some malformed requests
//! itself, before any handler runs, with an empty body: 400 (a request line or header that
//! does not parse), 414 (a request target over 64 KB, e.g. a huge query string) and 431
//! (headers too large). Every answer of this app is problem+json, so the connection's
//! writes are watched for exactly those automatic answers and each is replaced by a
//! problem+json one with the same status. hyper closes the connection after them.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

use crate::http::problem::{Problem, ProblemType};

/// A TCP listener whose connections answer hyper's automatic errors as problem+json.
pub struct ProblemListener(pub TcpListener);

impl axum::serve::Listener for ProblemListener {
    type Io = ProblemIo<TcpStream>;
    type Addr = std::net::SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        let (io, addr) = axum::serve::Listener::accept(&mut self.0).await;
        (ProblemIo { inner: io, pending: Vec::new(), written: 0 }, addr)
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.0.local_addr()
    }
}

/// A connection that rewrites hyper's empty automatic error answers (see the module).
pub struct ProblemIo<T> {
    inner: T,
    /// A replacement answer still to be written, and how much of it is written.
    pending: Vec<u8>,
    written: usize,
}

/// The problem+json answer that replaces hyper's empty one, when `buf` is one.
fn replacement(buf: &[u8]) -> Option<Vec<u8>> {
    // hyper's automatic answers: a status line, `content-length: 0`, a date, nothing else.
    let head = std::str::from_utf8(buf).ok()?;
    let rest = head.strip_prefix("HTTP/1.1 ")?;
    if !head.ends_with("\r\n\r\n") || !head.to_ascii_lowercase().contains("\r\ncontent-length: 0\r\n") {
        return None;
    }
    let (kind, detail) = match rest.get(..3)? {
        "400" => (ProblemType::BadRequest, "The request line or a header does not parse as HTTP/1.1."),
        "414" => (
            ProblemType::UriTooLong,
            "The request target is over 64 KB. Send long parameters in a JSON body (POST) instead of the query string.",
        ),
        "431" => (ProblemType::HeadersTooLarge, "The request headers are too large."),
        _ => return None,
    };
    let status = kind.status();
    let body = Problem::new(kind, detail).body().to_string();
    let reason = status.canonical_reason().unwrap_or("");
    Some(
        format!(
            "HTTP/1.1 {} {reason}\r\ncontent-type: application/problem+json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            status.as_u16(),
            body.len()
        )
        .into_bytes(),
    )
}

impl<T: AsyncWrite + Unpin> ProblemIo<T> {
    /// Writes what is left of a replacement answer.
    fn drain(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.written < self.pending.len() {
            let n = ready!(Pin::new(&mut self.inner).poll_write(cx, &self.pending[self.written..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.written += n;
        }
        Poll::Ready(Ok(()))
    }

    /// Takes `buf` as written when it is an automatic error answer, queueing its replacement.
    fn intercept(&mut self, buf: &[u8]) -> bool {
        match buf.starts_with(b"HTTP/1.1 4").then(|| replacement(buf)).flatten() {
            Some(answer) => {
                self.pending = answer;
                self.written = 0;
                true
            }
            None => false,
        }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for ProblemIo<T> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for ProblemIo<T> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        ready!(self.drain(cx))?;
        if self.intercept(buf) {
            ready!(self.drain(cx))?;
            return Poll::Ready(Ok(buf.len()));
        }
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        ready!(self.drain(cx))?;
        if bufs.len() == 1 && self.intercept(&bufs[0]) {
            ready!(self.drain(cx))?;
            return Poll::Ready(Ok(bufs[0].len()));
        }
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.drain(cx))?;
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.drain(cx))?;
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::replacement;

    #[test]
    fn hypers_empty_414_becomes_a_problem() {
        let head = b"HTTP/1.1 414 URI Too Long\r\ncontent-length: 0\r\ndate: Tue, 01 Dec 2026 23:00:00 GMT\r\n\r\n";
        let answer = String::from_utf8(replacement(head).expect("replaced")).unwrap();
        assert!(answer.starts_with("HTTP/1.1 414 URI Too Long\r\n"), "{answer}");
        assert!(answer.contains("content-type: application/problem+json\r\n"), "{answer}");
        let body: serde_json::Value = serde_json::from_str(answer.split("\r\n\r\n").nth(1).unwrap()).unwrap();
        assert_eq!(body["status"], 414);
        assert_eq!(body["type"], "urn:anaplan-functions:problem:uri-too-long");
    }

    #[test]
    fn answers_with_a_body_or_other_statuses_pass() {
        assert!(replacement(b"HTTP/1.1 414 URI Too Long\r\ncontent-length: 12\r\n\r\n").is_none());
        assert!(replacement(b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n").is_none());
        assert!(replacement(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n").is_none());
    }
}
