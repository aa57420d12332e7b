// expect: ok
// A lockless channel needs no producer: any number of live reservations,
// with writes among them, each committed when it drops.
struct Lockless;

impl relay_rs::Callbacks for Lockless {
    type Data = ();
    const LOCKLESS: bool = true;
}

fn case(_chan: &relay_rs::Channel<Global>) {
    if let Ok(c) = relay_rs::Channel::<Lockless>::open(None, 4096, 4, ()) {
        let a = c.reserve(8);
        c.write(b"between");
        if let (Some(mut a), Some(mut b)) = (a, c.reserve(8)) {
            a[0] = 1;
            b[0] = 2;
        }
    }
}
