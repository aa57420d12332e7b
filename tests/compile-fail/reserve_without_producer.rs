// expect: E0599
// There is no reservation without a producer: a global channel's writers
// cannot share its buffer unserialised (the lock is the producer's).
fn case(chan: &relay_rs::Channel<Global>) {
    let _ = chan.reserve(8);
}
