/// A thing.
#[derive(Debug, Clone, PartialEq)]
pub struct Point<T: Copy> {
    pub x: T,
    /// why
    y: T,

    z: Vec<Option<&'static str>>,
}
struct Unit;
pub struct Pair(pub u32, String);
#[repr(u8)]
enum Color {
    Red = 1,
    Green,
    Blue(u8, u8),
    Other { r: u8, g: u8 },
}
pub enum Big {
    Small {
        a: u8,
    },
    Large {
        first: u32,
        second: u32,
        third: u32,
        fourth: u32,
    },
}
pub const MAX: usize = 1 << 20;
static NAME: &str = "x";
pub type Result<T> = std::result::Result<T, Error>;
#[cfg(all(unix, not(target_os = "macos")))]
const FLAGS: u32 = libc::O_RDONLY | libc::O_CLOEXEC;
union U {
    a: u32,
    b: f32,
}

#[cfg(any(target_os = "android", target_os = "linux",))]
fn trailing_in_cfg() {}
#[derive(Debug, Clone)]
struct TrailingDerive;
#[cfg_attr(feature = "x", allow(dead_code,))]
const TRAILING_NESTED: u8 = 1;
