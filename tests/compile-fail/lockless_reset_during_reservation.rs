// expect: E0502
// A reset while a lockless reservation lives would leave its commit for a
// ring that no longer holds it: the reservation borrows the channel.
struct Lockless;

impl relay_rs::Callbacks for Lockless {
    type Data = ();
    const LOCKLESS: bool = true;
}

fn case(_chan: &relay_rs::Channel<Global>) {
    if let Ok(mut c) = relay_rs::Channel::<Lockless>::open(None, 4096, 4, ()) {
        let r = c.reserve(8);
        c.reset();
        drop(r);
    }
}
