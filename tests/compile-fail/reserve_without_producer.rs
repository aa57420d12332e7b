// expect: E0080
// There is no reservation without a producer unless the channel is
// lockless: a global channel's writers cannot share its buffer
// unserialised (the lock is the producer's). Channel::reserve asserts
// Callbacks::LOCKLESS at build time.
fn case(chan: &relay_rs::Channel<Global>) {
    let _ = chan.reserve(8);
}
