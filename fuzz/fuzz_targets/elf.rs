//! ELF images: loaded or refused, and a loaded guest runs (bounded) without a host panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(mut vm) = poie::vm::Vm::new(data, b"5 1".to_vec()) {
        let _ = vm.run(&mut poie::trace::NullSink, 100_000);
    }
});
