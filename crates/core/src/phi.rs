//! The [`Phi`] wrapper: protected health information that cannot be printed by accident.

use std::fmt;

use zeroize::Zeroize;

/// Protected health information.
///
/// `Debug` and `Display` print `[PHI]` and never the value, so a `Phi` inside a struct
/// that is logged, formatted into an error or attached to a tracing span stays hidden.
/// Reading the value takes a deliberate call to [`Phi::expose`]. The value is zeroed
/// when dropped. `Phi` implements neither `Serialize` nor `Display` of its content:
/// an API response must expose it on purpose.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Phi<T: Zeroize>(T);

impl<T: Zeroize> Phi<T> {
    /// Wraps a value that is PHI.
    pub fn new(value: T) -> Self {
        Self(value)
    }

    /// The value itself. Every caller of this is a place where PHI leaves its wrapper:
    /// keep them few, and never pass the result to a log or an error.
    pub fn expose(&self) -> &T {
        &self.0
    }

    /// Applies `f` to the value without unwrapping it.
    pub fn map<U: Zeroize>(&self, f: impl FnOnce(&T) -> U) -> Phi<U> {
        Phi(f(&self.0))
    }
}

impl<T: Zeroize> Drop for Phi<T> {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl<T: Zeroize> From<T> for Phi<T> {
    fn from(value: T) -> Self {
        Self(value)
    }
}

impl<T: Zeroize> fmt::Debug for Phi<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[PHI]")
    }
}

impl<T: Zeroize> fmt::Display for Phi<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[PHI]")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    #[allow(dead_code)]
    struct Patient {
        name: Phi<String>,
    }

    #[test]
    fn debug_and_display_never_show_the_value() {
        let p = Patient {
            name: Phi::new("Maria Lopez".to_owned()),
        };
        let shown = format!("{p:?} {} {:#?}", p.name, p);
        assert!(!shown.contains("Maria"), "{shown}");
        assert!(shown.contains("[PHI]"));
    }

    #[test]
    fn expose_returns_the_value() {
        let v = Phi::new(String::from("123-45-6789"));
        assert_eq!(v.expose(), "123-45-6789");
    }
}
