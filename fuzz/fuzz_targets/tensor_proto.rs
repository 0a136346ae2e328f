//! `tensor_proto`: `decode_tensor_proto` on the bytes (a serialized `TensorProto`); a tensor that
//! decodes is read in full and must round-trip: `encode_tensor_proto` then decoding again gives the
//! same dtype, shape and value bytes. Only `Ok`/`Err` may come out.
#![no_main]

#[path = "common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;
use slicestream::io::tensor_proto::{decode_tensor_proto, encode_tensor_proto};

fuzz_target!(|data: &[u8]| {
    common::limit_allocations();
    if let Ok(t) = decode_tensor_proto(data) {
        common::touch_tensor(&t);
        // A few bytes can splat into a tensor of a GiB (as in TensorFlow); the round trip would copy
        // it twice more and go over the RSS limit on its own, so it is done for tensors up to 64 MiB.
        if t.nbytes() > 64 << 20 {
            return;
        }
        let bytes = encode_tensor_proto(&t);
        let again = decode_tensor_proto(&bytes).expect("an encoded tensor decodes");
        assert_eq!(
            common::tensor_bits(&again),
            common::tensor_bits(&t),
            "TensorProto round trip"
        );
    }
});
