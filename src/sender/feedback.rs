//! Reading the feedback service to its end.
//!
//! The service needs no request: on connect it streams (time, token) tuples and
//! closes. This module owns the reading loop (deadlines, end of stream, a cap on
//! what a misbehaving server can make us buffer); the tuple layout is
//! [`crate::protocol::feedback`]'s.

use std::io;
use std::time::{Duration, Instant};

use crate::error::{Error, IoError, IoFailure, Result, TimeoutError, Unfinished};
use crate::protocol::feedback::{parse_all, Tuple};
use crate::transport::{Connector, Interest, Link};

/// The most a feedback stream may hold (over three million tuples of 32-byte
/// tokens). A server that sends more is not a feedback service.
pub const MAX_FEEDBACK_BYTES: usize = 128 * 1024 * 1024;

/// Connects, reads everything the service sends until it closes the connection,
/// and parses it.
///
/// `timeout` bounds the connect and every wait for more bytes (as for every
/// blocking step of the crate), so a silent server fails with [`Error::Timeout`]
/// instead of hanging. Bytes left over after the last whole tuple mean the stream
/// was cut short: [`Error::Io`], naming how many.
pub fn read_all<C: Connector>(connector: &mut C, timeout: Duration) -> Result<Vec<Tuple>> {
    let mut link = connector.connect(Instant::now() + timeout)?;
    let mut received = Vec::new();
    let mut chunk = vec![0u8; 16 * 1024];
    loop {
        match link.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => {
                received.extend_from_slice(chunk.get(..n).unwrap_or_default());
                if received.len() > MAX_FEEDBACK_BYTES {
                    return Err(Error::Io(IoError {
                        peer: connector.describe(),
                        what: IoFailure::FeedbackTooLong {
                            limit: MAX_FEEDBACK_BYTES,
                        },
                    }));
                }
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                let ready = link
                    .wait(Interest::Read, Instant::now() + timeout)
                    .map_err(|e| read_error(connector, &e))?;
                if !ready {
                    return Err(Error::Timeout(TimeoutError {
                        peer: connector.describe(),
                        after: timeout,
                        what: Unfinished::FeedbackRead {
                            received: received.len(),
                        },
                    }));
                }
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            // Apple's service, like many servers, may close without a TLS close_notify.
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => break,
            Err(e) => return Err(read_error(connector, &e)),
        }
    }
    let (tuples, trailing) = parse_all(&received);
    if trailing > 0 {
        return Err(Error::Io(IoError {
            peer: connector.describe(),
            what: IoFailure::FeedbackCut {
                trailing,
                tuples: tuples.len(),
            },
        }));
    }
    Ok(tuples)
}

