// expect: E0499
// A write through the producer while its reservation is being filled.
fn case(chan: &relay_rs::Channel<Global>) {
    if let Some(mut p) = chan.producer() {
        let a = p.reserve(8);
        p.write(b"x");
        drop(a);
    }
}
