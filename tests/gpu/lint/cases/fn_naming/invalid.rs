fn computeSum(x: u32) -> u32 { //~
    x
}
mod MyModule {} //~