fn read_error<C: Connector>(connector: &C, e: &io::Error) -> Error {
    Error::Io(IoError {
        peer: connector.describe(),
        what: IoFailure::FeedbackRead(e.to_string()),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use std::collections::VecDeque;

    use super::*;

    /// What the fake link does on each `read`.
    enum Step {
        Data(Vec<u8>),
        WouldBlock,
        Fail(io::ErrorKind),
    }

    struct FakeLink {
        steps: VecDeque<Step>,
        /// What `wait` answers: `false` simulates a deadline that passed.
        ready: bool,
        waits: usize,
    }

    impl Link for FakeLink {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<bool> {
            Ok(true)
        }
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            match self.steps.pop_front() {
                None => Ok(0),
                Some(Step::Data(mut data)) => {
                    let n = data.len().min(buf.len());
                    buf[..n].copy_from_slice(&data[..n]);
                    if n < data.len() {
                        self.steps.push_front(Step::Data(data.split_off(n)));
                    }
                    Ok(n)
                }
                Some(Step::WouldBlock) => Err(io::ErrorKind::WouldBlock.into()),
                Some(Step::Fail(kind)) => Err(io::Error::new(kind, "scripted failure")),
            }
        }
        fn wait(&mut self, _interest: Interest, _deadline: Instant) -> io::Result<bool> {
            self.waits += 1;
            Ok(self.ready)
        }
    }

    struct FakeConnector {
        link: Option<FakeLink>,
    }

    impl Connector for FakeConnector {
        type Link = FakeLink;
        fn connect(&mut self, _deadline: Instant) -> Result<FakeLink> {
            self.link.take().ok_or_else(|| {
                Error::Connect(crate::error::ConnectError::Refused {
                    peer: "feedback.test:2196".into(),
                })
            })
        }
        fn describe(&self) -> String {
            "feedback.test:2196".into()
        }
    }

    fn connector(steps: Vec<Step>, ready: bool) -> FakeConnector {
        FakeConnector {
            link: Some(FakeLink {
                steps: steps.into(),
                ready,
                waits: 0,
            }),
        }
    }

    fn tuples() -> (Vec<Tuple>, Vec<u8>) {
        let list = vec![
            Tuple {
                timestamp: 1_700_000_000,
                token: vec![0xab; 32],
            },
            Tuple {
                timestamp: 7,
                token: vec![1, 2, 3, 4],
            },
        ];
        let mut bytes = Vec::new();
        for t in &list {
            t.encode(&mut bytes);
        }
        (list, bytes)
    }

    #[test]
    fn reads_tuples_split_across_reads_and_waits() {
        let (want, bytes) = tuples();
        let (a, b) = bytes.split_at(5);
        let mut c = connector(
            vec![
                Step::WouldBlock,
                Step::Data(a.to_vec()),
                Step::WouldBlock,
                Step::Data(b.to_vec()),
            ],
            true,
        );
        assert_eq!(read_all(&mut c, Duration::from_secs(1)).unwrap(), want);
    }

    #[test]
    fn an_empty_stream_is_an_empty_list() {
        let mut c = connector(vec![], true);
        assert_eq!(read_all(&mut c, Duration::from_secs(1)).unwrap(), vec![]);
    }

    #[test]
    fn eof_without_close_notify_ends_the_stream() {
        let (want, bytes) = tuples();
        let mut c = connector(
            vec![Step::Data(bytes), Step::Fail(io::ErrorKind::UnexpectedEof)],
            true,
        );
        assert_eq!(read_all(&mut c, Duration::from_secs(1)).unwrap(), want);
    }

    #[test]
    fn trailing_bytes_are_an_error_naming_them() {
        let (_, mut bytes) = tuples();
        bytes.extend_from_slice(&[0, 0, 0]);
        let mut c = connector(vec![Step::Data(bytes)], true);
        let err = read_all(&mut c, Duration::from_secs(1)).unwrap_err();
        assert!(matches!(err, Error::Io(_)), "{err:?}");
        let text = err.to_string();
        assert!(
            text.contains("3 trailing bytes after 2 whole tuples"),
            "{text}"
        );
        assert!(text.contains("feedback.test:2196"), "{text}");
    }

    #[test]
    fn a_silent_server_times_out() {
        let mut c = connector(vec![Step::WouldBlock], false);
        let err = read_all(&mut c, Duration::from_millis(50)).unwrap_err();
        assert!(matches!(err, Error::Timeout(_)), "{err:?}");
        assert!(err.to_string().contains("sent nothing"), "{err}");
    }

    #[test]
    fn read_errors_and_connect_errors_are_reported() {
        let mut c = connector(vec![Step::Fail(io::ErrorKind::ConnectionReset)], true);
        let err = read_all(&mut c, Duration::from_secs(1)).unwrap_err();
        assert!(err
            .to_string()
            .contains("reading from the feedback service at feedback.test:2196 failed"));
        let mut gone = FakeConnector { link: None };
        assert!(matches!(
            read_all(&mut gone, Duration::from_secs(1)),
            Err(Error::Connect(_))
        ));
    }

    #[test]
    fn waits_only_when_nothing_has_arrived() {
        let (_, bytes) = tuples();
        let mut c = connector(
            vec![Step::Data(bytes), Step::WouldBlock, Step::WouldBlock],
            true,
        );
        read_all(&mut c, Duration::from_secs(1)).unwrap();
    }
}
