// expect: E0277
// A producer is about this CPU: it cannot go to another thread.
fn case(chan: &relay_rs::Channel<Global>) {
    need_send(chan.producer());
}
