//! `Iterator` and `IntoIterator`: enough for `for i in a..b`, `for i in (a..b).step_by(s)` (the
//! grid-stride loop), `.rev()` and `.enumerate()` over ranges.

use crate::marker::Sized;
use crate::ops::{Range, RangeInclusive};
use crate::option::Option::{self, None, Some};

#[lang = "iterator"]
#[must_use = "iterators are lazy and do nothing unless consumed"]
pub trait Iterator {
    type Item;

    #[lang = "next"]
    fn next(&mut self) -> Option<Self::Item>;

    /// The `n`th next element. Ranges override this with O(1) arithmetic, which is what makes a
    /// grid-stride `step_by` loop cost one add per iteration on the device.
    #[inline(always)]
    fn nth(&mut self, n: usize) -> Option<Self::Item> {
        let mut left = n;
        while left > 0 {
            if self.next().is_none() {
                return None;
            }
            left -= 1;
        }
        self.next()
    }

    /// Every `step`th element, starting with the first. `step` must not be zero (traps).
    #[inline(always)]
    fn step_by(self, step: usize) -> StepBy<Self>
    where
        Self: Sized,
    {
        if step == 0 {
            crate::panicking::panic_trap();
        }
        StepBy {
            iter: self,
            step_minus_one: step - 1,
            first_take: true,
        }
    }

    /// Pairs each element with its position.
    #[inline(always)]
    fn enumerate(self) -> Enumerate<Self>
    where
        Self: Sized,
    {
        Enumerate {
            iter: self,
            count: 0,
        }
    }

    /// The elements in reverse order.
    #[inline(always)]
    fn rev(self) -> Rev<Self>
    where
        Self: Sized + DoubleEndedIterator,
    {
        Rev { iter: self }
    }
}

pub trait DoubleEndedIterator: Iterator {
    fn next_back(&mut self) -> Option<Self::Item>;
}

pub trait IntoIterator {
    type Item;
    type IntoIter: Iterator<Item = Self::Item>;

    #[lang = "into_iter"]
    fn into_iter(self) -> Self::IntoIter;
}

impl<I: Iterator> IntoIterator for I {
    type Item = I::Item;
    type IntoIter = I;

    #[inline(always)]
    fn into_iter(self) -> I {
        self
    }
}

#[derive(Clone, Copy)]
pub struct StepBy<I> {
    iter: I,
    step_minus_one: usize,
    first_take: bool,
}

impl<I: Iterator> Iterator for StepBy<I> {
    type Item = I::Item;

    #[inline(always)]
    fn next(&mut self) -> Option<I::Item> {
        if self.first_take {
            self.first_take = false;
            self.iter.next()
        } else {
            self.iter.nth(self.step_minus_one)
        }
    }
}

#[derive(Clone, Copy)]
pub struct Enumerate<I> {
    iter: I,
    count: usize,
}

impl<I: Iterator> Iterator for Enumerate<I> {
    type Item = (usize, I::Item);

    #[inline(always)]
    fn next(&mut self) -> Option<(usize, I::Item)> {
        match self.iter.next() {
            Some(v) => {
                let i = self.count;
                self.count += 1;
                Some((i, v))
            }
            None => None,
        }
    }
}

#[derive(Clone, Copy)]
pub struct Rev<I> {
    iter: I,
}

impl<I: DoubleEndedIterator> Iterator for Rev<I> {
    type Item = I::Item;

    #[inline(always)]
    fn next(&mut self) -> Option<I::Item> {
        self.iter.next_back()
    }
}

macro_rules! range_iter {
    ($($t:ty => $u:ty),*) => {$(
        impl Iterator for Range<$t> {
            type Item = $t;

            #[inline(always)]
            fn next(&mut self) -> Option<$t> {
                if self.start < self.end {
                    let v = self.start;
                    self.start = v + 1;
                    Some(v)
                } else {
                    None
                }
            }

            #[inline(always)]
            fn nth(&mut self, n: usize) -> Option<$t> {
                if self.start < self.end {
                    // Distance in the unsigned type of the same width: cannot overflow.
                    let len = (self.end as $u).wrapping_sub(self.start as $u);
                    if (n as u64) < (len as u64) {
                        let v = (self.start as $u).wrapping_add(n as $u) as $t;
                        self.start = v + 1;
                        return Some(v);
                    }
                }
                self.start = self.end;
                None
            }
        }

        impl DoubleEndedIterator for Range<$t> {
            #[inline(always)]
            fn next_back(&mut self) -> Option<$t> {
                if self.start < self.end {
                    self.end = self.end - 1;
                    Some(self.end)
                } else {
                    None
                }
            }
        }

        impl Iterator for RangeInclusive<$t> {
            type Item = $t;

            #[inline(always)]
            fn next(&mut self) -> Option<$t> {
                if self.exhausted || self.start > self.end {
                    return None;
                }
                let v = self.start;
                if v < self.end {
                    self.start = v + 1;
                } else {
                    self.exhausted = true;
                }
                Some(v)
            }
        }

        impl DoubleEndedIterator for RangeInclusive<$t> {
            #[inline(always)]
            fn next_back(&mut self) -> Option<$t> {
                if self.exhausted || self.start > self.end {
                    return None;
                }
                let v = self.end;
                if self.start < v {
                    self.end = v - 1;
                } else {
                    self.exhausted = true;
                }
                Some(v)
            }
        }
    )*};
}
range_iter! {
    u8 => u8, u16 => u16, u32 => u32, u64 => u64, usize => usize,
    i8 => u8, i16 => u16, i32 => u32, i64 => u64, isize => usize
}
