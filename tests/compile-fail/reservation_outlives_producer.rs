// expect: E0597
// A slot kept after its producer (interrupts back on, the lock released).
fn case(chan: &relay_rs::Channel<Global>) {
    let slot = {
        let Some(mut p) = chan.producer() else { return };
        p.reserve(8)
    };
    drop(slot);
}
