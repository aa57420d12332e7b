// expect: E0499
// Two live reservations of one producer: the second could expose or
// overlap the first.
fn case(chan: &relay_rs::Channel<Global>) {
    if let Some(mut p) = chan.producer() {
        let a = p.reserve(8);
        let b = p.reserve(8);
        drop((a, b));
    }
}
