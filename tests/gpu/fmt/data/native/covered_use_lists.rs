use std::collections::{BTreeMap, BTreeSet, BinaryHeap, HashMap, HashSet, LinkedList, VecDeque, hash_map};

pub(crate) use crate::foo::bar::baz::{aaaaaaaaaa, bbbbbbbbbb, cccccccccc, dddddddddd, eeeeeeeeee, ffffffffff, gggggggggg, hhhhhhhhhhhhhhhhhhhhhhhh, iiiiiiiii};

use x::{aaaaaaaaaa, bbbbbbbbbb, cccccccccc, dddddddddd, eeeeeeeeee, ffffffffff, gggggggggg, hhhhhh};

use x::{aaaaaaaaaa, bbbbbbbbbb, cccccccccc, dddddddddd, eeeeeeeeee, ffffffffff, gggggggggg, hhhhhhh};

use top::{a::{b, c}, d, e::f, g::*, self};

use top::{a::{self, c}, d, e, f::{g, h}, i::j, k};

use top::{x::{aaaaaaaaaa, bbbbbbbbbb, cccccccccc, dddddddddd, eeeeeeeeee, ffffffffff, hhhhhhhhhhhhhhhhhhhhhhh, qqqqqqqqqqqqqqq}, y::{a, b}, Zed};

use top::{x::{aaaaaaaaaa, bbbbbbbbbb, cccccccccc, dddddddddd, eeeeeeeeee, ffffffffff, hhhhhhhhhhhhhhhh}, y, Zed};

use top::{x::{aaaaaaaaaa, bbbbbbbbbb, cccccccccc, dddddddddd, eeeeeeeeee, ffffffffff, hhhhhhhhhhhhhhhhh}, y, Zed};

fn in_a_block() {
    use top::{a::{b, c}, d};
    use x::{aaaaaaaaaa, bbbbbbbbbb, cccccccccc, dddddddddd, eeeeeeeeee, ffffffffff, gggggggggg, hhhhhh};
}
