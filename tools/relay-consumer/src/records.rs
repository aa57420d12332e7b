// SPDX-License-Identifier: GPL-2.0

//! Record framing: cutting the byte stream a consumer yields back into the
//! records the kernel client wrote. relay channels carry bytes, not
//! records, but a record never straddles two sub-buffers (the producer pads
//! the tail of a sub-buffer instead, and every mode leaves the padding
//! out), so the stream of one buffer is its records end to end and only the
//! caller's framing, a fixed size or a length read from a record's header,
//! is needed to split it again.
//!
//! A consumer that loses data mid-sub-buffer cannot be reframed this way:
//! that happens only to `read()` or copying `splice()` consumers of an
//! overwrite-mode channel that the producer laps (the stats file's
//! `overwritten_partial`). mmap consumers lose whole sub-buffers, so their
//! records stay aligned.

#![forbid(unsafe_code)]

/// How long the record at the head of a buffer's stream is.
///
/// Implemented by [`FixedSize`] and by every `FnMut(&[u8]) -> Option<usize>`
/// closure (write its argument's type, `|head: &[u8]| ...`: Rust does not
/// infer it through the trait).
///
/// The framing trusts its answers: a length longer than what will ever
/// arrive makes the record wait (its bytes stay in the records' pending
/// bytes), and there is no resynchronisation. A client that may meet a
/// damaged header should bound the length itself, e.g. by the channel's
/// sub-buffer size (no record is longer: records never straddle
/// sub-buffers) and the header's own checks.
pub trait Framing {
    /// The length of the record that `head` begins with, `head` being every
    /// byte not yet framed (at least one), or `None` if more bytes are
    /// needed to tell. The length must not be 0.
    fn record_len(&mut self, head: &[u8]) -> Option<usize>;
}

/// Records of one fixed size.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FixedSize(pub usize);

impl Framing for FixedSize {
    fn record_len(&mut self, _head: &[u8]) -> Option<usize> {
        Some(self.0)
    }
}

impl<F: FnMut(&[u8]) -> Option<usize>> Framing for F {
    fn record_len(&mut self, head: &[u8]) -> Option<usize> {
        self(head)
    }
}

/// Splits chunks of one buffer's stream into records: [`Records::push`]
/// the chunks in order, take the complete records with
/// [`Records::next_record`].
///
/// ```
/// use relay_consumer::{FixedSize, Records};
///
/// let mut r = Records::new(FixedSize(4));
/// r.push(b"abcdef");
/// assert_eq!(r.next_record().as_deref(), Some(&b"abcd"[..]));
/// assert_eq!(r.next_record(), None); // "ef" waits for the rest
/// r.push(b"gh");
/// assert_eq!(r.next_record().as_deref(), Some(&b"efgh"[..]));
/// ```
#[derive(Debug)]
pub struct Records<F> {
    framing: F,
    pending: Vec<u8>,
    start: usize,
}

impl<F: Framing> Records<F> {
    /// A splitter with no bytes yet.
    pub fn new(framing: F) -> Self {
        Records {
            framing,
            pending: Vec::new(),
            start: 0,
        }
    }

    /// Appends the next chunk of the stream.
    pub fn push(&mut self, chunk: &[u8]) {
        if self.start > 0 && self.start == self.pending.len() {
            self.pending.clear();
            self.start = 0;
        }
        self.pending.extend_from_slice(chunk);
    }

    /// The next complete record, or `None` until more bytes are pushed.
    ///
    /// # Panics
    ///
    /// If the framing says a record is 0 bytes long.
    pub fn next_record(&mut self) -> Option<Vec<u8>> {
        let head = &self.pending[self.start..];
        if head.is_empty() {
            return None;
        }
        let len = self.framing.record_len(head)?;
        assert!(len > 0, "relay-consumer: the framing gave a 0-byte record");
        if len > head.len() {
            return None;
        }
        let record = head[..len].to_vec();
        self.start += len;
        // Keep the unframed tail at the front once most of it is framed,
        // so that the buffer does not grow with the stream.
        if self.start > self.pending.len() / 2 {
            self.pending.drain(..self.start);
            self.start = 0;
        }
        Some(record)
    }

    /// The bytes pushed but not yet returned as a record: at the end of
    /// the stream, a torn last record (none if the client wrote whole
    /// records and nothing was lost).
    pub fn pending(&self) -> &[u8] {
        &self.pending[self.start..]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_size_across_chunks() {
        let mut r = Records::new(FixedSize(3));
        let mut out = Vec::new();
        for c in [&b"ab"[..], b"cdefg", b"", b"hi", b"j"] {
            r.push(c);
            while let Some(rec) = r.next_record() {
                out.push(rec);
            }
        }
        assert_eq!(out, [b"abc", b"def", b"ghi"]);
        assert_eq!(r.pending(), b"j");
    }

    #[test]
    fn length_from_a_header() {
        // One length byte, then that many bytes of payload.
        let mut r = Records::new(|h: &[u8]| Some(1 + h[0] as usize));
        r.push(&[2, b'x', b'y', 0, 3, b'a']);
        assert_eq!(r.next_record().unwrap(), [2, b'x', b'y']);
        assert_eq!(r.next_record().unwrap(), [0]);
        assert_eq!(r.next_record(), None);
        r.push(b"bc");
        assert_eq!(r.next_record().unwrap(), [3, b'a', b'b', b'c']);
        assert_eq!(r.next_record(), None);
        assert!(r.pending().is_empty());
    }

    #[test]
    fn header_itself_split() {
        // A little-endian u16 length that counts itself.
        let mut r = Records::new(|h: &[u8]| {
            (h.len() >= 2).then(|| u16::from_le_bytes([h[0], h[1]]) as usize)
        });
        r.push(&[5]);
        assert_eq!(r.next_record(), None);
        r.push(&[0, 1, 2, 3, 4, 0]);
        assert_eq!(r.next_record().unwrap(), [5, 0, 1, 2, 3]);
        assert_eq!(r.pending(), [4, 0]);
    }

    #[test]
    #[should_panic(expected = "0-byte record")]
    fn zero_length_panics() {
        let mut r = Records::new(FixedSize(0));
        r.push(b"a");
        r.next_record();
    }
}
