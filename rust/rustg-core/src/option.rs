//! `Option`: what `for` loops and `Iterator::next` are made of.

use crate::ops::FnOnce;

#[lang = "Option"]
#[derive(Clone, Copy, PartialEq)]
pub enum Option<T> {
    #[lang = "None"]
    None,
    #[lang = "Some"]
    Some(T),
}

pub use Option::{None, Some};

impl<T> Option<T> {
    #[inline(always)]
    pub const fn is_some(&self) -> bool {
        match self {
            Some(_) => true,
            None => false,
        }
    }

    #[inline(always)]
    pub const fn is_none(&self) -> bool {
        !self.is_some()
    }

    /// The value; traps on `None` (the host panics).
    #[inline(always)]
    pub fn unwrap(self) -> T {
        match self {
            Some(v) => v,
            None => crate::panicking::panic_trap(),
        }
    }

    /// The value; traps on `None`. The message is discarded on the device.
    #[inline(always)]
    pub fn expect(self, _msg: &str) -> T {
        self.unwrap()
    }

    #[inline(always)]
    pub fn unwrap_or(self, default: T) -> T {
        match self {
            Some(v) => v,
            None => default,
        }
    }

    #[inline(always)]
    pub fn unwrap_or_else<F: FnOnce() -> T>(self, f: F) -> T {
        match self {
            Some(v) => v,
            None => f(),
        }
    }

    #[inline(always)]
    pub fn map<U, F: FnOnce(T) -> U>(self, f: F) -> Option<U> {
        match self {
            Some(v) => Some(f(v)),
            None => None,
        }
    }

    #[inline(always)]
    pub fn and_then<U, F: FnOnce(T) -> Option<U>>(self, f: F) -> Option<U> {
        match self {
            Some(v) => f(v),
            None => None,
        }
    }

    #[inline(always)]
    pub fn filter<P: FnOnce(&T) -> bool>(self, predicate: P) -> Option<T> {
        match self {
            Some(v) => {
                if predicate(&v) {
                    Some(v)
                } else {
                    None
                }
            }
            None => None,
        }
    }

    #[inline(always)]
    pub fn or(self, other: Option<T>) -> Option<T> {
        match self {
            Some(v) => Some(v),
            None => other,
        }
    }

    #[inline(always)]
    pub const fn as_ref(&self) -> Option<&T> {
        match self {
            Some(v) => Some(v),
            None => None,
        }
    }

    #[inline(always)]
    pub fn as_mut(&mut self) -> Option<&mut T> {
        match self {
            Some(v) => Some(v),
            None => None,
        }
    }

    #[inline(always)]
    pub fn take(&mut self) -> Option<T>
    where
        T: crate::marker::Copy,
    {
        let taken = *self;
        *self = None;
        taken
    }
}
