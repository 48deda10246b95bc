//! Request framing checks that hyper does not make: hyper quietly drops `Content-Length` when
//! `Transfer-Encoding` is present and merges duplicate lengths, which is exactly the ambiguity
//! request smuggling lives on. [`FramingGuard`] wraps the client connection, reads each request
//! head before hyper does, and marks a head whose framing is ambiguous with the internal
//! [`VIOLATION_HEADER`]; the service answers such a request with 400 and closes the connection.
//! It also holds the body limits and read timeouts ([`Limits`]).

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::{Buf, BytesMut};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// Internal marker header the guard adds to a request head whose framing it refused. A client
/// that sends it itself only gets its request refused.
pub const VIOLATION_HEADER: &str = "x-blastdoor-framing-violation";

/// The longest request head (request line and headers) accepted.
pub const MAX_HEAD_BYTES: usize = 64 * 1024;

/// Size and time limits on what a client sends. No `Default`: the caller chooses (the server
/// crate has the configured values).
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Time allowed for a request head to arrive once a request has begun.
    pub header_read_timeout: Duration,
    /// Time allowed for the whole body to arrive.
    pub body_read_timeout: Duration,
}

/// Why a request head's framing was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Violation {
    /// Both `Content-Length` and `Transfer-Encoding`.
    LengthAndTransferEncoding,
    /// More than one `Content-Length` header or value.
    DuplicateContentLength,
    /// A `Content-Length` that is not a plain decimal number.
    InvalidContentLength,
    /// A `Transfer-Encoding` other than one plain `chunked`.
    UnsupportedTransferEncoding,
}

impl Violation {
    /// The stable code carried in the marker header and in error responses.
    pub fn code(self) -> &'static str {
        match self {
            Violation::LengthAndTransferEncoding => "content-length-and-transfer-encoding",
            Violation::DuplicateContentLength => "duplicate-content-length",
            Violation::InvalidContentLength => "invalid-content-length",
            Violation::UnsupportedTransferEncoding => "unsupported-transfer-encoding",
        }
    }

    /// Parses a code from the marker header; anything unrecognised (a client-forged marker)
    /// still counts as a violation.
    pub fn from_code(code: &[u8]) -> Violation {
        [
            Violation::LengthAndTransferEncoding,
            Violation::DuplicateContentLength,
            Violation::InvalidContentLength,
            Violation::UnsupportedTransferEncoding,
        ]
        .into_iter()
        .find(|violation| violation.code().as_bytes() == code)
        .unwrap_or(Violation::LengthAndTransferEncoding)
    }
}

/// What the framing of one parsed head says about the body that follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BodyFraming {
    Length(u64),
    Chunked,
}

/// Checks the raw headers of one request head. Returns how its body is framed.
fn check_headers(headers: &[httparse::Header<'_>]) -> Result<BodyFraming, Violation> {
    let mut length: Option<u64> = None;
    let mut transfer_encoding = false;
    for header in headers {
        if header.name.eq_ignore_ascii_case("content-length") {
            if length.is_some() {
                return Err(Violation::DuplicateContentLength);
            }
            let text =
                std::str::from_utf8(header.value).map_err(|_| Violation::InvalidContentLength)?;
            if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
                // `5, 5` (a list in one header) lands here too.
                return Err(if text.contains(',') {
                    Violation::DuplicateContentLength
                } else {
                    Violation::InvalidContentLength
                });
            }
            length = Some(text.parse().map_err(|_| Violation::InvalidContentLength)?);
        } else if header.name.eq_ignore_ascii_case("transfer-encoding") {
            if transfer_encoding || !header.value.eq_ignore_ascii_case(b"chunked") {
                return Err(Violation::UnsupportedTransferEncoding);
            }
            transfer_encoding = true;
        }
    }
    match (length, transfer_encoding) {
        (Some(_), true) => Err(Violation::LengthAndTransferEncoding),
        (Some(length), false) => Ok(BodyFraming::Length(length)),
        (None, true) => Ok(BodyFraming::Chunked),
        (None, false) => Ok(BodyFraming::Length(0)),
    }
}

