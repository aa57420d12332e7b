// expect: E0277
// Nor can a reservation.
fn case(chan: &relay_rs::Channel<Global>) {
    if let Some(mut p) = chan.producer() {
        need_send(p.reserve(8));
    }
}
