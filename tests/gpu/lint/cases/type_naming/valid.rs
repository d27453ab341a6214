struct Point2d { x: f32 }
enum Color { Red }
type Id = u32;
trait Shape {}