#[derive(Debug)]
enum State {
    /// Collecting a request head.
    Head,
    /// Passing `remaining` body bytes through untouched.
    Body { remaining: u64 },
    /// A chunked body: its end is not tracked, so the service closes the connection after
    /// this request (see [`crate::server`]) and everything else passes through.
    PassThrough,
}

/// Wraps a client connection and inspects every request head before hyper parses it.
#[derive(Debug)]
pub struct FramingGuard<S> {
    inner: S,
    state: State,
    /// Bytes read from the client and not yet judged (a partial head).
    pending: BytesMut,
    /// Judged bytes waiting to be handed to hyper.
    ready: BytesMut,
    eof: bool,
}

impl<S> FramingGuard<S> {
    pub fn new(inner: S) -> FramingGuard<S> {
        FramingGuard {
            inner,
            state: State::Head,
            pending: BytesMut::new(),
            ready: BytesMut::new(),
            eof: false,
        }
    }

    /// Moves judged bytes from `pending` to `ready`. Errors when a head is too large.
    fn process(&mut self) -> io::Result<()> {
        loop {
            if self.pending.is_empty() {
                return Ok(());
            }
            match self.state {
                State::PassThrough => {
                    let all = self.pending.split();
                    self.ready.extend_from_slice(&all);
                    return Ok(());
                }
                State::Body { remaining } => {
                    let take = usize::try_from(remaining)
                        .unwrap_or(usize::MAX)
                        .min(self.pending.len());
                    let part = self.pending.split_to(take);
                    self.ready.extend_from_slice(&part);
                    let left = remaining.saturating_sub(take as u64);
                    self.state = if left == 0 {
                        State::Head
                    } else {
                        State::Body { remaining: left }
                    };
                }
                State::Head => {
                    // Blank lines between requests are allowed before a request line.
                    while self.pending.starts_with(b"\r\n") {
                        let crlf = self.pending.split_to(2);
                        self.ready.extend_from_slice(&crlf);
                    }
                    let Some(end) = find_head_end(&self.pending) else {
                        if self.pending.len() > MAX_HEAD_BYTES {
                            return Err(io::Error::new(
                                io::ErrorKind::InvalidData,
                                "request head too large",
                            ));
                        }
                        return Ok(());
                    };
                    let head = self.pending.split_to(end);
                    let mut header_buffer = [httparse::EMPTY_HEADER; 128];
                    let mut request = httparse::Request::new(&mut header_buffer);
                    match request.parse(&head) {
                        Ok(httparse::Status::Complete(_)) => match check_headers(request.headers) {
                            Ok(BodyFraming::Length(length)) => {
                                self.ready.extend_from_slice(&head);
                                self.state = if length == 0 {
                                    State::Head
                                } else {
                                    State::Body { remaining: length }
                                };
                            }
                            Ok(BodyFraming::Chunked) => {
                                self.ready.extend_from_slice(&head);
                                self.state = State::PassThrough;
                            }
                            Err(violation) => {
                                // Re-emit the head with the marker before its final CRLF, then
                                // pass the rest through: the service refuses and closes.
                                let without_end =
                                    head.get(..head.len().saturating_sub(2)).unwrap_or(&head);
                                self.ready.extend_from_slice(without_end);
                                self.ready.extend_from_slice(VIOLATION_HEADER.as_bytes());
                                self.ready.extend_from_slice(b": ");
                                self.ready.extend_from_slice(violation.code().as_bytes());
                                self.ready.extend_from_slice(b"\r\n\r\n");
                                self.state = State::PassThrough;
                            }
                        },
                        // Hyper parses with the same parser and answers 400 itself.
                        Ok(httparse::Status::Partial) | Err(_) => {
                            self.ready.extend_from_slice(&head);
                            self.state = State::PassThrough;
                        }
                    }
                }
            }
        }
    }
}

