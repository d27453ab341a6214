struct point_2d { //~
    x: f32,
}
enum color { Red } //~
