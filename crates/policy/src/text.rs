//! Byte offsets to code-point offsets.

/// Converts byte offsets of one text to code-point offsets, walking forward from the
/// previous answer so that ascending queries cost one pass over the text in total.
pub(crate) struct CharCounter<'a> {
    bytes: &'a [u8],
    ascii: bool,
    byte: usize,
    chars: usize,
}

impl<'a> CharCounter<'a> {
    pub(crate) fn new(text: &'a str) -> Self {
        CharCounter {
            bytes: text.as_bytes(),
            ascii: text.is_ascii(),
            byte: 0,
            chars: 0,
        }
    }

    /// The number of code points that start before byte `offset` (clamped to the text).
    pub(crate) fn chars_at(&mut self, offset: usize) -> usize {
        let offset = offset.min(self.bytes.len());
        if self.ascii {
            return offset;
        }
        if offset < self.byte {
            self.byte = 0;
            self.chars = 0;
        }
        let slice = self.bytes.get(self.byte..offset).unwrap_or_default();
        self.chars += slice.iter().filter(|b| (**b & 0xC0) != 0x80).count();
        self.byte = offset;
        self.chars
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_code_points_not_bytes() {
        let text = "José — 123";
        let mut counter = CharCounter::new(text);
        assert_eq!(counter.chars_at(text.find('1').unwrap()), 7);
        assert_eq!(counter.chars_at(text.len()), 10);
        assert_eq!(counter.chars_at(2), 2);
    }
}