/// The index just past the `\r\n\r\n` ending a head, if it has arrived.
fn find_head_end(bytes: &[u8]) -> Option<usize> {
    bytes
        .windows(4)
        .position(|window| window == b"\r\n\r\n")
        .map(|at| at + 4)
}

impl<S: AsyncRead + Unpin> AsyncRead for FramingGuard<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        loop {
            if !this.ready.is_empty() {
                let n = this.ready.len().min(buf.remaining());
                buf.put_slice(this.ready.get(..n).unwrap_or_default());
                this.ready.advance(n);
                return Poll::Ready(Ok(()));
            }
            if this.eof {
                // A partial head at EOF is handed over as is; hyper reports it.
                if !this.pending.is_empty() {
                    let rest = this.pending.split();
                    this.ready.extend_from_slice(&rest);
                    continue;
                }
                return Poll::Ready(Ok(()));
            }
            let mut scratch = [0u8; 16 * 1024];
            let mut scratch_buf = ReadBuf::new(&mut scratch);
            match Pin::new(&mut this.inner).poll_read(cx, &mut scratch_buf) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Err(error)) => return Poll::Ready(Err(error)),
                Poll::Ready(Ok(())) => {
                    let filled = scratch_buf.filled();
                    if filled.is_empty() {
                        this.eof = true;
                    } else {
                        this.pending.extend_from_slice(filled);
                        this.process()?;
                    }
                }
            }
        }
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for FramingGuard<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(head: &str, expected: Result<BodyFraming, Violation>) {
        let mut headers = [httparse::EMPTY_HEADER; 32];
        let mut request = httparse::Request::new(&mut headers);
        let parsed = request.parse(head.as_bytes()).unwrap();
        assert!(parsed.is_complete());
        assert_eq!(check_headers(request.headers), expected, "head: {head:?}");
    }

    #[test]
    fn framing_rules() {
        use BodyFraming::*;
        use Violation::*;
        check("GET / HTTP/1.1\r\nHost: x\r\n\r\n", Ok(Length(0)));
        check(
            "POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\n",
            Ok(Length(5)),
        );
        check(
            "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",
            Ok(Chunked),
        );
        check(
            "POST / HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
            Err(LengthAndTransferEncoding),
        );
        check(
            "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n",
            Err(LengthAndTransferEncoding),
        );
        check(
            "POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n",
            Err(DuplicateContentLength),
        );
        check(
            "POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
            Err(DuplicateContentLength),
        );
        check(
            "POST / HTTP/1.1\r\nContent-Length: 5, 5\r\n\r\n",
            Err(DuplicateContentLength),
        );
        check(
            "POST / HTTP/1.1\r\nContent-Length: +5\r\n\r\n",
            Err(InvalidContentLength),
        );
        check(
            "POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
            Err(UnsupportedTransferEncoding),
        );
        check(
            "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
            Err(UnsupportedTransferEncoding),
        );
    }

    #[tokio::test]
    async fn marks_bad_heads_and_passes_good_ones_with_their_bodies() {
        use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
        let (mut client, server) = tokio::io::duplex(1024);
        let input = b"POST /a HTTP/1.1\r\nContent-Length: 4\r\n\r\nGET GET /b HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n";
        client.write_all(input).await.unwrap();
        drop(client);
        let mut guard = FramingGuard::new(server);
        let mut out = Vec::new();
        guard.read_to_end(&mut out).await.unwrap();
        let text = String::from_utf8(out).unwrap();
        // The first body ("GET ") is not mistaken for a head; the second head is marked.
        assert!(text.starts_with("POST /a HTTP/1.1\r\nContent-Length: 4\r\n\r\nGET GET /b"));
        assert!(text.contains(
            "x-blastdoor-framing-violation: content-length-and-transfer-encoding\r\n\r\n0\r\n"
        ));
    }
}
