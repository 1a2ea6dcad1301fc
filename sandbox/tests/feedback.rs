//! The feedback service: the tuples once, to the first client, then nothing.

mod common;

use apns::protocol::feedback::{parse_all, Tuple};
use common::*;

#[test]
fn feedback_sends_the_tuples_once_then_closes() {
    let dir = temp_dir("feedback");
    let file = dir.join("feedback.txt");
    let a = token(0xfa);
    std::fs::write(
        &file,
        format!("1700000000 {}\n1700000001 0102 0304\n", hex::encode(a)),
    )
    .unwrap();
    let sandbox = Sandbox::start(&["--feedback", file.to_str().unwrap()]);

    // A refused certificate does not use up the list.
    if let Ok(mut c) = try_connect(
        sandbox.feedback,
        config("other-client.pem", "ca.pem", false),
    ) {
        assert!(read_to_end(&mut c).is_err());
    }

    let mut client = sandbox.connect_feedback("client.pem");
    let bytes = read_to_end(&mut client).unwrap();
    let (tuples, trailing) = parse_all(&bytes);
    assert_eq!(trailing, 0);
    assert_eq!(
        tuples,
        [
            Tuple {
                timestamp: 1_700_000_000,
                token: a.to_vec()
            },
            Tuple {
                timestamp: 1_700_000_001,
                token: vec![1, 2, 3, 4]
            },
        ]
    );

    let mut again = sandbox.connect_feedback("client.pem");
    assert_eq!(read_to_end(&mut again).unwrap(), b"");
}
