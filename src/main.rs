//! The `kafka-sim` command line.

fn main() {}
