fn area() -> f32 {
    todo!() //~
}
fn volume() -> f32 { unimplemented!("later") } //~
