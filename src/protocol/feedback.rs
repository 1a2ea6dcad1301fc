//! The feedback service: tuples of (time, token) for devices that no longer
//! accept notifications from the app. The service sends them on connect and closes.

use super::Parsed;

/// One feedback entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tuple {
    /// Unix seconds when APNs found the app gone from the device.
    pub timestamp: u32,
    pub token: Vec<u8>,
}

impl Tuple {
    /// Appends the tuple's bytes: time u32, token length u16, token.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.timestamp.to_be_bytes());
        out.extend_from_slice(&(self.token.len() as u16).to_be_bytes());
        out.extend_from_slice(&self.token);
    }

    /// Parses one tuple from the start of `buf`.
    pub fn parse(buf: &[u8]) -> Parsed<Tuple> {
        let header = buf.get(0..6).and_then(|h| <[u8; 6]>::try_from(h).ok());
        let Some([t0, t1, t2, t3, l0, l1]) = header else {
            return Parsed::Partial;
        };
        let len = usize::from(u16::from_be_bytes([l0, l1]));
        let Some(token) = buf.get(6..6 + len) else {
            return Parsed::Partial;
        };
        Parsed::Complete(
            Tuple {
                timestamp: u32::from_be_bytes([t0, t1, t2, t3]),
                token: token.to_vec(),
            },
            6 + len,
        )
    }
}

/// Parses every whole tuple of a finished feedback stream. Trailing bytes that do
/// not make a whole tuple are returned as a count, for the caller to report.
pub fn parse_all(mut buf: &[u8]) -> (Vec<Tuple>, usize) {
    let mut tuples = Vec::new();
    while let Parsed::Complete(t, used) = Tuple::parse(buf) {
        tuples.push(t);
        buf = buf.get(used..).unwrap_or_default();
    }
    (tuples, buf.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_partial_and_trailing() {
        let a = Tuple {
            timestamp: 1_700_000_000,
            token: vec![0xaa; 32],
        };
        let b = Tuple {
            timestamp: 5,
            token: vec![1, 2, 3],
        };
        let mut bytes = Vec::new();
        a.encode(&mut bytes);
        b.encode(&mut bytes);
        assert_eq!(&bytes[..6], &[0x65, 0x53, 0xf1, 0x00, 0, 32]);
        for cut in 0..38 {
            assert_eq!(Tuple::parse(&bytes[..cut]), Parsed::Partial, "cut {cut}");
        }
        bytes.extend_from_slice(&[0, 0, 1]);
        assert_eq!(parse_all(&bytes), (vec![a, b], 3));
    }
}
