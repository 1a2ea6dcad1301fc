//! The feedback service's stream: `feedback::parse_all` and `Tuple::parse` on
//! arbitrary bytes. Whole tuples re-encode to the bytes they came from; what is
//! left is less than one tuple.
#![no_main]

use apns::protocol::feedback::{parse_all, Tuple};
use apns::protocol::Parsed;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (tuples, trailing) = parse_all(data);
    assert!(trailing <= data.len());
    let whole = data.len() - trailing;
    let mut again = Vec::with_capacity(whole);
    for t in &tuples {
        assert!(t.token.len() <= usize::from(u16::MAX));
        t.encode(&mut again);
    }
    assert_eq!(again.as_slice(), &data[..whole]);
    assert_eq!(Tuple::parse(&data[whole..]), Parsed::Partial);
    assert!(trailing < 6 + usize::from(u16::MAX));

    match Tuple::parse(data) {
        Parsed::Complete(t, used) => {
            assert_eq!(Some(&t), tuples.first());
            assert_eq!(used, 6 + t.token.len());
        }
        Parsed::Partial => assert!(tuples.is_empty()),
    }
});
