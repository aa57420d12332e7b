// SPDX-License-Identifier: GPL-2.0

//! `module!` as the kernel spells it: 6.12 takes `author: "..."`, 7.3
//! `authors: ["..."]`. Stands in for nothing upstream: it only picks the
//! spelling.

/// `kernel::prelude::module!` with one author, spelled for this kernel.
macro_rules! module_for_kernel {
    (
        type: $type:tt,
        name: $name:tt,
        author: $author:tt,
        description: $description:tt,
        license: $license:tt,
    ) => {
        #[cfg(relay_rs_kernel = "6.12")]
        kernel::prelude::module! {
            type: $type,
            name: $name,
            author: $author,
            description: $description,
            license: $license,
        }
        #[cfg(relay_rs_kernel = "7.3")]
        kernel::prelude::module! {
            type: $type,
            name: $name,
            authors: [$author],
            description: $description,
            license: $license,
        }
    };
}
pub(crate) use module_for_kernel;
