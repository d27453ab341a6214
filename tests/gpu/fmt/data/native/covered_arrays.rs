const LENGTH_ORDER: [u8; 30] = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15, 1000000000, 22, 33, 44, 55, 66, 77, 88, 99, 11, 22];

pub static NAMES: &[&str] = &["aaaaaaaaaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbbbbbbbbbbbbb", "cccccccccccccccccccccccccccc"];

const WIDE: [u32; 5] = [0x12345678901, 0x12345678902, 0x12345678903, 0x12345678904, 0x12345678905];

const ONE_PACKED_LINE: [u32; 24] = [11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 999];

const ONE_PACKED_LINE_OVER: [u32; 24] = [11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 9999];

struct S;

impl S {
    const TABLE: [(u8, u8); 4] = [(1, 2), (3, 4), (5, 6), (7, 8), (9, 10), (11, 12), (13, 14), (15, 16)];
}

fn arrays() {
    let x = [aaaaaaaaaaaaa, bbbbbbbbbbbbbbbbb, cccccccccccccccccccc, ddddddddddddddddddddddd];
    let simple = [-1, x.y, *z, &q, 'c' as _, a?, b[1], true, "abc", foo::<u8>, 1111111111, 2222222222, 3333, 4];
    let binary = [1 + 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23];
    let awaited = [x.await, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22];
    let two_segments = [a::b, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21];
    let v = vec![16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15, 1000000000, 22, 33, 44, 55, 66];
    let w = vec![aaaaaaaaaaaaaaaaaaaaaa, bbbbbbbbbbbbbbbbbbbbbbbbbb, cccccccccccccccccccccccccccc,];
    let r: &[u8] = &[11, 22, 33, 44, 55, 66, 77, 88, 99, 11, 22, 33, 44, 55, 66, 77, 88, 99, 11, 22, 33];
    foo(&[aaaaaaaaaaaaaaaaaaaaaa, bbbbbbbbbbbbbbbbbbbbbbbbbb, cccccccccccccccccccccccccccc]);
    let q = foo::bar(&[11, 22, 33, 44, 55, 66, 77, 88, 99, 11, 22, 33, 44, 55, 66, 77, 88, 99, 11, 22, 33, 111]);
}

fn tail_array() -> [u64; 3] {
    [aaaaaaaaaaaaaaaaaaaaaa, bbbbbbbbbbbbbbbbbbbbbbbbbb, cccccccccccccccccccccccccccc]
}

fn empty_bracket_macros() {
    let a = vec![  ];
    let b = foo![ ];
    let d = std::vec![];
    m![];
}
