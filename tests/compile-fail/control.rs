// expect: ok
// The harness builds a correct client: the failures below are the borrow
// checker's, not the harness'.
fn case(chan: &relay_rs::Channel<Global>) {
    chan.write(b"one");
    if let Some(mut p) = chan.producer() {
        if let Some(mut slot) = p.reserve(8) {
            slot[0] = 1;
        }
        if let Some(mut slot) = p.reserve(8) {
            slot[0] = 2;
        };
        p.write(b"two");
    }
    need_send(chan);
}
